-- Why: policies on a table whose row level security is off are never evaluated: the author meant
-- to restrict rows, yet every grant holder sees them all. Any schema, any table.
select 'policy_exists_rls_disabled' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'row level security is off, so its policies do nothing: '
         || string_agg(quote_ident(p.polname), ', ' order by p.polname) as detail
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where not c.relrowsecurity
 group by n.nspname, c.relname
