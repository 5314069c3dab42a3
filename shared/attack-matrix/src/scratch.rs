//! A throw-away database per scenario on the project's cluster (ci/test starts it): a copy of a
//! template migrated by `ci/migrate` and loaded with every `sql/tests/fixtures/*.sql` file in name
//! order, dropped when the value is dropped. Scenarios that weaken a policy do it here, never in the shared database.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use tokio_postgres::{Client, NoTls};

/// Whether this process built its template yet. Held while creating databases: migrations alter
/// cluster-wide roles (two at once can fail with "tuple concurrently updated"), and a template
/// cannot be copied while anyone is connected to it.
static PROVISIONING: Mutex<bool> = Mutex::new(false);
const PREFIX: &str = "attack_matrix_scratch";

pub struct ScratchDatabase {
    name: String,
    superuser_url: String,
    authenticator_url: String,
}

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through ci/test"))
}

fn repository_root() -> PathBuf {
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

/// The same server and credentials, another database (URLs of the form `postgres://…/<db>`).
fn with_database(url: &str, database: &str) -> String {
    let (server, _) = url
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{url} does not end in /<database>"));
    format!("{server}/{database}")
}

/// Runs psql, failing the test on an error; returns what it printed.
fn psql(url: &str, args: &[&str]) -> String {
    let output = Command::new("psql")
        .arg(url)
        .args(["-qX", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .output()
        .expect("psql runs (ci/setup installs it)");
    assert!(
        output.status.success(),
        "psql {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to the scratch database: {e}"));
    tokio::spawn(connection);
    client
}

/// Drops the scratch databases a killed run left behind (those of other processes).
fn drop_stale_databases(superuser: &str) {
    let stale = psql(
        superuser,
        &[
            "-tA",
            "-c",
            &format!(
                "select datname from pg_database where datname like '{PREFIX}\\_%' \
                 and datname not like '{PREFIX}\\_{}\\_%'",
                std::process::id()
            ),
        ],
    );
    for database in stale.lines() {
        psql(
            superuser,
            &[
                "-c",
                &format!("drop database if exists {database} with (force)"),
            ],
        );
    }
}

/// Builds this process's template: migrated by ci/migrate, fixtures loaded in name order.
fn build_template(superuser: &str, template: &str) {
    drop_stale_databases(superuser);
    psql(
        superuser,
        &[
            "-c",
            &format!("drop database if exists {template} with (force)"),
        ],
    );
    psql(superuser, &["-c", &format!("create database {template}")]);
    let url = with_database(superuser, template);
    let root = repository_root();
    let migrate = Command::new(root.join("ci/migrate"))
        .env("DATABASE_URL", &url)
        .output()
        .expect("ci/migrate runs");
    assert!(
        migrate.status.success(),
        "ci/migrate failed: {}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("sql/tests/fixtures"))
        .expect("sql/tests/fixtures exists")
        .map(|entry| entry.expect("readable fixture folder").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    fixtures.sort();
    for fixture in fixtures {
        psql(&url, &["-f", fixture.to_str().expect("UTF-8 path")]);
    }
}

impl ScratchDatabase {
    /// A migrated database with the fixtures loaded, copied from a template this process builds
    /// once (and the next run drops). `label` names it: lower case letters, digits and `_`.
    pub fn create(label: &str) -> Self {
        let superuser = env("RLS_EDGE_SUPERUSER_URL");
        let pid = std::process::id();
        let template = format!("{PREFIX}_{pid}_template");
        let name = format!("{PREFIX}_{pid}_{label}");
        let mut template_built = PROVISIONING.lock().unwrap_or_else(|e| e.into_inner());
        if !*template_built {
            build_template(&superuser, &template);
            *template_built = true;
        }
        psql(
            &superuser,
            &[
                "-c",
                &format!("drop database if exists {name} with (force)"),
            ],
        );
        psql(
            &superuser,
            &["-c", &format!("create database {name} template {template}")],
        );
        ScratchDatabase {
            superuser_url: with_database(&superuser, &name),
            authenticator_url: with_database(&env("RLS_EDGE_AUTHENTICATOR_URL"), &name),
            name,
        }
    }

    pub async fn superuser(&self) -> Client {
        connect(&self.superuser_url).await
    }

    pub async fn authenticator(&self) -> Client {
        connect(&self.authenticator_url).await
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // Best effort: a database left behind is dropped by the next run.
        let _ = Command::new("psql")
            .arg(env("RLS_EDGE_SUPERUSER_URL"))
            .args([
                "-qX",
                "-c",
                &format!("drop database if exists {} with (force)", self.name),
            ])
            .output();
    }
}
