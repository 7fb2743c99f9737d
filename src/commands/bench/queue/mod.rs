//! `magflow bench queue --backend redis|sqlite --jobs N`
//!
//! 1. Baseline: sequential raw round trips to the queue store (Redis `LPUSH`+`RPOP`;
//!    SQLite one-row insert+delete transactions on the queue file).
//! 2. Throughput: N no-op pings enqueued, then one worker (this process, default
//!    concurrency) drains them; jobs/s = N ÷ drain time.
//! 3. Pick-up ([`pickup`]): a separate `magflow worker` process idles (its CPU read from
//!    `/proc`), then pings are enqueued one at a time from this process; enqueue→start
//!    is the run's `started_at − created_at`.
//!
//! Redis queue: run rows in a PostgreSQL database of the benchmark's own
//! (`MAGFLOW_BENCH_DATABASE_URL`). SQLite: both in files of a temporary folder, the
//! embedded default.

mod pickup;
mod trips;

use std::time::{Duration, Instant};

use entity::job_run::{self, RunStatus};
use jobs::{
    Config, JobContext, JobKind,
    runs::{self, NewRun},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Stores, percentile};

#[derive(clap::Args, Debug)]
pub struct QueueBench {
    #[arg(long, value_parser = ["redis", "sqlite"])]
    backend: String,
    /// Jobs for the throughput phase.
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// Jobs for the pick-up phase (enqueued one at a time).
    #[arg(long, default_value_t = 100)]
    latency_jobs: usize,
    /// Jobs for the round-trip count (its own phase: counting slows Redis down).
    #[arg(long, default_value_t = 200)]
    trips_jobs: usize,
    /// Tasks each queue's worker runs at once (`MAGFLOW_WORKER_CONCURRENCY`).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Seconds the worker process idles while its CPU is measured.
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
    #[command(flatten)]
    stores: Stores,
}

/// Where one run keeps its queue and runs, and how a worker process reaches them.
/// Redis and PostgreSQL of their own, or the embedded SQLite files.
async fn open(args: &QueueBench) -> anyhow::Result<super::BenchEnv> {
    let adjust = |c: &mut Config| set_concurrency(c, args.concurrency);
    if args.backend == "redis" {
        args.stores.open(adjust).await
    } else {
        super::open_embedded(adjust).await
    }
}

fn set_concurrency(config: &mut Config, concurrency: Option<usize>) {
    if let Some(n) = concurrency {
        config.worker_concurrency = n;
    }
}

fn concurrency_env(args: &QueueBench) -> Vec<(String, String)> {
    args.concurrency
        .map(|n| ("MAGFLOW_WORKER_CONCURRENCY".to_owned(), n.to_string()))
        .into_iter()
        .collect()
}

pub async fn run(args: QueueBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.jobs > 0 && args.latency_jobs > 0,
        "--jobs and --latency-jobs must be positive"
    );
    let place = open(&args).await?;
    let mut worker_env = place.worker_env(&[]);
    worker_env.extend(concurrency_env(&args));
    let ctx = place.ctx.clone();
    let db = ctx.db.clone();

    let rounds = args.jobs.max(200);
    let (baseline, rows_baseline) = match args.backend.as_str() {
        "redis" => (
            redis_round_trips(&args.stores.redis_url, ctx.queue.prefix(), rounds).await?,
            Some(postgres_round_trips(&db, rounds).await?),
        ),
        _ => (
            sqlite_round_trips(ctx.config.queue_url.expose(), rounds).await?,
            None,
        ),
    };

    // Throughput: a backlog of N, drained by one worker. Half of it is enqueued one run
    // at a time, half in batches as `POST /api/v1/runs/batch` takes them: the producer's
    // rate each way.
    let produced = enqueue_backlog(&ctx, args.jobs).await?;
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
    stop.cancel();
    worker.await??;

    let redis_url = (args.backend == "redis").then_some(args.stores.redis_url.as_str());
    let trips = trips::measure(&ctx, redis_url, args.trips_jobs, args.jobs as u64).await?;
    let done = (args.jobs + args.trips_jobs) as u64;
    let pickup = pickup::measure(
        &ctx,
        &worker_env,
        args.latency_jobs,
        args.idle_seconds,
        done,
    )
    .await?;

    print_table(&args, &ctx, baseline, jobs_per_s, &pickup);
    println!(
        "| producer: runs enqueued/s, one at a time / in batches of {} | {:.0} / {:.0} |",
        jobs::actions::batch::MAX_RUNS,
        produced.0,
        produced.1
    );
    if let Some((store, per_s)) = rows_baseline {
        println!(
            "| baseline: raw {store} round trips/s (sequential, the run rows' store) | {per_s:.0} |"
        );
        println!(
            "| jobs/s ÷ raw {store} round trips/s | {:.4} |",
            jobs_per_s / per_s
        );
    }
    print_trips(&trips);
    drop(ctx);
    place.close().await;
    Ok(())
}

fn print_table(
    args: &QueueBench,
    ctx: &JobContext,
    baseline: (&str, f64),
    jobs_per_s: f64,
    pickup: &pickup::Pickup,
) {
    let backend = &args.backend;
    println!(
        "magflow bench queue --backend {backend} --jobs {} --latency-jobs {} --idle-seconds {}",
        args.jobs, args.latency_jobs, args.idle_seconds
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
    let latencies = &pickup.latencies;
    println!(
        "| enqueue→start p50 / p99 / max (ms, idle worker process) | {:.1} / {:.1} / {:.1} |",
        percentile(latencies, 50.0),
        percentile(latencies, 99.0),
        percentile(latencies, 100.0)
    );
    match pickup.idle_cpu {
        Some(cpu) => println!(
            "| idle worker process CPU over {} s (% of one core) | {:.2} |",
            pickup.idle_seconds,
            cpu * 100.0
        ),
        None => println!("| idle worker process CPU | no /proc here |"),
    }
}

fn print_trips(trips: &trips::Trips) {
    println!(
        "| SQL statements per job: producer / worker ({} jobs, counted) | {:.1} / {:.1} |",
        trips.jobs, trips.producer_sql, trips.worker_sql
    );
    if let Some(redis) = trips.redis {
        println!("| Redis commands sent per job, producer and worker (MONITOR) | {redis:.1} |");
    }
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

/// Enqueues `n` pings, the first half one at a time and the rest in batches; runs/s each
/// way.
async fn enqueue_backlog(ctx: &JobContext, n: usize) -> anyhow::Result<(f64, f64)> {
    use jobs::{actions::batch, params::RawParams};
    let single = n / 2;
    let started = Instant::now();
    for _ in 0..single {
        runs::enqueue(&ctx.db, &ctx.queue, ping()).await?;
    }
    let single_rate = single as f64 / started.elapsed().as_secs_f64();
    let params = ping().params;
    let started = Instant::now();
    let mut left = n - single;
    while left > 0 {
        let size = left.min(batch::MAX_RUNS);
        let items = (0..size)
            .map(|_| batch::BatchItem {
                kind: JobKind::Ping,
                params: RawParams::Value(&params),
                max_attempts: None,
            })
            .collect();
        let outcome = batch::submit_batch(ctx, items, "bench").await?;
        anyhow::ensure!(
            outcome.iter().all(Result::is_ok),
            "a batch item was refused"
        );
        left -= size;
    }
    let batch_rate = (n - single) as f64 / started.elapsed().as_secs_f64();
    Ok((single_rate, batch_rate))
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
    conn.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
        .await?;
    Ok((
        "SQLite insert+delete transactions",
        insert_delete_round_trips(&conn, n).await?,
    ))
}

/// The run rows' PostgreSQL, the other store a Redis-queued job writes to.
async fn postgres_round_trips(
    db: &sea_orm::DatabaseConnection,
    n: usize,
) -> anyhow::Result<(&'static str, f64)> {
    Ok((
        "PostgreSQL insert+delete transactions",
        insert_delete_round_trips(db, n).await?,
    ))
}

/// Single-row inserts and deletes, each its own transaction, one after another: per
/// second.
async fn insert_delete_round_trips(
    conn: &impl sea_orm::ConnectionTrait,
    n: usize,
) -> anyhow::Result<f64> {
    conn.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER PRIMARY KEY, v TEXT)",
    )
    .await?;
    let started = Instant::now();
    for i in 0..n {
        conn.execute_unprepared(&format!(
            "INSERT INTO bench_baseline (id, v) VALUES ({i}, 'x')"
        ))
        .await?;
        conn.execute_unprepared(&format!("DELETE FROM bench_baseline WHERE id = {i}"))
            .await?;
    }
    Ok((2 * n) as f64 / started.elapsed().as_secs_f64())
}
