-- Why: tenant budgets (0034) must refuse what would pass the limit, book what was settled and
-- release the rest, charge abandoned reservations in full, and let only members (or the service
-- role) spend; usage is the managers' to read. The input guard's strikes (0035) are each
-- subject's own.
\ir helpers/begin.psql
select plan(22);

-- The victim workspace is `active` in billing: the pro plan, ai limit 2,000,000 tokens a month,
-- 1,200 already spent (fixture).
select pg_temp.as_user('member');
select isnt(set_config('test.first', private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 1000)::text, true),
            null, 'member: reserves 1,000 ai tokens');
select is(private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 2000000 - 1200 - 1000 + 1),
          null, 'member: a reservation one token past the limit is refused');
select isnt(private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 2000000 - 1200 - 1000),
            null, 'member: exactly up to the limit is granted');
select is(private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 1),
          null, 'member: nothing past it');
select is(private.settle_budget(current_setting('test.first')::uuid, 300), 300::bigint,
          'settle books what was spent');
select is(private.settle_budget(current_setting('test.first')::uuid, 300), null,
          'a reservation settles once');
select isnt(private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 700),
            null, 'the released 700 can be reserved again');
select throws_ok($$select private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 0)$$,
                 '22023', null, 'a reservation is at least 1');
select throws_ok($$select private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'rockets', 1)$$,
                 '22023', null, 'an unknown meter is refused');

select pg_temp.as_user('attacker');
select throws_ok($$select private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 1)$$,
                 '42501', null, 'another tenant cannot spend the victim''s budget');
select pg_temp.as_user('removed');
select throws_ok($$select private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'sending', 1)$$,
                 '42501', null, 'a removed member cannot spend');
select pg_temp.as_anon();
select throws_ok($$select private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'ai', 1)$$,
                 '42501', null, 'anon cannot spend');

select pg_temp.as_user('owner');
select is((select spent from budget_usage where workspace_id = 'c0000000-0000-4000-8000-000000000001' and meter = 'ai'),
          1500::bigint, 'owner: reads 1,200 + 300 spent');
select is((select count(*) from private.budget_limits_for('c0000000-0000-4000-8000-000000000001')),
          4::bigint, 'owner: sees the plan''s four limits');
select pg_temp.as_user('member');
select is((select count(*) from budget_usage), 0::bigint, 'member: reads no usage');
select is((select count(*) from private.budget_limits_for('c0000000-0000-4000-8000-000000000001')),
          0::bigint, 'member: sees no limits');

-- An abandoned reservation (its isolate died) is charged in full when it expires.
select pg_temp.as_service_role();
select isnt(set_config('test.abandoned', private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'sending', 5)::text, true),
            null, 'service role: reserves for a live workspace');
reset role;
update private.budget_reservations set expires_at = now() - interval '1 second'
 where id = current_setting('test.abandoned')::uuid;
select pg_temp.as_service_role();
select isnt(private.reserve_budget('c0000000-0000-4000-8000-000000000001', 'sending', 1), null, 'a later reservation');
reset role;
select is((select spent from budget_usage where workspace_id = 'c0000000-0000-4000-8000-000000000001' and meter = 'sending'),
          5::bigint, 'the expired reservation was charged in full');

-- Strikes are the subject's own.
select pg_temp.as_user('member');
select is(cardinality(private.record_input_guard_strike('user:c1000000-0000-4000-8000-000000000003',
            'injection_override', repeat('a', 64), 3600)), 1, 'member: records a strike of their own');
select throws_ok($$select private.input_guard_strike_times('user:c1000000-0000-4000-8000-000000000001', 3600)$$,
                 '42501', null, 'member: cannot read another user''s strikes');
select pg_temp.as_service_role();
select is(cardinality(private.input_guard_strike_times('user:c1000000-0000-4000-8000-000000000003', 3600)), 1,
          'service role: reads any subject''s strikes');

select * from finish();
rollback;
