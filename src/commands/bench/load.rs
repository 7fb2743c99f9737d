//! `magflow bench load --clients 100 --seconds 60 --syncs 10`: the API under N concurrent
//! clients while S syncs run on `magflow worker` processes (Redis + PostgreSQL, eMAG's
//! limits in the simulator; a sync that ends is started again, so S run throughout).
//! The API, the simulator and the workers are processes of their own; this one only
//! generates the load, and the report says how many cores each part used in each phase.
//!
//! Clients, by index: 4 in 10 call `GET /api/v1/status`, 4 in 10 alternate
//! `GET /api/v1/runs?limit=20` and `GET /api/v1/runs/{id}`, 1 in 10 follows a run over SSE
//! and 1 in 10 holds the WebSocket stream, each reconnecting every few seconds; a
//! stream's latency is the time to its first message. Baseline: the same clients for
//! `--baseline-seconds` before any sync starts, with one long ping run to follow, after
//! one sync of each (account, resource) has run to its end, so that both phases read the
//! same kind of history and differ by the writes. Any
//! error (a non-2xx answer, a stream that breaks, a sync that does not succeed) is
//! reported and fails the benchmark.

use std::sync::{Arc, Mutex};

use jobs::{JobKind, api_keys, registry};
use serde_json::{Value, json};
use uuid::Uuid;

use super::percentile;

mod clients;
mod procs;
mod syncs;

use clients::phase;
use syncs::SyncKeeper;

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
type Shared<T> = Arc<Mutex<T>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub async fn run(args: LoadBench) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let accounts: Vec<String> = (1..=args.syncs.div_ceil(2).max(1))
        .map(|i| format!("acc{i}"))
        .collect();
    let sim = procs::simulator(&accounts, args.items).await?;
    let env = args.stores.open(|_| {}).await?;
    let result = measure(&args, &env, sim, &accounts).await;
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
    sim: procs::Started,
    accounts: &[String],
) -> anyhow::Result<Value> {
    let ctx = &env.ctx;
    for a in accounts {
        env.add_account(a, &sim.url, a, &format!("{a}-secret"))
            .await?;
    }
    let parts = Parts::start(args, env, sim).await?;
    let (key, _) = api_keys::create(&ctx.db, api_keys::Role::Viewer, "bench").await?;
    let base = parts.api.url.clone();

    // Something to follow before the syncs start: a ping run that outlasts the benchmark.
    let steps = (args.baseline_seconds + args.seconds + 60) * 10;
    let ping = start(
        ctx,
        JobKind::Ping,
        json!({ "steps": steps, "step_ms": 100 }),
    )
    .await?;
    let mut history = syncs::history(ctx, accounts, args.syncs).await?;
    history.push(ping);
    let followed: Shared<Vec<Uuid>> = Arc::new(Mutex::new(history));

    let before = parts.meter.read();
    let baseline = phase(args, &base, &key, &followed, args.baseline_seconds).await;
    let baseline_cpu = parts.meter.read().cores_since(&before);

    let syncs = SyncKeeper::start(ctx.clone(), accounts, args.syncs, followed.clone()).await?;
    let before = parts.meter.read();
    let loaded = phase(args, &base, &key, &followed, args.seconds).await;
    let loaded_cpu = parts.meter.read().cores_since(&before);
    let kept = syncs.stop().await;
    parts.stop().await;

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
        "cpu_cores": { "baseline": baseline_cpu, "under_load": loaded_cpu },
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
    Ok(registry::start(kind, &ctx.db, &ctx.queue, &params)
        .await?
        .id)
}

/// The processes under test: workers, the API, the simulator, and the meter of their CPU.
struct Parts {
    workers: Vec<tokio::process::Child>,
    api: procs::Started,
    sim: procs::Started,
    meter: procs::CpuMeter,
}

impl Parts {
    async fn start(
        args: &LoadBench,
        env: &super::BenchEnv,
        sim: procs::Started,
    ) -> anyhow::Result<Parts> {
        let concurrency = (args.syncs.div_ceil(args.workers.max(1)) + 2).to_string();
        let worker_env = env.worker_env(&[("MAGFLOW_WORKER_CONCURRENCY", &concurrency)]);
        let mut workers = Vec::new();
        for _ in 0..args.workers.max(1) {
            workers.push(super::spawn_worker(&worker_env)?);
        }
        // Every client uses one viewer key, and a stream client reconnects before the API
        // has noticed its previous connection closed: the per-key stream limit (a defence
        // against one key holding every slot) is not what this measures.
        let streams = (2 * args.clients).to_string();
        let api = procs::api(&env.worker_env(&[("MAGFLOW_API_STREAMS_PER_KEY", &streams)])).await?;
        let meter = procs::CpuMeter::new(vec![
            ("api", api.child.id().into_iter().collect()),
            ("workers", workers.iter().filter_map(|w| w.id()).collect()),
            ("simulator", sim.child.id().into_iter().collect()),
            ("load_generator", vec![std::process::id()]),
        ]);
        Ok(Parts {
            workers,
            api,
            sim,
            meter,
        })
    }

    async fn stop(mut self) {
        let children = self.workers.iter_mut();
        for child in children.chain([&mut self.api.child, &mut self.sim.child]) {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}
