-- Why: `user_metadata` (raw_user_meta_data in auth.users) is writable by the user through
-- supabase.auth.updateUser(), so a policy that reads it lets users grant themselves access.
-- Authorise on app_metadata (or our own tables) instead.
select 'rls_references_user_metadata' as lint,
       format('%I on %I.%I', p.policyname, p.schemaname, p.tablename) as object,
       'policy reads user-writable metadata: '
         || coalesce('using (' || p.qual || ')', '')
         || coalesce(' with check (' || p.with_check || ')', '') as detail
  from pg_catalog.pg_policies p
 where concat_ws(' ', p.qual, p.with_check) ~* '(user_metadata|raw_user_meta_data)'
