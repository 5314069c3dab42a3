-- Why: a SECURITY DEFINER function runs with its owner's rights (RLS bypassed for a superuser or
-- table owner); in an exposed schema PostgREST serves it at /rpc/<name> to every role that may
-- execute it. EXECUTE goes to PUBLIC by default, so anon and authenticated count through PUBLIC.
-- $1: the schemas PostgREST exposes. Helpers policies need live in `private`, never exposed.
select 'security_definer_function_executable' as lint,
       format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as object,
       'SECURITY DEFINER, served at /rpc/' || p.proname || ', executable by '
         || concat_ws(', ',
              case when has_function_privilege('anon', p.oid, 'execute') then 'anon' end,
              case when has_function_privilege('authenticated', p.oid, 'execute') then 'authenticated' end)
         || case when exists (select 1 from pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                               where a.grantee = 0 and a.privilege_type = 'EXECUTE')
                 then ' (through PUBLIC)' else '' end as detail
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any ($1::text[])
   and p.prosecdef
   and (has_function_privilege('anon', p.oid, 'execute')
        or has_function_privilege('authenticated', p.oid, 'execute'))
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
