//! `magflow bench queue --backend redis|sqlite --jobs N`
//!
//! 1. Baseline: sequential raw round trips to the queue store (Redis `LPUSH`+`RPOP`;
//!    SQLite one-row insert+delete transactions on the queue file).
//! 2. Throughput: N no-op pings enqueued, then one worker (this process, default
//!    concurrency) drains them; jobs/s = N ÷ drain time.
//! 3. Latency: with the worker idle, pings enqueued one at a time; enqueue→start is the
//!    run's `started_at − created_at`. Each enqueue waits a random 0–1.5 poll intervals
//!    first, so arrivals are spread over the worker's poll cycle.

use std::time::{Duration, Instant};

use anyhow::Context;
use entity::job_run::{self, RunStatus};
use jobs::{
    Config, JobContext, JobKind, SecretUrl,
    runs::{self, NewRun},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct QueueBench {
    #[arg(long, value_parser = ["redis", "sqlite"])]
    backend: String,
    /// Jobs for the throughput phase.
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// Jobs for the latency phase (enqueued one at a time).
    #[arg(long, default_value_t = 100)]
    latency_jobs: usize,
    /// Redis for `--backend redis`.
    #[arg(
        long,
        env = "MAGFLOW_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    redis_url: String,
    /// Where runs are stored (default: a SQLite file in a temporary folder).
    #[arg(long, env = "MAGFLOW_BENCH_DATABASE_URL")]
    database_url: Option<String>,
}

pub async fn run(args: QueueBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.jobs > 0 && args.latency_jobs > 0,
        "--jobs and --latency-jobs must be positive"
    );
    let dir = tempfile::tempdir()?;
    let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let queue_url = match args.backend.as_str() {
        "redis" => args.redis_url.clone(),
        _ => format!("sqlite://{}/queue.db", dir.path().display()),
    };
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/magflow.db", dir.path().display()));
    let config = Config {
        database_url: SecretUrl::new(database_url),
        queue_url: SecretUrl::new(queue_url.clone()),
        queue_prefix: prefix.clone(),
        ..Config::default()
    };
    let ctx = JobContext::connect(config, true).await?;
    let db = ctx.db.clone();

    let rounds = args.jobs.max(200);
    let baseline = match args.backend.as_str() {
        "redis" => redis_round_trips(&queue_url, &prefix, rounds).await?,
        _ => sqlite_round_trips(&queue_url, rounds).await?,
    };

    // Throughput: a backlog of N, drained by one worker.
    for _ in 0..args.jobs {
        runs::enqueue(&db, &ctx.queue, ping()).await?;
    }
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let started = Instant::now();
    let worker = tokio::spawn(worker::run(
        ctx.clone(),
        async move { signal.cancelled().await },
    ));
    wait_succeeded(&db, args.jobs as u64, Duration::from_secs(600)).await?;
    let drain = started.elapsed();
    let jobs_per_s = args.jobs as f64 / drain.as_secs_f64();

    let latencies = idle_latencies(&ctx, &args).await?;
    stop.cancel();
    worker.await??;

    print_table(&args, &ctx, baseline, jobs_per_s, &latencies);
    if args.backend == "redis" {
        super::cleanup_redis(&queue_url, &prefix).await;
    }
    Ok(())
}

fn print_table(
    args: &QueueBench,
    ctx: &JobContext,
    baseline: (&str, f64),
    jobs_per_s: f64,
    latencies: &[f64],
) {
    let backend = &args.backend;
    println!(
        "magflow bench queue --backend {backend} --jobs {} --latency-jobs {}",
        args.jobs, args.latency_jobs
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| baseline: raw {} round trips/s (sequential) | {:.0} |",
        baseline.0, baseline.1
    );
    println!(
        "| ping jobs/s through one worker ({} jobs, concurrency {}) | {:.1} |",
        args.jobs, ctx.config.worker_concurrency, jobs_per_s
    );
    println!(
        "| jobs/s ÷ raw round trips/s | {:.4} |",
        jobs_per_s / baseline.1
    );
    println!(
        "| enqueue→start p50 (ms, idle worker) | {:.1} |",
        percentile(latencies, 50.0)
    );
    println!(
        "| enqueue→start p99 (ms, idle worker) | {:.1} |",
        percentile(latencies, 99.0)
    );
}

/// Enqueue→start in milliseconds, one job at a time against an idle worker, sorted.
async fn idle_latencies(ctx: &JobContext, args: &QueueBench) -> anyhow::Result<Vec<f64>> {
    let db = &ctx.db;
    let mut latencies = Vec::with_capacity(args.latency_jobs);
    let poll_ms = ctx.config.poll_interval_ms;
    for i in 0..args.latency_jobs {
        // Arrive at a random point of the worker's poll cycle, as real requests do;
        // enqueuing right after the previous job ends would always hit the cycle's start.
        let offset = rand::random_range(0..poll_ms.max(1) * 3 / 2);
        tokio::time::sleep(Duration::from_millis(offset)).await;
        let run = runs::enqueue(db, &ctx.queue, ping()).await?;
        let done = wait_succeeded(db, (args.jobs + i + 1) as u64, Duration::from_secs(60)).await;
        done.with_context(|| format!("latency job {i} did not finish"))?;
        let row = job_run::Entity::find_by_id(run.id)
            .one(db)
            .await?
            .context("run vanished")?;
        let start = row.started_at.context("no start time")?;
        latencies.push((start - row.created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

fn ping() -> NewRun {
    NewRun {
        kind: JobKind::Ping,
        params: json!({ "steps": 1, "step_ms": 0 }),
        account: None,
        max_attempts: 3,
        parent_id: None,
        lock_key: None,
    }
}

async fn wait_succeeded(
    db: &sea_orm::DatabaseConnection,
    n: u64,
    deadline: Duration,
) -> anyhow::Result<()> {
    let until = Instant::now() + deadline;
    loop {
        let done = job_run::Entity::find()
            .filter(job_run::Column::Status.eq(RunStatus::Succeeded))
            .count(db)
            .await?;
        if done >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < until,
            "only {done} of {n} jobs finished in {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn redis_round_trips(
    url: &str,
    prefix: &str,
    n: usize,
) -> anyhow::Result<(&'static str, f64)> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let key = format!("{prefix}.baseline");
    let started = Instant::now();
    for i in 0..n {
        let _: i64 = redis::cmd("LPUSH")
            .arg(&key)
            .arg(i)
            .query_async(&mut conn)
            .await?;
        let _: Option<String> = redis::cmd("RPOP").arg(&key).query_async(&mut conn).await?;
    }
    Ok((
        "Redis LPUSH+RPOP",
        (2 * n) as f64 / started.elapsed().as_secs_f64(),
    ))
}

async fn sqlite_round_trips(url: &str, n: usize) -> anyhow::Result<(&'static str, f64)> {
    use sea_orm::{ConnectionTrait, SqlxSqliteConnector, sqlx::sqlite::SqlitePoolOptions};
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let conn = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    conn.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER PRIMARY KEY, v TEXT)").await?;
    let started = Instant::now();
    for i in 0..n {
        conn.execute_unprepared(&format!(
            "INSERT INTO bench_baseline (id, v) VALUES ({i}, 'x')"
        ))
        .await?;
        conn.execute_unprepared(&format!("DELETE FROM bench_baseline WHERE id = {i}"))
            .await?;
    }
    Ok((
        "SQLite insert+delete transactions",
        (2 * n) as f64 / started.elapsed().as_secs_f64(),
    ))
}
