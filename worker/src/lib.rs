//! Worker processes: pull tasks from every queue, run them, keep runs alive and honest.
//!
//! - [`executor`]: one task → claim the run → handler → record the outcome.
//! - [`reaper`]: re-queues runs whose worker stopped heartbeating (crash, kill -9).
//! - [`scheduler`]: fires due schedule ticks, each once across all processes.
//!
//! apalis moves tasks; the `job_runs` row decides. Every handler returns `Ok` to apalis,
//! so apalis' hard-coded 25 retries never apply and magflow's policy does (docs/stack-notes.md §5).

mod batch;
mod ending;
pub mod executor;
mod promoter;
pub mod reaper;
pub mod scheduler;

use std::{future::Future, time::Duration};

use apalis::prelude::{
    BackendExt, BoxDynError, Data, Monitor, Strategy, WorkerBuilder, WorkerBuilderExt,
};
use jobs::{
    JobContext, JobKind,
    wake::{Signal, Wakeups},
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use executor::Executor;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    #[error("worker stopped with an error: {0}")]
    Monitor(String),
}

/// A name unique to this process, so apalis never mistakes a restart for a live worker
/// (docs/stack-notes.md §5.5) and runs record who holds them.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let tag = ulid::Ulid::generate().to_string();
    format!("{host}-{}-{}", std::process::id(), &tag[tag.len() - 6..])
}

async fn handle(task: Value, exec: Data<Executor>) -> Result<(), BoxDynError> {
    // Only a database outage during the claim is an error: apalis keeps that task and
    // delivers it again. Everything else is recorded on the run and acked.
    exec.handle_detached(task)
        .await
        .map_err(|e| Box::new(e) as BoxDynError)
}

/// Runs workers for every queue until `shutdown` resolves, then stops fetching, lets
/// running jobs go on for the grace period, makes the rest checkpoint and hand their runs
/// back to the queue, and returns.
pub async fn run(
    ctx: JobContext,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let worker_id = worker_id();
    let interrupt = CancellationToken::new();
    let exec = Executor::new(ctx.clone(), worker_id.clone(), interrupt.clone());
    let grace = ctx.config.shutdown_grace();

    let reaper_stop = CancellationToken::new();
    let reaper = tokio::spawn(reaper::run(exec.clone(), reaper_stop.clone()));
    let scheduler = tokio::spawn(scheduler::run(exec.clone(), reaper_stop.clone()));
    let maintenance = tokio::spawn(scheduler::maintenance(exec.clone(), reaper_stop.clone()));

    let stopping = CancellationToken::new();
    let wakeups = Wakeups::listen(ctx.queue.wake_source());
    let promoter = tokio::spawn(promoter::run(
        exec.clone(),
        wakeups.clone(),
        reaper_stop.clone(),
    ));
    let mut queues = tokio::task::JoinSet::new();
    for kind in JobKind::ALL {
        let signal = wakeups.signal(kind);
        queues.spawn(supervise(kind, exec.clone(), signal, stopping.clone()));
    }
    tracing::info!(worker.id = %worker_id, queue.backend = ctx.queue.backend_name(), "worker started");

    shutdown.await;
    tracing::info!(
        grace_s = grace.as_secs(),
        "shutting down: no new tasks; running jobs get the grace period"
    );
    stopping.cancel();
    let grace_timer = {
        let interrupt = interrupt.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            interrupt.cancel();
        })
    };
    let mut result = Ok(());
    while let Some(joined) = queues.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(e) => result = Err(WorkerError::Monitor(format!("queue loop panicked: {e}"))),
        }
    }
    // Tasks taken by an apalis worker that died on a queue outage run on without it.
    exec.drain().await;
    grace_timer.abort();
    interrupt.cancel();
    reaper_stop.cancel();
    let _ = reaper.await;
    let _ = scheduler.await;
    let _ = maintenance.await;
    let _ = promoter.await;
    drop(wakeups);
    tracing::info!(worker.id = %worker_id, "worker stopped");
    result
}

/// Runs `kind`'s apalis worker until `stopping`. apalis ends a worker whose backend fails
/// to poll (Redis restarting) and its own restart has no backoff (docs/stack-notes.md §5.5), so the
/// worker is rebuilt here, under a new name, after a growing pause (1 s doubling to 30 s).
async fn supervise(
    kind: JobKind,
    exec: Executor,
    wake: Signal,
    stopping: CancellationToken,
) -> Result<(), WorkerError> {
    let config = &exec.ctx().config;
    let grace = config.shutdown_grace();
    let mut generation = 0u32;
    let mut failures = 0u32;
    loop {
        let name = match generation {
            0 => format!("{}.{}", exec.worker_id(), kind.as_str()),
            n => format!("{}.{}.r{n}", exec.worker_id(), kind.as_str()),
        };
        let Some(monitor) = monitor_for(kind, &exec, &wake, name) else {
            return Ok(());
        };
        let stop = stopping.clone();
        let started = std::time::Instant::now();
        let result = monitor
            // After the grace, handlers checkpoint within one step; leave them time to do it.
            .shutdown_timeout(grace + Duration::from_secs(10))
            .run_with_signal(async move {
                stop.cancelled().await;
                Ok(())
            })
            .await;
        if stopping.is_cancelled() {
            return result.map_err(|e| WorkerError::Monitor(e.to_string()));
        }
        if started.elapsed() > Duration::from_secs(60) {
            failures = 0;
        }
        let pause = Duration::from_secs(1 << failures.min(5)).min(Duration::from_secs(30));
        failures += 1;
        generation += 1;
        // apalis logs the cause just before; the monitor itself usually reports Ok.
        if let Err(e) = result {
            tracing::warn!(queue = kind.as_str(), error = %e, "queue monitor ended with an error");
        }
        tracing::error!(
            queue = kind.as_str(),
            pause_s = pause.as_secs(),
            "queue worker stopped (is the queue reachable?); starting it again"
        );
        tokio::select! {
            () = stopping.cancelled() => return Ok(()),
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// A monitor with `kind`'s one worker on whichever backend the queue uses. The worker
/// fetches when `wake` fires (a push was announced) and on the slow fallback timer.
fn monitor_for(kind: JobKind, exec: &Executor, wake: &Signal, name: String) -> Option<Monitor> {
    let ctx = exec.ctx();
    let strategy = || {
        Strategy::new()
            .stream(wake.clone())
            .interval(ctx.config.poll_interval())
    };
    let concurrency = ctx.config.worker_concurrency;
    let batch = jobs::registry::fetch_batch(kind, concurrency);
    let exec = exec.clone();
    // One arm per backend: the storages are different types behind one handler.
    if let Some(storage) = ctx.queue.redis_storage_fetching(kind, batch) {
        let storage = BackendExt::poll_with_strategy(storage, strategy());
        Some(Monitor::new().register(move |_| {
            WorkerBuilder::new(name.clone())
                .backend(storage.clone())
                .concurrency(concurrency)
                .data(exec.clone())
                .build(handle)
        }))
    } else if let Some(storage) = ctx.queue.sqlite_storage_fetching(kind, batch) {
        let storage = BackendExt::poll_with_strategy(storage, strategy());
        Some(Monitor::new().register(move |_| {
            WorkerBuilder::new(name.clone())
                .backend(storage.clone())
                .concurrency(concurrency)
                .data(exec.clone())
                .build(handle)
        }))
    } else {
        None
    }
}
