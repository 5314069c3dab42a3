-- Why: a table in an exposed schema without row level security is served whole over the API to
-- every role that holds (or will one day be handed) a grant on it: RLS is our tenant backstop.
-- Every table in an exposed schema must enable it, whether or not an API role can reach it today.
-- $1: the schemas PostgREST exposes.
select 'rls_disabled_in_public' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'row level security is off; API roles that can select it now: ' || coalesce(nullif(
         concat_ws(', ',
           case when has_table_privilege('anon', c.oid, 'select') then 'anon' end,
           case when has_table_privilege('authenticated', c.oid, 'select') then 'authenticated' end), ''),
         'none') as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname = any ($1::text[])
   and not c.relrowsecurity
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
