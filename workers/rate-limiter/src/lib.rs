//! The counters behind `serve!`'s rate limits: one Durable Object per limited key
//! (`rate_limit::counter_key`), so every hit on a key is handled by one single-threaded object,
//! in order. A hit is one synchronous SQLite upsert (no `await` between reading the count and
//! writing it), which makes the count exact under any concurrency: of N simultaneous requests
//! against a limit of L, exactly L are allowed. The window's end is also an alarm that deletes
//! the row, so an address never seen again leaves nothing behind.

use std::cell::Cell;

use rate_limit::{decide, encode_decision, parse_hit_query, window_start_ms};
use worker::{
    durable_object, event, Context, DurableObject, Env, Request, Response, Result, SqlStorageValue,
    State,
};

#[durable_object]
pub struct RateLimiter {
    state: State,
    /// The table exists: created by this object's first hit, not by every hit.
    schema_ready: Cell<bool>,
}

/// One row: the current window's start, its length, and the hits counted in it.
const SCHEMA: &str = "create table if not exists hits (
    id integer primary key check (id = 1),
    window_start integer not null,
    window_ms integer not null,
    count integer not null)";

/// Counts one hit in the window that holds now; a row from an earlier window (or of another
/// length, after a declaration changed) starts over at 1.
const COUNT_HIT: &str = "insert into hits (id, window_start, window_ms, count) values (1, ?, ?, 1)
    on conflict (id) do update set
      count = case when window_start = excluded.window_start and window_ms = excluded.window_ms
                   then count + 1 else 1 end,
      window_start = excluded.window_start,
      window_ms = excluded.window_ms
    returning count";

#[derive(serde::Deserialize)]
struct Counted {
    count: i64,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            schema_ready: Cell::new(false),
        }
    }

    /// `GET /hit?limit=L&window=S`: counts one hit, answers `rate_limit::encode_decision`.
    async fn fetch(&self, req: Request) -> Result<Response> {
        let url = req.url()?;
        let Some(rate) = url.query().and_then(parse_hit_query) else {
            return Response::error("expected ?limit=&window=", 400);
        };
        let now_ms = worker::Date::now().as_millis();
        let start = window_start_ms(now_ms, rate.window_secs);
        let window_ms = u64::from(rate.window_secs) * 1000;
        let sql = self.state.storage().sql();
        if !self.schema_ready.get() {
            sql.exec(SCHEMA, None)?;
            self.schema_ready.set(true);
        }
        let counted: Counted = sql
            .exec(
                COUNT_HIT,
                vec![
                    SqlStorageValue::try_from_i64(start as i64)?,
                    SqlStorageValue::try_from_i64(window_ms as i64)?,
                ],
            )?
            .one()?;
        let hits = counted.count.max(0) as u64;
        if hits == 1 {
            // The first hit of a window schedules the row's removal at its end.
            self.state
                .storage()
                .set_alarm((start + window_ms).saturating_sub(now_ms) as i64)
                .await?;
        }
        Response::ok(encode_decision(&decide(rate, hits, start, now_ms)))
    }

    /// The window ended with no hit after it: drop the row (a new hit recreates it).
    async fn alarm(&self) -> Result<Response> {
        let now_ms = worker::Date::now().as_millis() as i64;
        self.state.storage().sql().exec(
            "delete from hits where window_start + window_ms <= ?",
            vec![SqlStorageValue::try_from_i64(now_ms)?],
        )?;
        Response::ok("")
    }
}

/// Nothing is served over HTTP: the counters are reached only through the binding.
#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::error("not found", 404)
}
