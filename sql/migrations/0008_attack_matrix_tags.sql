-- Why: the attack matrix (shared/attack-matrix) attacks every table in a schema the API roles can
-- use, and it learns what each table allows from a tag in the table's comment, written here by the
-- schema, not from a list in the test. A table without a tag fails the matrix. These tags cover the
-- tables of 0004-0007 in one file; each tag belongs next to its table and will move there.
--
-- Tag grammar (one or more lines of the table comment; any other line is free text):
--   rls-matrix: tenant=<t> [rows=<col>:<value>] select=<who> insert=<who> update=<who>
--               delete=<who> truncate=<who> [fresh=<col>,…] [set=<col>]
--   rls-matrix: service-only tenant=<t>            (the same as all five commands = none)
-- <t>   which rows are the victim tenant's: `<col>` (rows whose <col> is the victim workspace id;
--       `id` on the tenant table itself), `user:<col>` (per-user rows: <col> is the victim owner's
--       user id), or `none` (platform-wide rows: every row is a victim).
-- <who> who may run the command on those rows: `none`, or a comma list of `anon`,
--       `authenticated` (any signed-in user), `member`, `admin`, `owner` (of the victim tenant),
--       `creator:<col>` (the user whose id is in <col> of the row), `share` (anon holding a valid
--       share-link token). Every command must be stated.
-- rows=<col>:<value>  this line covers only the rows whose <col>::text = <value>; with several
--       lines each names its rows, and every victim row must fall under exactly one line.
-- fresh=<col>,…  columns the insert copy gets new values in (default: primary-key and unique
--       columns that are neither foreign keys, the tenant column nor a creator column).
-- set=<col>  the column the update attempt sets to its own value (default: the first non-key
--       column `authenticated` may update).

comment on table public.workspaces is $$A tenant.
rls-matrix: tenant=id select=member insert=none update=none delete=none truncate=none$$;

comment on table public.memberships is $$Who belongs to which workspace, with which role.
rls-matrix: tenant=workspace_id select=member insert=none update=none delete=none truncate=none$$;

comment on table public.notes is $$A workspace's notes, written by their author.
rls-matrix: tenant=workspace_id select=member insert=creator:author_id update=creator:author_id delete=creator:author_id truncate=none$$;

comment on table public.webhook_events is $$Provider deliveries, stored once per event id.
rls-matrix: service-only tenant=none$$;

comment on table public.cron_runs is $$One row per scheduled job run.
rls-matrix: service-only tenant=none$$;
