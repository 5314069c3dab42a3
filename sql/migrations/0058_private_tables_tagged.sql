-- Why: the API roles hold USAGE on schema `private` (the policies call its functions), so they
-- can name its tables, and the attack matrix attacks every table an API role can name. These
-- tables are the platform's own bookkeeping: no API role holds a grant on any of them, and only
-- SECURITY DEFINER functions read or write them. The tag says so, and the matrix proves it.
-- The strikes get the primary key every attacked table needs (the matrix addresses rows by it).
alter table private.input_guard_strikes add column if not exists id bigint generated always as identity primary key;
comment on table private.account_data_rules is $$Which rows are a user's, per table (0044): read by the export and the account purge only.
rls-matrix: service-only tenant=none fresh=reason$$;
comment on table private.account_deletions is $$Pending account deletions (0045), through request/cancel_account_deletion and the purge only.
rls-matrix: service-only tenant=none$$;
comment on table private.audit_pseudonym_key is $$The key of the audit log's user pseudonyms (0045); never leaves the database.
rls-matrix: service-only tenant=none fresh=secret$$;
comment on table private.budget_plan_by_billing_status is $$Which budget plan a billing status gets (0034), read by the budget functions only.
rls-matrix: service-only tenant=none$$;
comment on table private.budget_plan_limits is $$Each plan's limit per meter and period (0034), read by the budget functions only.
rls-matrix: service-only tenant=none$$;
comment on table private.budget_reservations is $$Open budget reservations (0034), through reserve_budget and settle_budget only.
rls-matrix: service-only tenant=workspace_id$$;
comment on table private.input_guard_strikes is $$The input guard's strikes per subject (0035): category and keyed hash, never the text.
rls-matrix: service-only tenant=none$$;
