//! Finds runs whose worker stopped heartbeating (killed, crashed, partitioned) and puts
//! them back in the queue, where any worker resumes them from their checkpoint; queued
//! runs that have no queue task; ended runs whose announcement was lost; and order days
//! whose daily figures a crash left unrecomputed. Runs in
//! every worker process; the conditional update makes sure only one re-queues each run
//! (a second task is a no-op claim).

use std::time::Duration;

use chrono::Utc;
use entity::{
    job_run::{self, ErrorCategory, RunStatus},
    run_event::AttemptOutcome,
};
use jobs::{lifecycle, notification::lost::LostAnnouncements, progress::Level, runs};
use tokio_util::sync::CancellationToken;

use crate::Executor;

pub async fn run(exec: Executor, stop: CancellationToken) {
    let lease = exec.ctx().config.lease();
    let every = (lease / 2).max(Duration::from_secs(1));
    let mut lost = LostAnnouncements::new(Utc::now());
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = sweep(&exec, lease).await {
            tracing::warn!(error = %e, "reaper sweep failed");
        }
        // Queued runs without a task (never pushed, or held while a resume raced).
        let ctx = exec.ctx();
        let cutoff = Utc::now() - chrono::Duration::from_std(lease).unwrap_or_default();
        match jobs::queues::release_orphans(&ctx.db, &ctx.queue, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "queued runs without a queue task were dispatched"),
            Err(e) => tracing::warn!(error = %e, "orphan release failed"),
        }
        // Parents left open although every child ended (a refresh lost in a crash).
        match runs::stuck_parents(&ctx.db).await {
            Ok(parents) => {
                for parent in parents {
                    tracing::warn!(run.id = %parent, "closing a parent whose runs have all ended");
                    if let Err(e) = runs::refresh_parent(&ctx.db, parent).await {
                        tracing::warn!(run.id = %parent, error = %e, "could not close a parent");
                        continue;
                    }
                    if let Err(e) = jobs::notification::announce(&ctx.db, &ctx.queue, parent).await
                    {
                        tracing::warn!(run.id = %parent, error = %e, "could not queue notifications");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "stuck parent sweep failed"),
        }
        // Ends whose announcement a crash lost (written, never announced).
        match lost.sweep(&ctx.db, &ctx.queue, lease).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                notifications = n,
                "runs that ended without being announced were announced"
            ),
            Err(e) => tracing::warn!(error = %e, "lost announcement sweep failed"),
        }
        // Order days a crash left marked between a page and its sync's end.
        match jobs::sync::history::refresh_left(&ctx.db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(days = n, "daily history left stale by a crash recomputed"),
            Err(e) => tracing::warn!(error = %e, "daily history sweep failed"),
        }
        // Queued runs whose task was lost: due, held by nobody, untouched for two leases.
        let stale = Utc::now() - chrono::Duration::from_std(lease * 2).unwrap_or_default();
        match jobs::queues::release_stranded(&ctx.db, &ctx.queue, stale).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                runs = n,
                "queued runs untouched for two leases were dispatched again"
            ),
            Err(e) => tracing::warn!(error = %e, "stranded release failed"),
        }
    }
}

/// One pass: re-queue every run whose heartbeat is older than the lease.
pub async fn sweep(exec: &Executor, lease: Duration) -> Result<usize, sea_orm::DbErr> {
    let ctx = exec.ctx();
    let cutoff = Utc::now() - chrono::Duration::from_std(lease).unwrap_or_default();
    let stale = lifecycle::stale_runs(&ctx.db, cutoff, 100).await?;
    let mut requeued = 0;
    for run in stale {
        if run.attempt >= run.max_attempts {
            // The last attempt's worker died: the run ends here, not in another worker.
            if lifecycle::bury_lost(&ctx.db, &run, Some(cutoff)).await? {
                exec.ended_elsewhere(&run).await;
            }
            continue;
        }
        if !lifecycle::take_over(&ctx.db, &run, cutoff).await? {
            continue;
        }
        let holder = run.worker_id.clone().unwrap_or_default();
        tracing::warn!(run.id = %run.id, worker.id = %holder, "worker lost; run re-queued");
        let lost = lifecycle::AttemptEnd {
            attempt: run.attempt,
            outcome: AttemptOutcome::Lost,
            category: Some(ErrorCategory::WorkerLost),
        };
        let _ = lifecycle::log_attempt_end(
            &ctx.db,
            run.id,
            lost,
            Level::Warn,
            format!(
                "worker {holder} stopped responding during attempt {}; re-queued",
                run.attempt
            ),
        )
        .await;
        let queued = job_run::Model {
            status: RunStatus::Queued,
            revision: run.revision + 1,
            ..run
        };
        if let Err(e) = runs::dispatch(&ctx.db, &ctx.queue, queued, Duration::ZERO).await {
            tracing::error!(error = %e, "could not re-queue a lost run");
        }
        requeued += 1;
    }
    Ok(requeued)
}
