//! Catalog checks the tenancy schema promises beyond the splinter-style lints (those live with
//! the sql-lints work): each query lists the violations and each test expects none. They read the
//! whole catalog, so a table, policy or function added later is covered.

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
async fn the_service_role_reaches_data_only_through_its_functions() {
    let found = violations(&format!(
        "select name || ' ' || p.privilege from ({PUBLIC_TABLES}) t
           cross join (values ('select'), ('insert'), ('update'), ('delete'), ('truncate'),
                              ('references'), ('trigger')) p (privilege)
          where has_table_privilege('service_role', t.oid, p.privilege)
         union all
         select c.relname || ' sequence ' || r.rolname from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           cross join (values ('anon'), ('authenticated'), ('service_role')) r (rolname)
          where n.nspname = 'public' and c.relkind = 'S'
            and has_sequence_privilege(r.rolname, c.oid, 'usage, select, update')"
    ))
    .await;
    assert_eq!(found, Vec::<String>::new());
    let callable = violations(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.prosecdef
            and has_function_privilege('service_role', p.oid, 'execute') order by 1",
    )
    .await;
    assert_eq!(
        callable,
        [
            "apply_mercadopago_payment(text,jsonb)",
            "claim_whatsapp_reply(text,text,text,integer)",
            "connect_messaging_channel(uuid,text,text,text)",
            "count_rate_limit_hit(text,text,text,interval,uuid)",
            "due_account_deletions(integer)",
            "fail_webhook_event(text,text,text)",
            "file_object_keys_of_user(uuid)",
            "file_originals_due(interval,text,integer)",
            "finish_whatsapp_reply(text,text,text)",
            "live_workspace(uuid)",
            "mark_file_originals_purged(interval,text,uuid[])",
            "process_webhook_event(text,text)",
            "purge_account(uuid,text)",
            "purge_audit_log(interval,text)",
            "purge_processed_webhook_events(interval,text)",
            "purge_rate_limit_windows(interval,text)",
            "purge_soft_deleted(interval,text)",
            "record_email_suppressions(uuid,text[],text,text,text,timestamp with time zone)",
            "record_webhook_event(text,text,text,timestamp with time zone,jsonb,text,uuid,text)",
            "replay_webhook_events(integer)",
            "whatsapp_context_notes(text,bigint,integer)",
            "workspace_for_phone_number(text)",
        ]
    );
}

const POLICIES: &str = "select c.relname::text as tbl, p.polname::text as name, p.polroles,
                               p.polcmd, p.polpermissive, p.polrelid,
                               coalesce(pg_get_expr(p.polqual, p.polrelid), '') as using_expr,
                               coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as check_expr
                          from pg_policy p join pg_class c on c.oid = p.polrelid";

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
