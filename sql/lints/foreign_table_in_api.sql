-- Why: a foreign table has no row level security: the remote rows go to any API role that can
-- select from it, whatever tenant they belong to.
select 'foreign_table_in_api' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'foreign table (no RLS possible) selectable by '
         || concat_ws(', ',
              case when has_table_privilege('anon', c.oid, 'select') then 'anon' end,
              case when has_table_privilege('authenticated', c.oid, 'select') then 'authenticated' end) as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'f'
   and n.nspname not in ('pg_catalog', 'information_schema')
   and (   (has_schema_privilege('anon', n.oid, 'usage') and has_table_privilege('anon', c.oid, 'select'))
        or (has_schema_privilege('authenticated', n.oid, 'usage') and has_table_privilege('authenticated', c.oid, 'select')))
