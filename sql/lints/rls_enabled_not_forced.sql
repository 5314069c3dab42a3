-- Why: a table's owner bypasses its policies unless row level security is FORCED. Our rule: every
-- table with RLS also forces it, so a definer function or a job running as the owner is held to
-- the same policies instead of silently seeing every tenant.
-- $2: the schemas the project owns; in `auth`, only tables we created (Supabase's own belong to
-- its auth admin, which we do not manage).
select 'rls_enabled_not_forced' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'row level security is enabled but not forced: its owner ' || pg_catalog.pg_get_userbyid(c.relowner)
         || ' bypasses every policy' as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname = any ($2::text[])
   and c.relrowsecurity
   and not c.relforcerowsecurity
   and not (n.nspname = 'auth'
            and pg_catalog.pg_get_userbyid(c.relowner) in ('supabase_auth_admin', 'supabase_admin'))
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
