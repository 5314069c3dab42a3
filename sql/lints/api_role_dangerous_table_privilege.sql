-- Why: TRUNCATE ignores row level security (one statement empties every tenant), TRIGGER lets the
-- holder attach code to a table, REFERENCES lets it create foreign keys that block deletes and
-- probe for values. No API role needs any of them. service_role is included on purpose: our
-- backend never truncates, triggers or references, and a leaked service key must not be able
-- to empty a table in one statement. Counts grants through PUBLIC and role membership.
select 'api_role_dangerous_table_privilege' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       r.rolname || ' holds ' || string_agg(priv, ', ' order by priv) as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join (values ('anon'), ('authenticated'), ('service_role')) as r (rolname)
  cross join (values ('TRUNCATE'), ('TRIGGER'), ('REFERENCES')) as privs (priv)
 where c.relkind in ('r', 'p', 'v', 'm', 'f')
   and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname !~ '^pg_(toast|temp_)'
   and exists (select 1 from pg_catalog.pg_roles where rolname = r.rolname)
   and has_table_privilege(r.rolname, c.oid, priv)
 group by n.nspname, c.relname, r.rolname
