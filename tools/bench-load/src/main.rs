//! Load and fault driver for `ci/bench-load` (and the bounded run inside `ci/test`).
//!
//! Sends signed Paddle deliveries (one in ten a re-delivery of an earlier event id) at a fixed
//! concurrency to the local platform, retrying every non-2xx answer the way a provider does
//! (re-signed, with backoff, bounded). With `--fault`, Postgres is stopped for `--down-secs`
//! once a third of the deliveries are answered, while authenticated reads run beside the load.
//! Then it checks, against the database:
//! - stored rows = unique event ids: none lost, none twice;
//! - every 2xx was for an event already stored when the 2xx arrived;
//! - no answer other than 200 or 503 (webhooks and reads); every request that started and ended
//!   while Postgres was down got 503; deliveries and reads were each refused at least once;
//! - with `--recovery-limit-ms`: every read sent later than that after Postgres returned succeeds.
//!
//! Loopback only, bounded in count (`--deliveries`) and time (`--max-secs`). Configuration comes
//! from the environment ci/lib.sh exports (ports and the local development secrets).

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use jwt_simple::prelude::{Claims, HS256Key, MACLike};
use sha2::Sha256;

const TENANT_A_USER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
/// Provider-style retries: at most this many attempts per delivery, backoff doubling from 100 ms
/// up to 1.6 s (Paddle itself retries over days; a benchmark must stay bounded).
const MAX_ATTEMPTS: u32 = 12;

struct Options {
    deliveries: usize,
    concurrency: usize,
    readers: usize,
    fault: bool,
    down: Duration,
    max_run: Duration,
    recovery_limit: Option<Duration>,
}

fn parse_options() -> Options {
    let mut options = Options {
        deliveries: 10_000,
        concurrency: 64,
        readers: 4,
        fault: false,
        down: Duration::from_secs(5),
        max_run: Duration::from_secs(600),
        recovery_limit: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || -> u64 {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{} needs a number", args[i])))
        };
        match args[i].as_str() {
            "--deliveries" => options.deliveries = value() as usize,
            "--concurrency" => options.concurrency = value() as usize,
            "--readers" => options.readers = value() as usize,
            "--down-secs" => options.down = Duration::from_secs(value()),
            "--max-secs" => options.max_run = Duration::from_secs(value()),
            "--recovery-limit-ms" => options.recovery_limit = Some(Duration::from_millis(value())),
            "--fault" => {
                options.fault = true;
                i += 1;
                continue;
            }
            other => usage(&format!("unknown argument {other}")),
        }
        i += 2;
    }
    if options.deliveries < 10 || options.concurrency == 0 {
        usage("--deliveries must be at least 10 and --concurrency at least 1");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "bench-load: {problem}\nusage: bench-load [--deliveries N] [--concurrency N] [--fault] \
         [--readers N] [--down-secs S] [--max-secs S] [--recovery-limit-ms MS]"
    );
    std::process::exit(2)
}

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| usage(&format!("{name} is not set (run through ci/bench-load)")))
}

fn unix_secs_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One HTTP exchange as the driver saw it.
#[derive(Clone, Copy)]
struct Exchange {
    /// Seconds since the run started, at send and at answer.
    sent: f64,
    answered: f64,
    /// 0 when no HTTP answer came at all (connection refused or reset).
    status: u16,
}

#[derive(Default)]
struct Record {
    webhook: Vec<Exchange>,
    reads: Vec<Exchange>,
    /// Event id → wall-clock time (unix seconds) of its first 2xx.
    acknowledged: HashMap<String, f64>,
    /// Event ids whose delivery gave up after MAX_ATTEMPTS.
    abandoned: Vec<String>,
    unexpected: Vec<String>,
}

/// When Postgres was stopped and back, in seconds since the run started.
#[derive(Clone, Copy, Default)]
struct Outage {
    stopping: f64,
    stopped: f64,
    starting: f64,
    started: f64,
}

struct Platform {
    agent: ureq::Agent,
    functions_url: String,
    paddle_secret: String,
    read_token: String,
    run_start: Instant,
}

impl Platform {
    fn now(&self) -> f64 {
        self.run_start.elapsed().as_secs_f64()
    }

    fn exchange(
        &self,
        request: impl FnOnce(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> (Exchange, String) {
        let sent = self.now();
        let (status, body) = match request(&self.agent) {
            Ok(mut response) => {
                let body = response.body_mut().read_to_string().unwrap_or_default();
                (response.status().as_u16(), body)
            }
            Err(_) => (0, String::new()),
        };
        (
            Exchange {
                sent,
                answered: self.now(),
                status,
            },
            body,
        )
    }

    fn deliver(&self, body: &str) -> (Exchange, String) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut mac = Hmac::<Sha256>::new_from_slice(self.paddle_secret.as_bytes()).unwrap();
        mac.update(format!("{ts}:").as_bytes());
        mac.update(body.as_bytes());
        let signature = format!("ts={ts};h1={}", hex::encode(mac.finalize().into_bytes()));
        let url = format!("{}/paddle-webhook", self.functions_url);
        self.exchange(|agent| {
            agent
                .post(&url)
                .header("paddle-signature", &signature)
                .header("content-type", "application/json")
                .send(body.as_bytes())
        })
    }

    fn read(&self) -> (Exchange, String) {
        let url = format!("{}/notes", self.functions_url);
        let authorization = format!("Bearer {}", self.read_token);
        self.exchange(|agent| {
            agent
                .get(&url)
                .header("authorization", &authorization)
                .call()
        })
    }
}

/// The event ids of the run, in sending order: every tenth is an id sent earlier.
fn delivery_plan(run: &str, deliveries: usize) -> (Vec<String>, usize) {
    let mut plan = Vec::with_capacity(deliveries);
    let mut unique = 0usize;
    for k in 0..deliveries {
        if k % 10 == 9 {
            // A re-delivery of an earlier event, spread over the ids sent so far (some of them
            // are still in flight: duplicates race their originals too).
            let earlier = (k * 7919) % unique;
            plan.push(format!("evt_load_{run}_{earlier}"));
        } else {
            plan.push(format!("evt_load_{run}_{unique}"));
            unique += 1;
        }
    }
    (plan, unique)
}

fn paddle_body(event_id: &str) -> String {
    serde_json::json!({
        "event_id": event_id,
        "event_type": "transaction.completed",
        "occurred_at": "2026-12-01T09:00:00.000000Z",
        "notification_id": format!("ntf_{event_id}"),
        "data": { "id": "txn_load", "status": "completed", "custom_data": { "workspace_id": TENANT_A } }
    })
    .to_string()
}

fn read_token(secret: &str) -> String {
    let mut custom = serde_json::Map::new();
    custom.insert("role".into(), "authenticated".into());
    custom.insert("aal".into(), "aal1".into());
    let claims = Claims::with_custom_claims(custom, jwt_simple::prelude::Duration::from_secs(3600))
        .with_audience("authenticated")
        .with_subject(TENANT_A_USER);
    HS256Key::from_bytes(secret.as_bytes())
        .authenticate(claims)
        .unwrap()
}

/// Runs a ci/lib.sh function (pg_stop, pg_start) with the environment this driver was given.
fn ci_lib(root: &str, function: &str) {
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!("source ci/lib.sh && {function}"))
        .current_dir(root)
        .status()
        .expect("bash runs");
    assert!(status.success(), "`{function}` failed");
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted_ms.len() - 1) as f64).round() as usize;
    sorted_ms[rank]
}

fn main() {
    let options = parse_options();
    let root = env("ROOT");
    let platform = Arc::new(Platform {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_idle_connections_per_host(options.concurrency + options.readers)
            .build()
            .into(),
        functions_url: format!(
            "http://127.0.0.1:{}/functions/v1",
            env("LOCAL_FUNCTIONS_PORT")
        ),
        paddle_secret: env("PADDLE_WEBHOOK_SECRETS")
            .split(',')
            .next()
            .unwrap()
            .to_owned(),
        read_token: read_token(&env("SUPABASE_JWT_SECRET")),
        run_start: Instant::now(),
    });
    let database_url = format!(
        "postgres://postgres:{}@127.0.0.1:{}/postgres",
        env("LOCAL_POSTGRES_PASSWORD"),
        env("LOCAL_PG_PORT")
    );
    let run = format!(
        "{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let (plan, unique) = delivery_plan(&run, options.deliveries);
    let plan = Arc::new(plan);

    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let load_done = Arc::new(AtomicBool::new(false));
    let record = Arc::new(Mutex::new(Record::default()));
    let outage = Arc::new(Mutex::new(None::<Outage>));
    let deadline = options.max_run;

    let senders: Vec<_> = (0..options.concurrency)
        .map(|_| {
            let (platform, plan, next, answered, record) = (
                platform.clone(),
                plan.clone(),
                next.clone(),
                answered.clone(),
                record.clone(),
            );
            thread::spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(event_id) = plan.get(k) else { break };
                let body = paddle_body(event_id);
                let mut backoff = Duration::from_millis(100);
                let mut acknowledged = false;
                for _ in 0..MAX_ATTEMPTS {
                    if platform.run_start.elapsed() > deadline {
                        break;
                    }
                    let (exchange, reply) = platform.deliver(&body);
                    let mut record = record.lock().unwrap();
                    record.webhook.push(exchange);
                    match exchange.status {
                        200..=299 => {
                            record
                                .acknowledged
                                .entry(event_id.clone())
                                .or_insert_with(unix_secs_f64);
                            acknowledged = true;
                        }
                        503 | 0 => {}
                        other => record
                            .unexpected
                            .push(format!("webhook {event_id}: {other} {reply}")),
                    }
                    drop(record);
                    if acknowledged {
                        break;
                    }
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(1600));
                }
                if !acknowledged {
                    record.lock().unwrap().abandoned.push(event_id.clone());
                }
                answered.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();

    let readers: Vec<_> = (0..if options.fault { options.readers } else { 0 })
        .map(|_| {
            let (platform, record, load_done) =
                (platform.clone(), record.clone(), load_done.clone());
            thread::spawn(move || {
                while !load_done.load(Ordering::Relaxed) && platform.run_start.elapsed() < deadline
                {
                    let (exchange, reply) = platform.read();
                    let mut record = record.lock().unwrap();
                    record.reads.push(exchange);
                    if !matches!(exchange.status, 200 | 503) {
                        record
                            .unexpected
                            .push(format!("read: {} {reply}", exchange.status));
                    }
                    drop(record);
                    // Pace the reads a little so they sample the outage without crowding the load.
                    thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();

    let fault = options.fault.then(|| {
        let (platform, answered, outage, root) = (
            platform.clone(),
            answered.clone(),
            outage.clone(),
            root.clone(),
        );
        let (trigger, down) = (options.deliveries / 3, options.down);
        thread::spawn(move || {
            while answered.load(Ordering::Relaxed) < trigger
                && platform.run_start.elapsed() < deadline
            {
                thread::sleep(Duration::from_millis(10));
            }
            let mut window = Outage {
                stopping: platform.now(),
                ..Outage::default()
            };
            eprintln!(
                "bench-load: stopping Postgres for {down:?} at {:.2} s",
                window.stopping
            );
            ci_lib(&root, "pg_stop");
            window.stopped = platform.now();
            thread::sleep(down);
            window.starting = platform.now();
            ci_lib(&root, "pg_start");
            window.started = platform.now();
            eprintln!("bench-load: Postgres back at {:.2} s", window.started);
            *outage.lock().unwrap() = Some(window);
        })
    });

    for sender in senders {
        sender.join().unwrap();
    }
    let load_secs = platform.now();
    if let Some(fault) = fault {
        fault.join().unwrap();
    }
    // Readers keep sampling until the load ends and Postgres is back, plus a second.
    thread::sleep(Duration::from_secs(1));
    load_done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }

    let record = record.lock().unwrap();
    let outage = *outage.lock().unwrap();
    let mut failures: Vec<String> = record.unexpected.iter().take(10).cloned().collect();
    if record.unexpected.len() > 10 {
        failures.push(format!(
            "… {} unexpected answers in all",
            record.unexpected.len()
        ));
    }
    if platform.run_start.elapsed() > deadline {
        failures.push(format!(
            "the run exceeded --max-secs {}",
            deadline.as_secs()
        ));
    }

    // What the database holds for this run.
    let mut db =
        postgres::Client::connect(&database_url, postgres::NoTls).expect("the local cluster is up");
    let rows = db
        .query(
            "select event_id, extract(epoch from received_at)::float8 \
             from public.webhook_events where provider = 'paddle' and event_id like $1",
            &[&format!("evt_load_{run}_%")],
        )
        .unwrap();
    let stored: HashMap<String, f64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let expected: HashSet<&String> = plan.iter().collect();
    let lost = expected
        .iter()
        .filter(|id| !stored.contains_key(**id))
        .count();
    let duplicated = rows.len() - stored.len();
    let strays = stored.keys().filter(|id| !expected.contains(id)).count();
    if rows.len() != unique || lost > 0 || duplicated > 0 || strays > 0 {
        failures.push(format!(
            "stored {} rows for {unique} unique event ids: {lost} lost, {duplicated} duplicated, {strays} unknown",
            rows.len()
        ));
    }
    // A 2xx may only come for an event already stored (clocks: this machine's, both sides).
    let early_acks = record
        .acknowledged
        .iter()
        .filter(|(id, acked_at)| stored.get(*id).is_none_or(|received| received > *acked_at))
        .count();
    if early_acks > 0 {
        failures.push(format!(
            "{early_acks} events acknowledged (2xx) before they were stored"
        ));
    }
    if !record.abandoned.is_empty() {
        failures.push(format!(
            "{} deliveries never acknowledged after {MAX_ATTEMPTS} attempts",
            record.abandoned.len()
        ));
    }

    let mut latencies: Vec<f64> = record
        .webhook
        .iter()
        .filter(|e| (200..300).contains(&e.status))
        .map(|e| (e.answered - e.sent) * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let count = |list: &[Exchange], status: u16| list.iter().filter(|e| e.status == status).count();
    println!(
        "deliveries: {} ({unique} unique event ids, {} re-deliveries) at concurrency {}, {} requests in all",
        options.deliveries,
        options.deliveries - unique,
        options.concurrency,
        record.webhook.len()
    );
    println!(
        "answers: {} × 200, {} × 503, {} without an HTTP answer, {} other",
        count(&record.webhook, 200),
        count(&record.webhook, 503),
        count(&record.webhook, 0),
        record.webhook.len()
            - count(&record.webhook, 200)
            - count(&record.webhook, 503)
            - count(&record.webhook, 0)
    );
    println!(
        "throughput: {:.0} req/s over {load_secs:.1} s; 2xx latency p50 {:.1} ms, p99 {:.1} ms",
        record.webhook.len() as f64 / load_secs,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0)
    );
    println!(
        "stored: {} rows = {unique} unique event ids, {lost} lost, {duplicated} duplicated; {} acknowledged, {early_acks} before being stored",
        rows.len(),
        record.acknowledged.len()
    );

    if options.fault {
        match outage {
            None => failures.push("Postgres was never stopped (the load ended first)".into()),
            Some(window) => {
                // Requests that started after Postgres had stopped and ended before it was
                // started again saw only a down database: each must be a 503.
                let inside =
                    |e: &&Exchange| e.sent >= window.stopped && e.answered <= window.starting;
                let webhook_inside: Vec<&Exchange> = record.webhook.iter().filter(inside).collect();
                let reads_inside: Vec<&Exchange> = record.reads.iter().filter(inside).collect();
                let not_503 = webhook_inside
                    .iter()
                    .chain(&reads_inside)
                    .filter(|e| e.status != 503)
                    .count();
                println!(
                    "outage: Postgres stopped {:.2}–{:.2} s (stop took {:.2} s, start {:.2} s); while down: {} deliveries and {} reads, {not_503} not 503",
                    window.stopped,
                    window.starting,
                    window.stopped - window.stopping,
                    window.started - window.starting,
                    webhook_inside.len(),
                    reads_inside.len()
                );
                // Exercised: deliveries and reads alike were refused at least once. (Under heavy
                // load a request can take longer than the outage, so none need fit inside it.)
                if count(&record.webhook, 503) == 0 || count(&record.reads, 503) == 0 {
                    failures.push(
                        "no delivery or no read was refused: the fault was not exercised".into(),
                    );
                }
                if not_503 > 0 {
                    failures.push(format!(
                        "{not_503} requests answered other than 503 while Postgres was down"
                    ));
                }
                // Recovery: how long after Postgres was back reads were still refused, by the
                // time each refused read was sent (its answer may wait in the pooler's queue
                // behind the load); every read sent later must have succeeded.
                let after: Vec<&Exchange> = record
                    .reads
                    .iter()
                    .filter(|e| e.sent >= window.started)
                    .collect();
                let recovery = after
                    .iter()
                    .filter(|e| e.status != 200)
                    .map(|e| e.sent - window.started)
                    .fold(0.0, f64::max);
                println!(
                    "recovery: the last refused read was sent {:.0} ms after Postgres was back; {} reads sent after that point, {} succeeded",
                    recovery * 1000.0,
                    after.iter().filter(|e| e.sent - window.started > recovery).count(),
                    after.iter().filter(|e| e.sent - window.started > recovery && e.status == 200).count()
                );
                if !after.iter().any(|e| e.status == 200) {
                    failures.push("no read succeeded after Postgres returned".into());
                }
                if let Some(limit) = options.recovery_limit {
                    if recovery > limit.as_secs_f64() {
                        failures.push(format!(
                            "reads were still refused {:.0} ms after Postgres returned (limit {} ms)",
                            recovery * 1000.0,
                            limit.as_millis()
                        ));
                    }
                }
                println!(
                    "reads: {} × 200, {} × 503, {} other",
                    count(&record.reads, 200),
                    count(&record.reads, 503),
                    record.reads.len() - count(&record.reads, 200) - count(&record.reads, 503)
                );
            }
        }
    }

    if failures.is_empty() {
        println!("bench-load: every check held");
    } else {
        for failure in &failures {
            eprintln!("bench-load: FAILED: {failure}");
        }
        std::process::exit(1);
    }
}
