-- Why: a permissive UPDATE, DELETE or ALL policy whose USING or WITH CHECK is literally `true`
-- lets every role it applies to change or remove (or write into) every tenant's rows.
-- (Restrictive policies are ANDed with the others, so `true` there changes nothing.)
select 'rls_policy_always_true' as lint,
       format('%I on %I.%I', p.policyname, p.schemaname, p.tablename) as object,
       format('permissive %s policy for %s with %s', p.cmd, array_to_string(p.roles, ', '),
              concat_ws(' and ',
                case when p.qual = 'true' then 'using (true)' end,
                case when p.with_check = 'true' then 'with check (true)' end)) as detail
  from pg_catalog.pg_policies p
 where p.permissive = 'PERMISSIVE'
   and p.cmd in ('UPDATE', 'DELETE', 'ALL')
   and (p.qual = 'true' or p.with_check = 'true')
