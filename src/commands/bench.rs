//! `magflow bench …`: figures for BENCHMARKS.md. Each benchmark measures a baseline in
//! the same run, so results are read as ratios, not as absolute numbers of one machine.

mod bulk;
mod export;
mod queue;
mod ratelimit;
mod status;
mod sync;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// No-op ping jobs per second through one worker, and enqueue→start latency,
    /// against raw round trips of the same store.
    Queue(queue::QueueBench),
    /// Requests/s against eMAG's limit with N processes sharing one login through Redis.
    Ratelimit(ratelimit::RateLimitBench),
    /// The sync job end to end: rate-limit utilisation with 1..N worker processes, or
    /// offers/s into PostgreSQL against COPY plus the worker's peak memory.
    Sync(sync::SyncBench),
    /// Exports of N/10 and N offers (CSV, XLSX): rows/s and the worker's peak memory.
    Export(export::ExportBench),
    /// A bulk price/stock update at eMAG's limits: items/s against 3 requests/s × 50.
    Bulk(bulk::BulkBench),
    /// `GET /api/v1/status` latency under N concurrent clients, against `/health`.
    Status(status::StatusBench),
    /// One load process of `bench ratelimit` (started by it).
    #[command(hide = true)]
    RatelimitLoad(ratelimit::RateLimitLoad),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Queue(args) => queue::run(args).await,
        BenchCommand::Ratelimit(args) => ratelimit::run(args).await,
        BenchCommand::RatelimitLoad(args) => ratelimit::load(args).await,
        BenchCommand::Sync(args) => sync::run(args).await,
        BenchCommand::Status(args) => status::run(args).await,
        BenchCommand::Bulk(args) => bulk::run(args).await,
        BenchCommand::Export(args) => export::run(args).await,
    }
}

/// Where the end-to-end benchmarks keep their queue and data: a Redis and a PostgreSQL
/// whose user may create databases (each run makes its own and drops it).
#[derive(clap::Args, Debug)]
pub struct Stores {
    /// The Redis the queue and the shared rate limit use (keys under a fresh prefix).
    #[arg(
        long,
        env = "MAGFLOW_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    pub redis_url: String,
    /// A PostgreSQL URL whose user may create databases; the benchmark makes its own.
    #[arg(
        long,
        env = "MAGFLOW_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
}

/// A `magflow worker` process with `env`, killed when dropped.
pub fn spawn_worker(env: &[(&str, &str)]) -> anyhow::Result<tokio::process::Child> {
    use anyhow::Context;
    tokio::process::Command::new(std::env::current_exe()?)
        .arg("worker")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("start a worker process")
}

/// The p-th percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Removes a benchmark's Redis keys (`<prefix>.*`) so repeated runs do not fill Redis.
pub async fn cleanup_redis(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}.*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}
