-- Why: a policy without `TO <role>` applies to PUBLIC: anon callers evaluate it too (a wider
-- surface, and slower for them), and a role added later inherits it unasked. State the role.
select 'policy_without_role' as lint,
       format('%I on %I.%I', p.polname, n.nspname, c.relname) as object,
       'policy applies to PUBLIC (no TO role)' as detail
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where 0 = any (p.polroles)
