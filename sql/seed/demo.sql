-- Why: local development and the end-to-end tests need two tenants with one user each (owners,
-- with profiles), a WhatsApp number each (the Meta webhook files deliveries by it), and an old
-- processed webhook event for the retention job to purge. Safe to load
-- twice. Local data only. The attack fixture for tests is sql/tests/fixtures/tenants.sql.
insert into public.workspaces (id, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'Acme (tenant A)'),
  ('b0000000-0000-4000-8000-00000000000b', 'Globex (tenant B)')
on conflict (id) do nothing;

insert into public.memberships (workspace_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'aaaaaaaa-0000-4000-8000-000000000001', 'owner'),
  ('b0000000-0000-4000-8000-00000000000b', 'bbbbbbbb-0000-4000-8000-000000000002', 'owner')
on conflict do nothing;

insert into public.profiles (id, display_name) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'Ada (Acme)'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'Bob (Globex)')
on conflict (id) do nothing;

insert into public.notes (id, workspace_id, author_id, body) values
  ('a1000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
   'aaaaaaaa-0000-4000-8000-000000000001', 'Acme launch checklist'),
  ('a1000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
   'aaaaaaaa-0000-4000-8000-000000000001', 'Acme pricing draft'),
  ('b1000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-00000000000b',
   'bbbbbbbb-0000-4000-8000-000000000002', 'Globex secret roadmap')
on conflict (id) do nothing;

insert into public.messaging_channels (id, workspace_id, provider, phone_number_id, display_phone_number, created_by) values
  ('a2000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'meta', '200000000000001',
   '+1 555 0101', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('b2000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-00000000000b', 'meta', '200000000000002',
   '+1 555 0102', 'bbbbbbbb-0000-4000-8000-000000000002')
on conflict (id) do nothing;

insert into public.webhook_events (provider, event_id, event_type, payload, raw_body, status, received_at)
values ('paddle', 'evt_seeded0old0processed0event0', 'transaction.completed', '{}', '{}', 'processed',
        now() - interval '400 days')
on conflict (provider, event_id) do nothing;
