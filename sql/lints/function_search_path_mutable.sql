-- Why: a function without a pinned search_path resolves unqualified names through the caller's
-- search_path, so a caller who can create an object earlier on that path (a table, an operator)
-- changes what the function does; for SECURITY DEFINER functions that is privilege escalation.
-- Scope: functions in the project's schemas ($2), not extension members, and in `auth` only the
-- helpers we created ourselves (on Supabase its auth admin owns them).
select 'function_search_path_mutable' as lint,
       format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as object,
       case when p.prosecdef then 'SECURITY DEFINER function' else 'function' end
         || ' without `set search_path`' as detail
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any ($2::text[])
   and p.prokind in ('f', 'p', 'w')
   and not exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search_path=%')
   and not (n.nspname = 'auth'
            and pg_catalog.pg_get_userbyid(p.proowner) in ('supabase_auth_admin', 'supabase_admin'))
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
