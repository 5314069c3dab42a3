//! The security lints (Supabase's splinter set and the spec's additions) as catalog queries over
//! the migrated database: each query lists the violations, and each test expects none. They read
//! every object in `public` and `private`, so a table or function added later is covered.

use tokio_postgres::{Client, NoTls};

async fn connect() -> Client {
    let url = std::env::var("RLS_EDGE_AUTHENTICATOR_URL")
        .expect("RLS_EDGE_AUTHENTICATOR_URL is not set: run these tests through ci/test");
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .expect("the local cluster is up (ci/test starts it)");
    tokio::spawn(connection);
    client
}

/// Runs a query whose rows are violations, one text column each; returns them.
async fn violations(sql: &str) -> Vec<String> {
    connect()
        .await
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

const PUBLIC_TABLES: &str =
    "select c.oid, c.relname::text as name, c.relrowsecurity, c.relforcerowsecurity
                               from pg_class c join pg_namespace n on n.oid = c.relnamespace
                              where n.nspname = 'public' and c.relkind in ('r', 'p')";

#[tokio::test]
async fn every_public_table_has_rls_enabled_and_forced() {
    let tables = violations(&format!("select name from ({PUBLIC_TABLES}) t")).await;
    assert!(tables.len() >= 13, "the tenancy tables exist: {tables:?}");
    let found = violations(&format!(
        "select name from ({PUBLIC_TABLES}) t where not (relrowsecurity and relforcerowsecurity)"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn tables_without_policies_are_granted_to_no_api_role() {
    // RLS on and no policy denies everything; a grant there would only be a trap for later.
    let found = violations(&format!(
        "select name || ' ' || r.rolname from ({PUBLIC_TABLES}) t
           cross join (values ('anon'), ('authenticated'), ('service_role')) r (rolname)
          where not exists (select from pg_policy p where p.polrelid = t.oid)
            and (has_table_privilege(r.rolname, t.oid, 'select, insert, update, delete'))"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn api_roles_hold_no_truncate_references_or_trigger_and_service_role_nothing() {
    let found = violations(&format!(
        "select name || ' ' || r.rolname || ' ' || p.privilege from ({PUBLIC_TABLES}) t
           cross join (values ('anon'), ('authenticated'), ('service_role')) r (rolname)
           cross join (values ('truncate'), ('references'), ('trigger'), ('select'), ('insert'),
                              ('update'), ('delete')) p (privilege)
          where has_table_privilege(r.rolname, t.oid, p.privilege)
            and (p.privilege in ('truncate', 'references', 'trigger') or r.rolname = 'service_role')
         union all
         select c.relname || ' sequence ' || r.rolname from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           cross join (values ('anon'), ('authenticated'), ('service_role')) r (rolname)
          where n.nspname = 'public' and c.relkind = 'S'
            and has_sequence_privilege(r.rolname, c.oid, 'usage, select, update')"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn every_function_pins_its_search_path() {
    let found = violations(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname in ('public', 'private')
            and not exists (select from unnest(p.proconfig) c where c like 'search_path=%')",
    )
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn security_definer_functions_in_public_run_for_the_service_role_only() {
    let functions = violations(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.prosecdef order by 1",
    )
    .await;
    assert!(
        functions.contains(
            &"record_webhook_event(text,text,text,timestamp with time zone,jsonb,text,uuid)"
                .to_owned()
        ) && functions.contains(&"purge_processed_webhook_events(interval,text)".to_owned())
            && functions.contains(&"purge_soft_deleted(interval,text)".to_owned()),
        "{functions:?}"
    );
    let found = violations(
        "select p.oid::regprocedure::text || ' ' || r.rolname from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
           cross join (values ('anon'), ('authenticated'), ('public')) r (rolname)
          where n.nspname = 'public' and p.prosecdef
            and case when r.rolname = 'public'
                     then exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                   where a.grantee = 0 and a.privilege_type = 'EXECUTE')
                     else has_function_privilege(r.rolname, p.oid, 'execute') end
         union all
         select p.oid::regprocedure::text || ' not granted to service_role' from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.prosecdef
            and not has_function_privilege('service_role', p.oid, 'execute')",
    )
    .await;
    assert_eq!(found, Vec::<String>::new());
}

const POLICIES: &str = "select c.relname::text as tbl, p.polname::text as name, p.polroles,
                               p.polcmd, p.polpermissive, p.polrelid,
                               coalesce(pg_get_expr(p.polqual, p.polrelid), '') as using_expr,
                               coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as check_expr
                          from pg_policy p join pg_class c on c.oid = p.polrelid";

#[tokio::test]
async fn every_policy_names_its_roles() {
    let found = violations(&format!(
        "select tbl || '.' || name from ({POLICIES}) p where 0 = any (polroles)"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn policies_call_auth_helpers_once_per_statement() {
    // Wrapped as `(select auth.uid())`, which deparses as `( SELECT auth.uid() AS uid)`: every
    // call must be preceded by SELECT (stricter than splinter, which accepts one wrapped call).
    let found = violations(&format!(
        "select tbl || '.' || name || ' ' || f from ({POLICIES}) p
           cross join (values ('auth.uid()'), ('auth.jwt()'), ('auth.role()'), ('auth.email()'),
                              ('current_setting(')) h (f)
           cross join lateral (select using_expr || ' ' || check_expr as e) x
          where (length(e) - length(replace(e, f, ''))) / length(f)
             <> (length(e) - length(replace(e, 'SELECT ' || f, ''))) / length('SELECT ' || f)"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn no_policy_reads_user_metadata_or_is_always_true() {
    let found = violations(&format!(
        "select tbl || '.' || name from ({POLICIES}) p
          where using_expr || check_expr like '%user_metadata%'
             or (polcmd in ('w', 'd', '*') and (using_expr = 'true' or check_expr = 'true'))"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn at_most_one_permissive_policy_per_table_role_and_command() {
    let found = violations(&format!(
        "select tbl || ' ' || role_oid::regrole::text || ' ' || cmd from (
           select tbl, role_oid, cmd from ({POLICIES}) p
             cross join unnest(polroles) role_oid
             cross join unnest(case when polcmd = '*' then array['r', 'a', 'w', 'd']
                                    else array[polcmd::text] end) cmd
            where polpermissive) x
          group by 1 having count(*) > 1"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test]
async fn every_uuid_column_a_policy_filters_leads_an_index() {
    let found = violations(&format!(
        "select distinct p.tbl || '.' || a.attname from ({POLICIES}) p
           join pg_attribute a on a.attrelid = p.polrelid and a.attnum > 0 and not a.attisdropped
                              and a.atttypid = 'uuid'::regtype
          where p.using_expr ~ ('\\m' || a.attname || '\\M')
            and not exists (select from pg_index i
                             where i.indrelid = p.polrelid and i.indkey[0] = a.attnum)"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
}
