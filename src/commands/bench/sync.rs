//! `magflow bench sync`: the sync job end to end, against the simulator over HTTP.
//!
//! - `--part utilisation --processes N`: N `magflow worker` processes sync N accounts
//!   that share one eMAG login (Redis limiter), with the simulator enforcing eMAG's
//!   limits: requests/s achieved ÷ 3/s, 429s, the most requests in any sliding second.
//! - `--part throughput --offers N`: limits off; one worker process syncs N offers into
//!   PostgreSQL. Baseline: `COPY` of the same rows into a copy of the table, in the same
//!   run. With `--backend sqlite`, into the embedded SQLite files instead, against the
//!   same rows inserted into a copy of the table with multi-row `INSERT`s of bound
//!   values in one transaction. Also reports the worker process's peak RSS (`VmHWM`).

mod baseline;

use std::time::Instant;

use anyhow::Context;
use entity::job_run::{self, RunStatus};
use futures::StreamExt;
use jobs::{
    JobContext, JobKind,
    emag::sim::{LimitMode, SimConfig, SimLogin, Simulator},
    registry,
};
use sea_orm::{ConnectionTrait, Database, EntityTrait};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct SyncBench {
    #[arg(long, value_parser = ["utilisation", "throughput"])]
    part: String,
    /// Worker processes (utilisation).
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Pages of 100 offers each account reads (utilisation).
    #[arg(long, default_value_t = 30)]
    pages: usize,
    /// Simulated eMAG answer time in ms (utilisation), e.g. `1000-1500`; real pages take
    /// 3–4 s.
    #[arg(long, default_value = "0-0")]
    latency_ms: String,
    /// Offers to sync (throughput).
    #[arg(long, default_value_t = 100_000)]
    offers: usize,
    /// Where the data and the queue live: Redis and PostgreSQL, or the embedded SQLite
    /// files (throughput).
    #[arg(long, default_value = "redis", value_parser = ["redis", "sqlite"])]
    backend: String,
    #[command(flatten)]
    stores: super::Stores,
}

const LOGIN: &str = "bench";
const PASSWORD: &str = "bench-secret";

pub async fn run(args: SyncBench) -> anyhow::Result<()> {
    let (offers, limits) = match args.part.as_str() {
        "utilisation" => (args.pages * 100, LimitMode::Emag),
        _ => (args.offers, LimitMode::Off),
    };
    let sim = Simulator::start(
        SimConfig {
            logins: vec![SimLogin {
                username: LOGIN.into(),
                password: PASSWORD.into(),
                fbe: false,
            }],
            offers,
            orders: 1,
            limits,
            faults: jobs::emag::sim::Faults::parse(&format!("latency={}", args.latency_ms))?,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let bench = if args.backend == "sqlite" {
        super::open_embedded(|_| {}).await?
    } else {
        args.stores.open(|_| {}).await?
    };
    let ctx = &bench.ctx;
    let accounts_n = if args.part == "utilisation" {
        args.processes.max(1)
    } else {
        1
    };
    for i in 0..accounts_n {
        bench
            .add_account(&format!("b{i}"), &sim.base_url, LOGIN, PASSWORD)
            .await?;
    }
    let rate_limit = if args.part == "utilisation" {
        "true"
    } else {
        "false"
    };
    let env = bench.worker_env(&[("MAGFLOW_EMAG_RATE_LIMIT", rate_limit)]);
    let mut workers = Vec::new();
    for _ in 0..args.processes.max(1) {
        workers.push(super::spawn_worker(&env)?);
    }
    let runs = sync_all(ctx, accounts_n).await?;
    // Throughput also syncs again with nothing changed: every row hashes the same and
    // is only touched, not rewritten.
    let again = if args.part == "throughput" {
        sync_all(ctx, accounts_n).await?
    } else {
        Vec::new()
    };
    let peak_rss_kib: Vec<u64> = workers
        .iter()
        .filter_map(|w| w.id())
        .filter_map(peak_rss_kib)
        .collect();
    for w in &mut workers {
        let _ = w.start_kill();
    }
    let report = match args.part.as_str() {
        "utilisation" => utilisation(&sim, &args, &runs),
        _ => throughput(ctx, &runs, &again, &peak_rss_kib).await?,
    };
    println!("{report}");
    bench.close().await;
    Ok(())
}

/// One offers sync per bench account, to the end.
async fn sync_all(ctx: &JobContext, accounts: usize) -> anyhow::Result<Vec<job_run::Model>> {
    let mut ids = Vec::new();
    for i in 0..accounts {
        let params = json!({ "accounts": [format!("b{i}")], "resource": "offers" });
        ids.push(
            registry::start(JobKind::Sync, &ctx.db, &ctx.queue, &params)
                .await?
                .id,
        );
    }
    wait_all(ctx, &ids).await
}

pub(super) async fn wait_all(
    ctx: &JobContext,
    ids: &[uuid::Uuid],
) -> anyhow::Result<Vec<job_run::Model>> {
    loop {
        let mut runs = Vec::new();
        for id in ids {
            runs.extend(job_run::Entity::find_by_id(*id).one(&ctx.db).await?);
        }
        if runs.iter().all(|r| r.status.is_terminal()) {
            for r in &runs {
                anyhow::ensure!(
                    r.status == RunStatus::Succeeded,
                    "run {} ended {}: {:?}",
                    r.id,
                    r.status.as_str(),
                    r.error_message
                );
            }
            return Ok(runs);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn utilisation(sim: &Simulator, args: &SyncBench, runs: &[job_run::Model]) -> serde_json::Value {
    let log = sim.state.requests(0);
    let mut times: Vec<f64> = log
        .iter()
        .filter(|r| r.status != 429)
        .map(|r| r.t_ms)
        .collect();
    times.sort_by(f64::total_cmp);
    let rejected = log.iter().filter(|r| r.status == 429).count();
    let span_s =
        (times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0)) / 1000.0;
    let rate = if span_s > 0.0 {
        (times.len().saturating_sub(1)) as f64 / span_s
    } else {
        0.0
    };
    json!({
        "part": "utilisation",
        "processes": args.processes,
        "accounts_sharing_one_login": runs.len(),
        "offers_per_account": args.pages * 100,
        "latency_ms": args.latency_ms,
        "requests": times.len(),
        "rejected_429": rejected,
        "max_in_any_second": jobs::emag::rate_limit::max_in_window(&times, 1000.0),
        "limit_per_second": 3.0,
        "achieved_per_second": rate,
        "utilisation": rate / 3.0,
    })
}

async fn throughput(
    ctx: &JobContext,
    runs: &[job_run::Model],
    again: &[job_run::Model],
    peak_rss_kib: &[u64],
) -> anyhow::Result<serde_json::Value> {
    let run = runs.first().context("one run")?;
    let seconds = duration(run)?;
    let resync = again.first().context("second run")?;
    anyhow::ensure!(
        resync.unchanged == resync.processed,
        "the second sync rewrote rows"
    );
    let resync_seconds = duration(resync)?;
    let rows = run.processed as f64;
    let (baseline, (copied, copy_seconds)) = match ctx.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => ("COPY", copy_baseline(ctx).await?),
        _ => (
            "multi-row INSERT",
            baseline::insert_again(ctx, BASELINE_TRIES).await?,
        ),
    };
    let sync_rate = rows / seconds;
    let copy_rate = copied as f64 / copy_seconds;
    Ok(json!({
        "part": "throughput",
        "backend": ctx.db.get_database_backend().as_str(),
        "baseline": baseline,
        "offers": run.processed,
        "sync_seconds": seconds,
        "sync_offers_per_second": sync_rate,
        "copy_rows": copied,
        "copy_seconds": copy_seconds,
        "copy_rows_per_second": copy_rate,
        "ratio_to_copy": sync_rate / copy_rate,
        "resync_unchanged_seconds": resync_seconds,
        "resync_offers_per_second": resync.processed as f64 / resync_seconds,
        "worker_peak_rss_mib": peak_rss_kib.first().map(|k| *k as f64 / 1024.0),
    }))
}

/// Times the baseline is measured; the fastest counts. One COPY of 100,000 rows took
/// from 1.2 s to 1.9 s here from run to run (a checkpoint, the other processes), and a
/// ratio against one measurement moved as much.
const BASELINE_TRIES: usize = 3;

/// PostgreSQL: the synced rows copied out, then `COPY`'d into a copy of the table (its
/// key and indexes), [`BASELINE_TRIES`] times into a fresh copy; rows and seconds of the
/// fastest copy in.
async fn copy_baseline(ctx: &JobContext) -> anyhow::Result<(u64, f64)> {
    let pool = ctx.db.get_postgres_connection_pool();
    let mut conn = pool.acquire().await?;
    let mut data = Vec::new();
    {
        let mut out = conn.copy_out_raw("COPY offers TO STDOUT").await?;
        while let Some(chunk) = out.next().await {
            data.extend_from_slice(&chunk?);
        }
    }
    let mut runs = Vec::new();
    for _ in 0..BASELINE_TRIES {
        ctx.db
            .execute_unprepared(
                "DROP TABLE IF EXISTS offers_copy; CREATE TABLE offers_copy (LIKE offers INCLUDING ALL)",
            )
            .await?;
        let started = Instant::now();
        let mut copy = conn.copy_in_raw("COPY offers_copy FROM STDIN").await?;
        copy.send(data.as_slice()).await?;
        let copied = copy.finish().await?;
        runs.push((copied, started.elapsed().as_secs_f64()));
    }
    fastest(runs)
}

/// The fastest of a baseline's runs: (rows, seconds).
fn fastest(runs: Vec<(u64, f64)>) -> anyhow::Result<(u64, f64)> {
    runs.into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .context("no baseline")
}

pub(super) fn duration(run: &job_run::Model) -> anyhow::Result<f64> {
    match (run.started_at, run.finished_at) {
        (Some(a), Some(b)) => Ok((b - a).num_milliseconds() as f64 / 1000.0),
        _ => anyhow::bail!("run {} has no start or end time", run.id),
    }
}

/// Peak resident set of a process (Linux `VmHWM`), in KiB.
pub(super) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(super) async fn fresh_database(admin_url: &str) -> anyhow::Result<(String, String)> {
    let name = format!("mf_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .with_context(|| "MAGFLOW_BENCH_DATABASE_URL: cannot connect")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok((url_with_path(admin_url, &name)?, name))
}

fn url_with_path(url: &str, db: &str) -> anyhow::Result<String> {
    let (base, _) = url.rsplit_once('/').context("database URL has no path")?;
    Ok(format!("{base}/{db}"))
}

pub(super) async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}
