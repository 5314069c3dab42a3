-- Why: a view runs its query as the view's owner unless it is created with security_invoker =
-- true, so RLS on the tables below is checked against the owner (usually bypassing it) instead of
-- the caller. Any such view an API role can select from hands every tenant's rows to that role.
select 'security_definer_view' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'view runs as its owner ' || pg_catalog.pg_get_userbyid(c.relowner)
         || ' (no security_invoker = true); selectable by '
         || concat_ws(', ',
              case when has_table_privilege('anon', c.oid, 'select') then 'anon' end,
              case when has_table_privilege('authenticated', c.oid, 'select') then 'authenticated' end) as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'v'
   and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname !~ '^pg_(toast|temp_)'
   and not coalesce((select option_value::boolean
                       from pg_catalog.pg_options_to_table(c.reloptions)
                      where option_name = 'security_invoker'), false)
   and (   (has_schema_privilege('anon', n.oid, 'usage') and has_table_privilege('anon', c.oid, 'select'))
        or (has_schema_privilege('authenticated', n.oid, 'usage') and has_table_privilege('authenticated', c.oid, 'select')))
   and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
