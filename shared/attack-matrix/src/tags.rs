//! The `rls-matrix:` tag a table's comment carries: what the schema says each table allows.
//! The tag is written in a `comment on table` beside the table, in the table's own migration.
//!
//! ```text
//! rls-matrix: tenant=<t> [rows=<cond>(,<cond>)*] select=<who> insert=<who> update=<who>
//!             delete=<who> truncate=<who> [fresh=<col>,…] [set=<col>]
//! rls-matrix: service-only tenant=<t>
//! <t>    := <col> | user:<col> | none
//! <cond> := <col>:<value> | <col>:null | <col>:notnull
//! <who>  := none | <principal>(,<principal>)*
//! <principal> := anon | authenticated | member | admin | owner | share | creator:<col>
//!                | api_key:<scope>
//! ```
//!
//! `<t>`: which rows are the victim tenant's: `<col>` (rows whose column is the victim workspace
//! id; `id` on the tenant table itself), `user:<col>` (per-user rows: the column is the victim
//! owner's user id), `none` (platform-wide rows: every row is a victim).
//! `<who>`: who may run the command on those rows: `authenticated` is any signed-in user,
//! `member`/`admin`/`owner` are of the victim tenant, `creator:<col>` the user whose id is in that
//! column of the row, `share` whoever holds a valid share-link token (anonymous or signed in), on
//! the one row it opens, `api_key:<scope>` a live API key of the victim tenant granting that
//! scope (the claims `private.admit_api_key` sets: no `sub`). Every command is stated.
//! `rows=`: the line covers only the rows meeting every condition (`<col>::text = <value>`, or
//! the column is / is not NULL); with several lines each names its rows, and every victim row must
//! fall under exactly one line.
//! `fresh=`: columns the insert copy gets new values in (default: primary-key and unique columns
//! that are neither foreign keys, the tenant column nor a creator column).
//! `set=`: the column the update attempt sets to its own value (default: the first non-key column
//! `authenticated` may update).
//! An insert attempt sends only the columns an API role may insert (as a client would), so columns
//! filled by defaults such as `auth.uid()` take the caller's values, and a `creator:` column it
//! sends carries the caller's own id (an attacker joins or writes as themselves).
//! Several lines make several row classes (each with `rows=`); `tenant`, `fresh` and `set` are
//! per table and may be written once.

use std::collections::BTreeMap;
use std::fmt;

const PREFIX: &str = "rls-matrix:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
}

impl Command {
    pub const ALL: [Command; 5] = [
        Command::Select,
        Command::Insert,
        Command::Update,
        Command::Delete,
        Command::Truncate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Command::Select => "select",
            Command::Insert => "insert",
            Command::Update => "update",
            Command::Delete => "delete",
            Command::Truncate => "truncate",
        }
    }

    fn parse(key: &str) -> Option<Self> {
        Command::ALL.into_iter().find(|c| c.as_str() == key)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the victim's rows a table holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenant {
    /// Rows whose column holds the victim workspace id.
    Column(String),
    /// Per-user rows: the column holds the victim owner's user id.
    User(String),
    /// Platform-wide rows: every row is the victim's business.
    None,
}

/// Someone the schema lets run a command on a victim row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anon,
    Authenticated,
    Member,
    Admin,
    Owner,
    /// The user whose id is in this column of the row.
    Creator(String),
    /// Whoever holds a valid share-link token (anon or signed in), on the row it opens.
    Share,
    /// A live API key of the victim tenant that grants this scope.
    ApiKey(String),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Anon => f.write_str("anon"),
            Principal::Authenticated => f.write_str("authenticated"),
            Principal::Member => f.write_str("member"),
            Principal::Admin => f.write_str("admin"),
            Principal::Owner => f.write_str("owner"),
            Principal::Creator(column) => write!(f, "creator:{column}"),
            Principal::Share => f.write_str("share"),
            Principal::ApiKey(scope) => write!(f, "api_key:{scope}"),
        }
    }
}

/// What a `rows=` condition wants of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The column, as text, equals this.
    Text(String),
    Null,
    NotNull,
}

impl Wanted {
    /// Whether a column's value (as text; None when NULL) meets the condition.
    pub fn matches(&self, value: Option<&str>) -> bool {
        match self {
            Wanted::Text(text) => value == Some(text.as_str()),
            Wanted::Null => value.is_none(),
            Wanted::NotNull => value.is_some(),
        }
    }
}

/// One tag line: the rows it covers and who may run each command on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowClass {
    /// `(column, wanted)` conditions a row must all meet. Empty: every victim row.
    pub rows: Vec<(String, Wanted)>,
    /// Every command, each with its allowed principals (empty: nobody through the API).
    pub allowed: BTreeMap<Command, Vec<Principal>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableTag {
    pub tenant: Tenant,
    pub classes: Vec<RowClass>,
    pub fresh: Option<Vec<String>>,
    pub set: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TagError {
    #[error("no `{PREFIX}` line in the table comment")]
    Missing,
    #[error("`{0}` is not a `key=value` pair")]
    NotAPair(String),
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("`{0}` is given twice")]
    Repeated(String),
    #[error("unknown principal `{0}`")]
    UnknownPrincipal(String),
    #[error("`{0}` needs a column name")]
    MissingColumn(String),
    #[error("no `tenant=`")]
    NoTenant,
    #[error("command `{0}` is not stated")]
    CommandMissing(Command),
    #[error("`service-only` and `{0}=` on the same line")]
    ServiceOnlyWithCommand(Command),
    #[error("several `{PREFIX}` lines, but not each with its own `rows=`")]
    AmbiguousRows,
}

/// Parses the tag out of a table comment (other lines are free text and ignored).
pub fn parse(comment: Option<&str>) -> Result<TableTag, TagError> {
    let lines: Vec<&str> = comment
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().strip_prefix(PREFIX))
        .collect();
    if lines.is_empty() {
        return Err(TagError::Missing);
    }
    let mut table = TableLevel::default();
    let classes = lines
        .iter()
        .map(|line| parse_line(line, &mut table))
        .collect::<Result<Vec<_>, _>>()?;
    if classes.len() > 1 && classes.iter().any(|class| class.rows.is_empty()) {
        return Err(TagError::AmbiguousRows);
    }
    Ok(TableTag {
        tenant: table.tenant.ok_or(TagError::NoTenant)?,
        classes,
        fresh: table.fresh,
        set: table.set,
    })
}

#[derive(Default)]
struct TableLevel {
    tenant: Option<Tenant>,
    fresh: Option<Vec<String>>,
    set: Option<String>,
}

fn set_once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), TagError> {
    if slot.replace(value).is_some() {
        return Err(TagError::Repeated(key.to_owned()));
    }
    Ok(())
}

fn column(key: &str, value: &str) -> Result<String, TagError> {
    if value.is_empty() {
        return Err(TagError::MissingColumn(key.to_owned()));
    }
    Ok(value.to_owned())
}

fn parse_line(line: &str, table: &mut TableLevel) -> Result<RowClass, TagError> {
    let mut service_only = false;
    let mut rows: Option<Vec<(String, Wanted)>> = None;
    let mut allowed = BTreeMap::new();
    for word in line.split_whitespace() {
        if word == "service-only" {
            service_only = true;
            continue;
        }
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| TagError::NotAPair(word.to_owned()))?;
        if let Some(command) = Command::parse(key) {
            let principals = parse_principals(value)?;
            if allowed.insert(command, principals).is_some() {
                return Err(TagError::Repeated(key.to_owned()));
            }
            continue;
        }
        match key {
            "tenant" => set_once(&mut table.tenant, key, parse_tenant(value)?)?,
            "rows" => {
                let conditions = value
                    .split(',')
                    .map(|condition| {
                        let (col, wanted) = condition
                            .split_once(':')
                            .ok_or_else(|| TagError::MissingColumn(word.to_owned()))?;
                        let wanted = match wanted {
                            "null" => Wanted::Null,
                            "notnull" => Wanted::NotNull,
                            text => Wanted::Text(text.to_owned()),
                        };
                        Ok((column(key, col)?, wanted))
                    })
                    .collect::<Result<_, TagError>>()?;
                set_once(&mut rows, key, conditions)?;
            }
            "fresh" => {
                let columns = value
                    .split(',')
                    .map(|col| column(key, col))
                    .collect::<Result<_, _>>()?;
                set_once(&mut table.fresh, key, columns)?;
            }
            "set" => set_once(&mut table.set, key, column(key, value)?)?,
            _ => return Err(TagError::UnknownKey(key.to_owned())),
        }
    }
    for command in Command::ALL {
        match (service_only, allowed.contains_key(&command)) {
            (true, true) => return Err(TagError::ServiceOnlyWithCommand(command)),
            (true, false) => {
                allowed.insert(command, Vec::new());
            }
            (false, true) => {}
            (false, false) => return Err(TagError::CommandMissing(command)),
        }
    }
    Ok(RowClass {
        rows: rows.unwrap_or_default(),
        allowed,
    })
}

fn parse_tenant(value: &str) -> Result<Tenant, TagError> {
    Ok(match value {
        "none" => Tenant::None,
        _ => match value.strip_prefix("user:") {
            Some(col) => Tenant::User(column("tenant=user:", col)?),
            None => Tenant::Column(column("tenant", value)?),
        },
    })
}

fn parse_principals(value: &str) -> Result<Vec<Principal>, TagError> {
    if value == "none" {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|word| {
            Ok(match word {
                "anon" => Principal::Anon,
                "authenticated" => Principal::Authenticated,
                "member" => Principal::Member,
                "admin" => Principal::Admin,
                "owner" => Principal::Owner,
                "share" => Principal::Share,
                _ => match (word.strip_prefix("creator:"), word.strip_prefix("api_key:")) {
                    (Some(col), _) => Principal::Creator(column("creator:", col)?),
                    (_, Some(scope)) if !scope.is_empty() => Principal::ApiKey(scope.to_owned()),
                    _ => return Err(TagError::UnknownPrincipal(word.to_owned())),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_line_among_free_text_is_parsed() {
        let tag = parse(Some(
            "Notes of a workspace.\nrls-matrix: tenant=workspace_id select=member,share \
             insert=creator:author_id update=creator:author_id,admin delete=owner truncate=none",
        ))
        .unwrap();
        assert_eq!(tag.tenant, Tenant::Column("workspace_id".into()));
        let allowed = &tag.classes[0].allowed;
        assert_eq!(
            allowed[&Command::Select],
            [Principal::Member, Principal::Share]
        );
        assert_eq!(
            allowed[&Command::Update],
            [Principal::Creator("author_id".into()), Principal::Admin]
        );
        assert!(allowed[&Command::Truncate].is_empty());
    }

    #[test]
    fn service_only_denies_every_command() {
        let tag = parse(Some("rls-matrix: service-only tenant=none")).unwrap();
        assert_eq!(tag.tenant, Tenant::None);
        assert!(tag.classes[0].allowed.values().all(Vec::is_empty));
        assert_eq!(tag.classes[0].allowed.len(), 5);
    }

    #[test]
    fn row_classes_per_line_and_table_keys_once() {
        let tag = parse(Some(
            "rls-matrix: tenant=user:user_id rows=visibility:private select=creator:user_id insert=none update=none delete=none truncate=none fresh=id,slug\n\
             rls-matrix: rows=visibility:team,deleted_at:null select=member insert=none update=none delete=none truncate=none set=title",
        ))
        .unwrap();
        assert_eq!(tag.tenant, Tenant::User("user_id".into()));
        assert_eq!(
            tag.classes[0].rows,
            [("visibility".into(), Wanted::Text("private".into()))]
        );
        assert_eq!(
            tag.classes[1].rows,
            [
                ("visibility".into(), Wanted::Text("team".into())),
                ("deleted_at".into(), Wanted::Null)
            ]
        );
        assert!(Wanted::Null.matches(None) && !Wanted::Null.matches(Some("x")));
        assert!(Wanted::NotNull.matches(Some("x")) && !Wanted::NotNull.matches(None));
        assert_eq!(tag.fresh, Some(vec!["id".into(), "slug".into()]));
        assert_eq!(tag.set.as_deref(), Some("title"));
    }

    #[test]
    fn incomplete_or_malformed_tags_are_refused() {
        let cases = [
            (None, TagError::Missing),
            (Some("just a description"), TagError::Missing),
            (
                Some("rls-matrix: tenant=workspace_id select=member insert=none update=none delete=none"),
                TagError::CommandMissing(Command::Truncate),
            ),
            (
                Some("rls-matrix: select=none insert=none update=none delete=none truncate=none"),
                TagError::NoTenant,
            ),
            (
                Some("rls-matrix: service-only tenant=none select=member"),
                TagError::ServiceOnlyWithCommand(Command::Select),
            ),
            (
                Some("rls-matrix: service-only tenant=none select=everyone"),
                TagError::UnknownPrincipal("everyone".into()),
            ),
            (
                Some("rls-matrix: service-only tenant=none\nrls-matrix: service-only"),
                TagError::AmbiguousRows,
            ),
            (
                Some("rls-matrix: service-only tenant=a tenant=b"),
                TagError::Repeated("tenant".into()),
            ),
            (
                Some("rls-matrix: service-only tenant=none colour=red"),
                TagError::UnknownKey("colour".into()),
            ),
            (
                Some("rls-matrix: service-only tenant=none loose"),
                TagError::NotAPair("loose".into()),
            ),
        ];
        for (comment, expected) in cases {
            assert_eq!(parse(comment), Err(expected), "{comment:?}");
        }
    }
}
