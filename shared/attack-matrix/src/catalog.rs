//! Which tables the matrix attacks and how, read from the catalog: every table in a schema the
//! API roles may use, its columns and keys, its `rls-matrix:` tag, and the victim tenant's rows
//! in it. A table that cannot be classified is reported by name, never skipped.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio_postgres::Client;

use crate::cast::{row_text, Cast};
use crate::tags::{self, Principal, TableTag, Tenant};
use crate::SetupError;

/// Tables (and partitions, which are reachable directly past their parent's policies) in every
/// schema `anon` or `authenticated` has USAGE on: what a caller of the API can name.
const EXPOSED_TABLES_SQL: &str = "\
select c.oid::int8, n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class')
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
   and (has_schema_privilege('anon', n.oid, 'USAGE')
        or has_schema_privilege('authenticated', n.oid, 'USAGE'))
 order by 2, 3";

const COLUMNS_SQL: &str = "\
select a.attname::text, a.atttypid::regtype::text, a.attidentity = 'a' or a.attgenerated <> '',
       a.atthasdef or a.attidentity <> '',
       has_column_privilege('authenticated', a.attrelid, a.attnum, 'UPDATE'),
       coalesce((select bool_or(i.indisprimary) from pg_catalog.pg_index i
                  where i.indrelid = a.attrelid and a.attnum = any(i.indkey)), false),
       exists (select 1 from pg_catalog.pg_index i
                where i.indrelid = a.attrelid and i.indisunique and a.attnum = any(i.indkey)),
       exists (select 1 from pg_catalog.pg_constraint f
                where f.conrelid = a.attrelid and f.contype = 'f' and a.attnum = any(f.conkey)),
       has_column_privilege('anon', a.attrelid, a.attnum, 'INSERT')
         or has_column_privilege('authenticated', a.attrelid, a.attnum, 'INSERT')
  from pg_catalog.pg_attribute a
 where a.attrelid = $1::int8::oid and a.attnum > 0 and not a.attisdropped
 order by a.attnum";

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    /// Identity ALWAYS or generated: an insert must leave it out.
    pub not_insertable: bool,
    pub has_default: bool,
    pub authenticated_may_update: bool,
    pub in_primary_key: bool,
    pub in_unique_key: bool,
    pub in_foreign_key: bool,
    /// `anon` or `authenticated` may insert it (a table-level or a column grant).
    pub api_may_insert: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// `schema.table`, as the report names it.
    pub name: String,
    /// Quoted for SQL.
    pub sql_name: String,
    pub columns: Vec<Column>,
}

impl Table {
    fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column's type as SQL names it (`uuid`, `text`, …).
    pub fn column_type(&self, name: &str) -> &str {
        self.column(name).map_or("text", |c| c.type_name.as_str())
    }

    pub fn primary_key(&self) -> Vec<&Column> {
        self.columns.iter().filter(|c| c.in_primary_key).collect()
    }

    /// `(v.a, v.b) = (select r.a, r.b from jsonb_populate_record(null::t, $1) r)`: matches the
    /// row whose primary key is in the JSON parameter.
    pub fn key_match(&self) -> String {
        let key: Vec<String> = self
            .primary_key()
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect();
        let of = |alias: &str| {
            key.iter()
                .map(|c| format!("{alias}.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "({}) = (select {} from jsonb_populate_record(null::{}, $1::jsonb) r)",
            of("v"),
            of("r"),
            self.sql_name
        )
    }
}

/// A victim row, with the copy of it an insert attempt uses (fresh keys, insertable columns).
#[derive(Debug, Clone)]
pub struct Victim {
    pub row: Value,
    /// The primary key, as the report shows it.
    pub key: String,
    /// Index of the tag line (row class) the row falls under.
    pub class: usize,
    pub insert_copy: Value,
}

/// A classified table: the statements that attack it and the rows they aim at.
#[derive(Debug, Clone)]
pub struct Target {
    pub table: Table,
    pub tag: TableTag,
    pub victims: Vec<Victim>,
    pub update_column: String,
    pub insert_columns: Vec<String>,
    /// Creator columns the insert sends, given the caller's own user id: an attacker inserts as
    /// themselves (claiming another user is the weaker attack, and a policy's first check).
    pub caller_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclassified {
    pub table: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Classification {
    pub targets: Vec<Target>,
    pub unclassified: Vec<Unclassified>,
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads every exposed table and classifies it against the cast's victim.
pub async fn classify(superuser: &Client, cast: &Cast) -> Result<Classification, SetupError> {
    let mut classification = Classification::default();
    for row in superuser.query(EXPOSED_TABLES_SQL, &[]).await? {
        let (oid, schema, name, comment): (i64, String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let columns = superuser
            .query(COLUMNS_SQL, &[&oid])
            .await?
            .iter()
            .map(|c| Column {
                name: c.get(0),
                type_name: c.get(1),
                not_insertable: c.get(2),
                has_default: c.get(3),
                authenticated_may_update: c.get(4),
                in_primary_key: c.get(5),
                in_unique_key: c.get(6),
                in_foreign_key: c.get(7),
                api_may_insert: c.get(8),
            })
            .collect();
        let table = Table {
            name: format!("{schema}.{name}"),
            sql_name: format!("{}.{}", quote_ident(&schema), quote_ident(&name)),
            columns,
        };
        match classify_table(superuser, cast, table.clone(), comment.as_deref()).await? {
            Ok(target) => classification.targets.push(target),
            Err(reason) => classification.unclassified.push(Unclassified {
                table: table.name,
                reason,
            }),
        }
    }
    Ok(classification)
}

/// The outer error is the database failing; the inner one is why this table cannot be attacked.
async fn classify_table(
    superuser: &Client,
    cast: &Cast,
    table: Table,
    comment: Option<&str>,
) -> Result<Result<Target, String>, SetupError> {
    let tag = match tags::parse(comment) {
        Ok(tag) => tag,
        Err(error) => return Ok(Err(format!("tag: {error}"))),
    };
    if table.primary_key().is_empty() {
        return Ok(Err("no primary key to address its rows by".into()));
    }
    if let Some(missing) = named_columns(&tag)
        .into_iter()
        .find(|name| table.column(name).is_none())
    {
        return Ok(Err(format!(
            "the tag names column `{missing}`, which the table lacks"
        )));
    }
    let (update_column, fresh, insert_columns, caller_columns) = match shape(&table, &tag) {
        Ok(shape) => shape,
        Err(reason) => return Ok(Err(reason)),
    };

    let (filter, owner_of_rows) = match &tag.tenant {
        Tenant::Column(column) => (Some(column), &cast.victim_tenant),
        Tenant::User(column) => (Some(column), &cast.owner),
        Tenant::None => (None, &cast.victim_tenant),
    };
    let rows_sql = match filter {
        Some(column) => format!(
            "select to_jsonb(v) from {} v where v.{}::text = $1 order by 1",
            table.sql_name,
            quote_ident(column)
        ),
        None => format!(
            "select to_jsonb(v) from {} v where $1::text is not null order by 1",
            table.sql_name
        ),
    };
    let rows: Vec<Value> = superuser
        .query(&rows_sql, &[owner_of_rows])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if rows.is_empty() {
        return Ok(Err(
            "the fixture has no rows of the victim tenant in it".into()
        ));
    }

    let copy_sql = insert_copy_sql(&table, &fresh);
    let mut victims = Vec::with_capacity(rows.len());
    for row in rows {
        let key = primary_key_text(&table, &row);
        let classes: Vec<usize> = tag
            .classes
            .iter()
            .enumerate()
            .filter(|(_, class)| {
                class
                    .rows
                    .iter()
                    .all(|(column, wanted)| wanted.matches(row_text(&row, column).as_deref()))
            })
            .map(|(index, _)| index)
            .collect();
        let [class] = classes[..] else {
            return Ok(Err(format!(
                "victim row {key} falls under {} `rows=` lines, not exactly one",
                classes.len()
            )));
        };
        let insert_copy: Value = superuser.query_one(&copy_sql, &[&row]).await?.get(0);
        victims.push(Victim {
            row,
            key,
            class,
            insert_copy,
        });
    }
    Ok(Ok(Target {
        table,
        tag,
        victims,
        update_column,
        insert_columns,
        caller_columns,
    }))
}

/// Every column the tag refers to.
fn named_columns(tag: &TableTag) -> Vec<&str> {
    let mut names = Vec::new();
    if let Tenant::Column(c) | Tenant::User(c) = &tag.tenant {
        names.push(c.as_str());
    }
    for class in &tag.classes {
        names.extend(class.rows.iter().map(|(column, _)| column.as_str()));
        for principal in class.allowed.values().flatten() {
            if let Principal::Creator(column) = principal {
                names.push(column);
            }
        }
    }
    names.extend(tag.fresh.iter().flatten().map(String::as_str));
    names.extend(tag.set.as_deref());
    names
}

/// How a table is written to: the column an update sets, the columns an insert copy renews
/// (with the SQL giving each a new value; None: left to its default), the columns it lists, and
/// those of them given the caller's id.
type Shape = (
    String,
    Vec<(String, Option<String>)>,
    Vec<String>,
    Vec<String>,
);

fn shape(table: &Table, tag: &TableTag) -> Result<Shape, String> {
    let settable = |c: &&Column| {
        !c.in_primary_key && !c.not_insertable && Some(c.name.as_str()) != tenant_column(tag)
    };
    let update_column = match &tag.set {
        Some(column) => column.clone(),
        None => table
            .columns
            .iter()
            .filter(settable)
            .find(|c| c.authenticated_may_update)
            .or_else(|| table.columns.iter().find(settable))
            .map(|c| c.name.clone())
            .ok_or("no column an update could set: name one with set=")?,
    };

    let creators = creator_columns(tag);
    let renewed: Vec<&Column> = match &tag.fresh {
        Some(names) => names.iter().filter_map(|n| table.column(n)).collect(),
        None => table
            .columns
            .iter()
            .filter(|c| {
                (c.in_primary_key || c.in_unique_key)
                    && !c.in_foreign_key
                    && Some(c.name.as_str()) != tenant_column(tag)
                    && !creators.contains(&c.name.as_str())
            })
            .collect(),
    };
    let mut fresh = Vec::new();
    for column in renewed {
        fresh.push((column.name.clone(), fresh_value(column)?));
    }
    // What a client would send: the columns an API role may insert, the rest left to their
    // defaults (a creator column defaulting to auth.uid() then names the caller). Where no API
    // role may insert anything, every column: the attempt must be refused all the same.
    let any_granted = table.columns.iter().any(|c| c.api_may_insert);
    let insert_columns: Vec<String> = table
        .columns
        .iter()
        .filter(|c| {
            !c.not_insertable
                && (c.api_may_insert || !any_granted)
                && !fresh
                    .iter()
                    .any(|(name, sql)| *name == c.name && sql.is_none())
        })
        .map(|c| c.name.clone())
        .collect();
    let caller_columns = creators
        .iter()
        .filter(|name| {
            Some(**name) != tenant_column(tag)
                && insert_columns.iter().any(|c| c == *name)
                && table.column(name).is_some_and(|c| c.api_may_insert)
        })
        .map(|name| name.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok((update_column, fresh, insert_columns, caller_columns))
}

fn tenant_column(tag: &TableTag) -> Option<&str> {
    match &tag.tenant {
        Tenant::Column(c) | Tenant::User(c) => Some(c),
        Tenant::None => None,
    }
}

fn creator_columns(tag: &TableTag) -> Vec<&str> {
    tag.classes
        .iter()
        .flat_map(|class| class.allowed.values().flatten())
        .filter_map(|p| match p {
            Principal::Creator(column) => Some(column.as_str()),
            _ => None,
        })
        .collect()
}

/// SQL for a new, unique value of the column's type; None when its default should make one.
fn fresh_value(column: &Column) -> Result<Option<String>, String> {
    // Fifteen random digits: unique enough, and they pass the usual format checks on ids
    // (phone number ids, key prefixes).
    let random_digits = "lpad(floor(random() * 1e15)::bigint::text, 15, '0')";
    Ok(match column.type_name.as_str() {
        _ if column.not_insertable => None,
        "smallint" | "integer" | "bigint" if column.has_default => None,
        "smallint" | "integer" | "bigint" => {
            Some("(1000000 + floor(random() * 30000))::int".into())
        }
        "uuid" => Some("gen_random_uuid()".into()),
        "text" | "character varying" | "citext" => Some(random_digits.into()),
        "bytea" => Some("sha256(gen_random_uuid()::text::bytea)".into()),
        // A time a day ahead: valid for expiry columns, which must lie after the insert time.
        "timestamp with time zone" => Some("now() + interval '1 day'".into()),
        other => {
            return Err(format!(
                "cannot make a fresh value of type {other} for key column `{}`: list the columns to renew with fresh=",
                column.name
            ))
        }
    })
}

/// The superuser's copy of a victim row for the insert attempts: every key it must renew gets
/// a new value, the rest is the victim's own (tenant and creator included).
fn insert_copy_sql(table: &Table, fresh: &[(String, Option<String>)]) -> String {
    let renewed: Vec<String> = fresh
        .iter()
        .filter_map(|(name, sql)| {
            sql.as_ref()
                .map(|sql| format!("'{}', {sql}", name.replace('\'', "''")))
        })
        .collect();
    format!(
        "select to_jsonb(v) || jsonb_build_object({}) from {} v where {}",
        renewed.join(", "),
        table.sql_name,
        table.key_match()
    )
}

fn primary_key_text(table: &Table, row: &Value) -> String {
    let parts: Vec<String> = table
        .primary_key()
        .iter()
        .map(|c| format!("{}={}", c.name, row_text(row, &c.name).unwrap_or_default()))
        .collect();
    format!("({})", parts.join(", "))
}
