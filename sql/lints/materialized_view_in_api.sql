-- Why: a materialized view has no row level security at all: whatever it stored for every tenant
-- is served to any API role that can select from it.
select 'materialized_view_in_api' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'materialized view (no RLS possible) selectable by '
         || concat_ws(', ',
              case when has_table_privilege('anon', c.oid, 'select') then 'anon' end,
              case when has_table_privilege('authenticated', c.oid, 'select') then 'authenticated' end) as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'm'
   and n.nspname not in ('pg_catalog', 'information_schema')
   and (   (has_schema_privilege('anon', n.oid, 'usage') and has_table_privilege('anon', c.oid, 'select'))
        or (has_schema_privilege('authenticated', n.oid, 'usage') and has_table_privilege('authenticated', c.oid, 'select')))
