//! Round trips per job: a small batch of pings enqueued and drained with every SQL
//! statement counted (SeaORM's metric callback, on this phase's connection only) and,
//! on Redis, every command a client sent (`MONITOR`, which tells a client's commands
//! from those a Lua script runs). Its own phase, since `MONITOR` slows Redis down.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use jobs::{JobContext, runs};
use tokio_util::sync::CancellationToken;

use super::{ping, wait_succeeded};

/// Store round trips per job, by who sent them.
pub struct Trips {
    pub jobs: usize,
    /// SQL statements of the producer (insert, task id) per job.
    pub producer_sql: f64,
    /// SQL statements of the worker per job.
    pub worker_sql: f64,
    /// Commands clients sent to Redis per job (producer and worker), if Redis.
    pub redis: Option<f64>,
}

/// Enqueues `jobs` pings, then drains them with an in-process worker, counting.
pub async fn measure(
    ctx: &JobContext,
    redis_url: Option<&str>,
    jobs: usize,
    done_before: u64,
) -> anyhow::Result<Trips> {
    let monitor = match redis_url {
        Some(url) => Some(Monitor::start(url).await?),
        None => None,
    };
    let (producer, producer_count) = counted(ctx);
    for _ in 0..jobs {
        runs::enqueue(&producer.db, &producer.queue, ping()).await?;
    }
    let producer_sql = producer_count.load(Ordering::Relaxed) as f64 / jobs as f64;

    let (worker_ctx, worker_count) = counted(ctx);
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let worker = tokio::spawn(worker::run(
        worker_ctx,
        async move { signal.cancelled().await },
    ));
    wait_succeeded(&ctx.db, done_before + jobs as u64, Duration::from_secs(120)).await?;
    stop.cancel();
    worker.await??;
    let worker_sql = worker_count.load(Ordering::Relaxed) as f64 / jobs as f64;
    let redis = match monitor {
        Some(m) => Some(m.stop().await? as f64 / jobs as f64),
        None => None,
    };
    Ok(Trips {
        jobs,
        producer_sql,
        worker_sql,
        redis,
    })
}

/// A copy of `ctx` whose database handle counts its statements.
fn counted(ctx: &JobContext) -> (JobContext, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let mut copy = ctx.clone();
    let counter = count.clone();
    copy.db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    (copy, count)
}

/// Counts the commands clients send to Redis while it runs.
struct Monitor {
    client: redis::Client,
    count: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// Sent when the phase is over: Redis shows commands in the order it ran them, so once
/// the monitor sees this, it has seen every command of the phase.
const END_MARK: &str = "magflow-bench-trips-end";

impl Monitor {
    async fn start(url: &str) -> anyhow::Result<Monitor> {
        let client = redis::Client::open(url)?;
        let monitor = client.get_async_monitor().await?;
        let count = Arc::new(AtomicU64::new(0));
        let seen = count.clone();
        let task = tokio::spawn(async move {
            let mut lines = monitor.into_on_message::<String>();
            while let Some(line) = lines.next().await {
                if line.contains(END_MARK) {
                    return;
                }
                // `<time> [<db> <client address>] "command" …`; a script's own
                // commands show `lua` where the address would be.
                if !line.contains(" lua]") {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(Monitor {
            client,
            count,
            task,
        })
    }

    async fn stop(self) -> anyhow::Result<u64> {
        let mut conn = self.client.get_multiplexed_async_connection().await?;
        redis::cmd("ECHO")
            .arg(END_MARK)
            .query_async::<String>(&mut conn)
            .await?;
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .map_err(|_| anyhow::anyhow!("the Redis monitor did not see the end of the phase"))??;
        Ok(self.count.load(Ordering::Relaxed))
    }
}
