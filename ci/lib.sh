# Shared by the ci/ scripts: where things live and how the local Postgres cluster is run.
# Sourced, not executed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Pinned tools and build caches live outside the clone so a fresh clone reuses them.
CACHE_DIR=${RLS_EDGE_CACHE:-$HOME/.cache/rls-edge}
TOOLS_DIR=$CACHE_DIR/tools
# One cargo target folder for every clone: a fresh clone rebuilds only the project's own crates.
# Cargo may reuse a build made in another clone whose sources are identical, so code that needs
# the repository's path at run time reads CARGO_MANIFEST_DIR from the environment (cargo sets it
# for `cargo run` and `cargo test`), never env!("CARGO_MANIFEST_DIR"), which names that clone.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE_DIR/target}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

WORKER_BUILD_VERSION=0.8.7
CARGO_FUZZ_VERSION=0.13.1
# The venv with the providers' SDKs; shared/guard/tests/sdk_crosscheck.rs finds it the same way.
SDK_VENV=$TOOLS_DIR/py
WASM_TARGET=wasm32-unknown-unknown

# Ports already set in the environment win over ci/local.env, so two clones can run side by side.
pg_port_override=${LOCAL_PG_PORT:-}
functions_port_override=${LOCAL_FUNCTIONS_PORT:-}
email_port_override=${LOCAL_EMAIL_PORT:-}
spa_port_override=${LOCAL_SPA_PORT:-}
spa_disallowed_port_override=${LOCAL_SPA_DISALLOWED_PORT:-}
# shellcheck source=ci/local.env
set -a; source "$ROOT/ci/local.env"; set +a
export LOCAL_PG_PORT=${pg_port_override:-$LOCAL_PG_PORT}
export LOCAL_FUNCTIONS_PORT=${functions_port_override:-$LOCAL_FUNCTIONS_PORT}
# The local JWKS (ci/serve-jwks.mjs) sits beside the functions' port unless told otherwise.
export LOCAL_JWKS_PORT=${LOCAL_JWKS_PORT:-$((LOCAL_FUNCTIONS_PORT + 7))}
# The e-mail provider's stand-in (ci/email-standin.mjs, Resend's contract).
export LOCAL_EMAIL_PORT=${email_port_override:-$((LOCAL_FUNCTIONS_PORT + 9))}
# The Meta Graph API and Mercado Pago API stand-ins (ci/provider-stand-ins.mjs).
export LOCAL_META_GRAPH_PORT=$((LOCAL_FUNCTIONS_PORT + 10))
export LOCAL_MERCADOPAGO_API_PORT=$((LOCAL_FUNCTIONS_PORT + 11))
# The demo SPA's two origins sit beside the functions' port too (ci/local.env's values are these
# offsets from its default port).
export LOCAL_SPA_PORT=${spa_port_override:-$((LOCAL_FUNCTIONS_PORT + 13))}
export LOCAL_SPA_DISALLOWED_PORT=${spa_disallowed_port_override:-$((LOCAL_FUNCTIONS_PORT + 14))}

export PATH="$TOOLS_DIR/bin:$ROOT/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$TOOLS_DIR/bin/wasm-bindgen"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export WRANGLER_SEND_METRICS=false

SUPERUSER_URL="postgres://postgres:${LOCAL_POSTGRES_PASSWORD}@127.0.0.1:${LOCAL_PG_PORT}/postgres"
AUTHENTICATOR_URL="postgres://authenticator:${LOCAL_AUTHENTICATOR_PASSWORD}@127.0.0.1:${LOCAL_PG_PORT}/postgres"
FUNCTIONS_URL="http://127.0.0.1:${LOCAL_FUNCTIONS_PORT}/functions/v1"
LOCAL_SUPABASE_URL="http://127.0.0.1:${LOCAL_JWKS_PORT}"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }

# The edge functions: every folder under functions/ with its own wrangler.toml (the gateway's
# config is the root wrangler.toml).
function_names() {
  local config
  for config in "$ROOT"/functions/*/wrangler.toml; do
    basename "$(dirname "$config")"
  done
}

# Postgres refuses to run as root: as root, run its tools as the `postgres` system user.
as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster's data folder: .local/pgdata in the clone, unless (as root) the postgres user
# cannot reach the clone; then a folder of the same name under /var/tmp, keyed by the clone path.
pg_data_dir() {
  local dir=$ROOT/.local/pgdata
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT"; then
    dir=/var/tmp/rls-edge-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)/pgdata
  fi
  printf '%s\n' "$dir"
}

pg_is_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$LOCAL_PG_PORT"; }

# Starts the project's own cluster on 127.0.0.1:$LOCAL_PG_PORT (initdb on first use).
# Sets PG_STARTED_HERE=1 when this call started it, so the caller knows what to stop.
PG_STARTED_HERE=0
pg_start() {
  if pg_is_up; then
    log "Postgres already listening on 127.0.0.1:$LOCAL_PG_PORT: reusing it"
    return
  fi
  local data; data=$(pg_data_dir)
  mkdir -p "$(dirname "$data")"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$(dirname "$data")"; fi
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initdb $data"
    local pwfile; pwfile=$(mktemp); printf '%s\n' "$LOCAL_POSTGRES_PASSWORD" >"$pwfile"
    chmod 644 "$pwfile"
    as_pg_owner "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-host=scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
  fi
  log "starting Postgres on 127.0.0.1:$LOCAL_PG_PORT"
  as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $LOCAL_PG_PORT -c unix_socket_directories=''" >/dev/null
  PG_STARTED_HERE=1
}

pg_stop() {
  local data; data=$(pg_data_dir)
  if [ -s "$data/postmaster.pid" ]; then
    log "stopping Postgres"
    as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
  fi
}

# Applies migrations, sets the local authenticator password and loads the demo data.
db_prepare() {
  DATABASE_URL=$SUPERUSER_URL "$ROOT/ci/migrate"
  psql "$SUPERUSER_URL" -qX -v ON_ERROR_STOP=1 \
    -c "alter role authenticator with login password '$LOCAL_AUTHENTICATOR_PASSWORD'" \
    -f "$ROOT/sql/seed/demo.sql"
}
