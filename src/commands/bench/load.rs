//! `magflow bench load --clients 100 --seconds 60 --syncs 10`: the API under N concurrent
//! clients while S syncs run on `magflow worker` processes (Redis + PostgreSQL, eMAG's
//! limits in the simulator; a sync that ends is started again, so S run throughout).
//!
//! Clients, by index: 4 in 10 call `GET /api/v1/status`, 4 in 10 alternate
//! `GET /api/v1/runs?limit=20` and `GET /api/v1/runs/{id}`, 1 in 10 follows a run over SSE
//! and 1 in 10 holds the WebSocket stream, each reconnecting every few seconds; a
//! stream's latency is the time to its first message. Baseline: the same clients for
//! `--baseline-seconds` before any sync starts, with one long ping run to follow. Any
//! error (a non-2xx answer, a stream that breaks, a sync that does not succeed) is
//! reported and fails the benchmark.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entity::job_run;
use futures::StreamExt;
use jobs::{
    JobKind, api_keys,
    emag::sim::{LimitMode, SimConfig, SimLogin, Simulator},
    registry, submit,
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct LoadBench {
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Length of the measured phase, with the syncs running.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Length of the baseline phase, before any sync starts.
    #[arg(long, default_value_t = 15)]
    baseline_seconds: u64,
    /// Syncs kept running (offers and orders of S/2 accounts).
    #[arg(long, default_value_t = 10)]
    syncs: usize,
    /// `magflow worker` processes.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Offers (and half as many orders) per account.
    #[arg(long, default_value_t = 5000)]
    items: usize,
    #[command(flatten)]
    stores: super::Stores,
}

/// How long a stream client stays connected before it reconnects.
const STREAM_HOLD: Duration = Duration::from_secs(5);

/// What the clients saw in one phase: latencies (ms) per endpoint, and errors.
#[derive(Default)]
struct Tally {
    samples: BTreeMap<&'static str, Vec<f64>>,
    stream_messages: u64,
    errors: Vec<String>,
}

type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub async fn run(args: LoadBench) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let accounts: Vec<String> = (1..=args.syncs.div_ceil(2).max(1))
        .map(|i| format!("acc{i}"))
        .collect();
    let sim = Simulator::start(
        SimConfig {
            logins: accounts
                .iter()
                .map(|a| SimLogin {
                    username: a.clone(),
                    password: format!("{a}-secret"),
                    fbe: false,
                })
                .collect(),
            offers: args.items,
            orders: args.items / 2,
            limits: LimitMode::Emag,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let env = args.stores.open(|_| {}).await?;
    let result = measure(&args, &env, &sim, &accounts).await;
    env.close().await;
    let report = result?;
    println!("{report}");
    let errors = report["errors"].as_u64().unwrap_or(0);
    anyhow::ensure!(errors == 0, "{errors} errors under load (see the report)");
    Ok(())
}

async fn measure(
    args: &LoadBench,
    env: &super::BenchEnv,
    sim: &Simulator,
    accounts: &[String],
) -> anyhow::Result<Value> {
    let ctx = &env.ctx;
    for a in accounts {
        env.add_account(a, sim, a, &format!("{a}-secret")).await?;
    }
    let concurrency = args.syncs.div_ceil(args.workers.max(1)) + 2;
    let worker_env = env.worker_env(&[("MAGFLOW_WORKER_CONCURRENCY", &concurrency.to_string())]);
    let mut workers = Vec::new();
    for _ in 0..args.workers.max(1) {
        workers.push(super::spawn_worker(&worker_env)?);
    }

    let (key, _) = api_keys::create(&ctx.db, api_keys::Role::Viewer, "bench").await?;
    let (base, api_stop) = super::serve_api(ctx).await?;

    // Something to follow before the syncs start: a ping run that outlasts the benchmark.
    let steps = (args.baseline_seconds + args.seconds + 60) * 10;
    let ping = start(
        ctx,
        JobKind::Ping,
        json!({ "steps": steps, "step_ms": 100 }),
    )
    .await?;
    let followed: Shared<Vec<Uuid>> = Arc::new(Mutex::new(vec![ping]));

    let baseline = phase(args, &base, &key, &followed, args.baseline_seconds).await;

    let syncs = SyncKeeper::start(ctx.clone(), accounts, args.syncs, followed.clone()).await?;
    let loaded = phase(args, &base, &key, &followed, args.seconds).await;
    let kept = syncs.stop().await;
    api_stop.cancel();
    for mut w in workers {
        let _ = w.start_kill();
        let _ = w.wait().await;
    }

    let sync_errors = kept.errors.len();
    let errors = baseline.errors.len() + loaded.errors.len() + sync_errors;
    let mut endpoints = serde_json::Map::new();
    for (name, samples) in &loaded.samples {
        let base_samples = baseline.samples.get(name).map(Vec::as_slice).unwrap_or(&[]);
        endpoints.insert(
            (*name).to_owned(),
            json!({
                "under_load": row(samples, args.seconds),
                "baseline": row(base_samples, args.baseline_seconds),
                "p99_ratio": percentile(samples, 99.0) / percentile(base_samples, 99.0),
            }),
        );
    }
    let first_errors: Vec<&String> = baseline
        .errors
        .iter()
        .chain(&loaded.errors)
        .chain(&kept.errors)
        .take(10)
        .collect();
    Ok(json!({
        "clients": args.clients,
        "seconds": args.seconds,
        "baseline_seconds": args.baseline_seconds,
        "workers": args.workers,
        "syncs": {
            "kept_running": args.syncs,
            "fewest_running": kept.fewest_running,
            "completed": kept.completed,
            "items_synced": kept.items,
        },
        "endpoints": endpoints,
        "stream_messages": { "baseline": baseline.stream_messages, "under_load": loaded.stream_messages },
        "errors": errors,
        "first_errors": first_errors,
    }))
}

fn row(sorted: &[f64], seconds: u64) -> Value {
    json!({
        "requests": sorted.len(),
        "per_s": sorted.len() as f64 / seconds.max(1) as f64,
        "p50_ms": percentile(sorted, 50.0),
        "p99_ms": percentile(sorted, 99.0),
        "max_ms": sorted.last(),
    })
}

async fn start(ctx: &jobs::JobContext, kind: JobKind, params: Value) -> anyhow::Result<Uuid> {
    let validated = registry::validate(kind, &params)?;
    Ok(submit::submit(&ctx.db, &ctx.queue, kind, validated, None)
        .await?
        .id)
}

/// Every client for `seconds`; latencies sorted.
async fn phase(
    args: &LoadBench,
    base: &str,
    key: &str,
    followed: &Shared<Vec<Uuid>>,
    seconds: u64,
) -> Tally {
    let tally: Shared<Tally> = Arc::default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..args.clients {
        let c = Client {
            http: http.clone(),
            base: base.to_owned(),
            key: key.to_owned(),
            followed: followed.clone(),
            tally: tally.clone(),
            deadline,
        };
        tasks.push(tokio::spawn(async move {
            match i % 10 {
                0..=3 => c.status().await,
                4..=7 => c.runs().await,
                8 => c.sse().await,
                _ => c.websocket().await,
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut tally = std::mem::take(&mut *lock(&tally));
    for samples in tally.samples.values_mut() {
        samples.sort_by(f64::total_cmp);
    }
    tally
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    followed: Shared<Vec<Uuid>>,
    tally: Shared<Tally>,
    deadline: Instant,
}

impl Client {
    fn sample(&self, endpoint: &'static str, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        lock(&self.tally)
            .samples
            .entry(endpoint)
            .or_default()
            .push(ms);
    }

    fn error(&self, what: String) {
        lock(&self.tally).errors.push(what);
    }

    fn pick(&self) -> Uuid {
        let followed = lock(&self.followed);
        followed[rand::random_range(0..followed.len())]
    }

    /// A GET with the key; a non-2xx answer is an error.
    async fn send(&self, path: &str) -> Result<reqwest::Response, String> {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(r),
            Ok(r) => Err(format!("{path}: HTTP {}", r.status())),
            Err(e) => Err(format!("{path}: {e}")),
        }
    }

    async fn get(&self, endpoint: &'static str, path: &str) {
        let started = Instant::now();
        match self.send(path).await {
            Ok(r) => match r.bytes().await {
                Ok(_) => self.sample(endpoint, started),
                Err(e) => self.error(format!("{path}: {e}")),
            },
            Err(e) => self.error(e),
        }
    }

    async fn status(self) {
        while Instant::now() < self.deadline {
            self.get("GET /api/v1/status", "/api/v1/status").await;
        }
    }

    async fn runs(self) {
        let mut n = 0u64;
        while Instant::now() < self.deadline {
            n += 1;
            if n.is_multiple_of(2) {
                self.get("GET /api/v1/runs", "/api/v1/runs?limit=20").await;
            } else {
                let id = self.pick();
                self.get("GET /api/v1/runs/{id}", &format!("/api/v1/runs/{id}"))
                    .await;
            }
        }
    }

    /// Follows a run's SSE for a few seconds at a time.
    async fn sse(self) {
        while Instant::now() < self.deadline {
            let id = self.pick();
            let path = format!("/api/v1/runs/{id}/events");
            let started = Instant::now();
            let response = match self.send(&path).await {
                Ok(r) => r,
                Err(e) => {
                    self.error(e);
                    continue;
                }
            };
            let until = (Instant::now() + STREAM_HOLD).min(self.deadline);
            let mut body = response.bytes_stream();
            let mut first = true;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, body.next()).await {
                    Err(_) | Ok(None) => break,
                    Ok(Some(Ok(chunk))) => {
                        if first {
                            self.sample("SSE /api/v1/runs/{id}/events", started);
                            first = false;
                        }
                        let events = chunk.windows(2).filter(|w| w == b"\n\n").count();
                        lock(&self.tally).stream_messages += events as u64;
                    }
                    Ok(Some(Err(e))) => {
                        self.error(format!("{path}: stream broke: {e}"));
                        break;
                    }
                }
            }
        }
    }

    /// Holds the WebSocket stream for a few seconds at a time.
    async fn websocket(self) {
        let url = format!("{}/api/v1/stream", self.base.replacen("http", "ws", 1));
        while Instant::now() < self.deadline {
            let Ok(mut request) = url.as_str().into_client_request() else {
                self.error(format!("{url}: bad request"));
                return;
            };
            if let Ok(value) = format!("Bearer {}", self.key).parse() {
                request.headers_mut().insert("authorization", value);
            }
            let started = Instant::now();
            let mut ws = match tokio_tungstenite::connect_async(request).await {
                Ok((ws, _)) => ws,
                Err(e) => {
                    self.error(format!("/api/v1/stream: {e}"));
                    continue;
                }
            };
            let until = (Instant::now() + STREAM_HOLD).min(self.deadline);
            let mut first = true;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, ws.next()).await {
                    Err(_) => break,
                    Ok(None) => {
                        self.error("/api/v1/stream: closed by the server".into());
                        break;
                    }
                    Ok(Some(Ok(_))) => {
                        if first {
                            self.sample("WS /api/v1/stream", started);
                            first = false;
                        }
                        lock(&self.tally).stream_messages += 1;
                    }
                    Ok(Some(Err(e))) => {
                        self.error(format!("/api/v1/stream: {e}"));
                        break;
                    }
                }
            }
            let _ = ws.close(None).await;
        }
    }
}

/// Keeps `target` syncs running: each (account, resource) is started again when it ends.
struct SyncKeeper {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Kept>,
}

#[derive(Default)]
struct Kept {
    fewest_running: usize,
    completed: u64,
    items: i64,
    errors: Vec<String>,
}

impl SyncKeeper {
    async fn start(
        ctx: jobs::JobContext,
        accounts: &[String],
        target: usize,
        followed: Shared<Vec<Uuid>>,
    ) -> anyhow::Result<SyncKeeper> {
        let slots: Vec<(String, &str)> = accounts
            .iter()
            .flat_map(|a| [(a.clone(), "offers"), (a.clone(), "orders")])
            .take(target)
            .collect();
        let mut running = Vec::new();
        for (account, resource) in &slots {
            running.push(start_sync(&ctx, account, resource).await?);
        }
        lock(&followed).extend(running.iter().copied());
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut kept = Kept {
                fewest_running: slots.len(),
                ..Kept::default()
            };
            while !token.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let mut active = 0;
                for (slot, (account, resource)) in slots.iter().enumerate() {
                    let run = match job_run::Entity::find_by_id(running[slot])
                        .one(&ctx.db)
                        .await
                    {
                        Ok(Some(run)) => run,
                        Ok(None) => continue,
                        Err(e) => {
                            kept.errors
                                .push(format!("reading sync {}: {e}", running[slot]));
                            continue;
                        }
                    };
                    if !run.status.is_terminal() {
                        active += 1;
                        continue;
                    }
                    if run.status != job_run::RunStatus::Succeeded {
                        kept.errors.push(format!(
                            "sync {} ({account} {resource}) ended {}: {:?}",
                            run.id,
                            run.status.as_str(),
                            run.error_message
                        ));
                    }
                    kept.completed += 1;
                    kept.items += run.processed;
                    match start_sync(&ctx, account, resource).await {
                        Ok(id) => {
                            running[slot] = id;
                            lock(&followed).push(id);
                            active += 1;
                        }
                        Err(e) => kept.errors.push(format!("starting a sync: {e}")),
                    }
                }
                kept.fewest_running = kept.fewest_running.min(active);
            }
            kept
        });
        Ok(SyncKeeper { stop, task })
    }

    async fn stop(self) -> Kept {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

async fn start_sync(ctx: &jobs::JobContext, account: &str, resource: &str) -> anyhow::Result<Uuid> {
    start(
        ctx,
        JobKind::Sync,
        json!({ "accounts": [account], "resource": resource }),
    )
    .await
}
