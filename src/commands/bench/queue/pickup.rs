//! Pick-up across processes: a `magflow worker` process, its CPU while idle (from
//! `/proc`), then enqueue→start of pings enqueued one at a time by this process.

use std::time::{Duration, Instant};

use anyhow::Context;
use entity::job_run;
use jobs::{JobContext, runs};
use sea_orm::EntityTrait;

use super::{ping, wait_succeeded};

/// What the idle worker process did.
pub struct Pickup {
    /// Enqueue→start in milliseconds, sorted.
    pub latencies: Vec<f64>,
    /// The worker's CPU time over its idle period, as a share of one core.
    pub idle_cpu: Option<f64>,
    pub idle_seconds: u64,
}

/// Starts a worker process with `env`, lets it idle for `idle_seconds` (its CPU read from
/// `/proc` over that time), then enqueues `jobs` pings one at a time, each after a random
/// 0–100 ms pause, and waits for each. `done_before` runs have already succeeded.
pub async fn measure(
    ctx: &JobContext,
    env: &[(String, String)],
    jobs: usize,
    idle_seconds: u64,
    done_before: u64,
) -> anyhow::Result<Pickup> {
    let worker = super::super::spawn_worker(env)?;
    let pid = worker.id().context("worker pid")?;
    // A first ping proves the worker is up before its idle time is counted.
    runs::enqueue(&ctx.db, &ctx.queue, ping()).await?;
    wait_succeeded(&ctx.db, done_before + 1, Duration::from_secs(120))
        .await
        .context("the worker process did not start its first ping")?;
    let idle_cpu = idle_cpu(pid, Duration::from_secs(idle_seconds)).await;
    let mut latencies = Vec::with_capacity(jobs);
    for i in 0..jobs {
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..100))).await;
        let run = runs::enqueue(&ctx.db, &ctx.queue, ping()).await?;
        let done = done_before + 2 + i as u64;
        wait_succeeded(&ctx.db, done, Duration::from_secs(60))
            .await
            .with_context(|| format!("latency job {i} did not finish"))?;
        let row = job_run::Entity::find_by_id(run.id)
            .one(&ctx.db)
            .await?
            .context("run vanished")?;
        let start = row.started_at.context("no start time")?;
        latencies.push((start - row.created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    drop(worker);
    Ok(Pickup {
        latencies,
        idle_cpu,
        idle_seconds,
    })
}

/// The CPU share of process `pid` over `period`, from its user and system ticks; `None`
/// where there is no `/proc`.
async fn idle_cpu(pid: u32, period: Duration) -> Option<f64> {
    let before = cpu_ticks(pid);
    let started = Instant::now();
    tokio::time::sleep(period).await;
    let after = cpu_ticks(pid);
    let ticks = after? - before?;
    // Linux reports in USER_HZ, 100 on every architecture it runs on.
    Some(ticks as f64 / 100.0 / started.elapsed().as_secs_f64())
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at its closing ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}
