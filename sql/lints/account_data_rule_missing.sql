-- Why: the account export and the account purge cover exactly the tables with a rule in
-- private.account_data_rules (sql/migrations/0044). A table added without one would hold user
-- data that is neither exported nor deleted with the account. Every table the attack matrix
-- covers (those tagged `rls-matrix:` in an exposed schema) must have a rule, `none` included.
select 'account_data_rule_missing' as lint,
       format('%I.%I', n.nspname, c.relname) as object,
       'no rule in private.account_data_rules: add one with private.account_data_rule(...)' as detail
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname = any ($1::text[])
   and pg_catalog.obj_description(c.oid, 'pg_class') like '%rls-matrix:%'
   and not exists (select 1 from private.account_data_rules r where r.table_name = c.oid)
