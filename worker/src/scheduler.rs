//! Fires due schedule ticks. Runs in every worker process; each tick is claimed exactly
//! once across processes (`jobs::schedules::fire`), so adding workers never adds runs.
//! Polls every 250 ms: schedule changes made through the API take effect within that,
//! with no restart.

use std::time::Duration;

use chrono::Utc;
use jobs::schedules::fire::{self, Fired};
use tokio_util::sync::CancellationToken;

use crate::Executor;

pub const EVERY: Duration = Duration::from_millis(250);

/// The hourly retention purge, claimed once per hour across processes and checked each
/// minute. On a task of its own: a long purge never makes a schedule tick late.
pub async fn maintenance(exec: Executor, stop: CancellationToken) {
    let ctx = exec.ctx();
    loop {
        match jobs::retention::run_hourly(&ctx.db, &ctx.config, Utc::now()).await {
            Ok(Some(purged)) => tracing::info!(?purged, "retention purge done"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

pub async fn run(exec: Executor, stop: CancellationToken) {
    let ctx = exec.ctx();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        match fire::fire_due(&ctx.db, &ctx.queue, Utc::now()).await {
            Ok(fired) => {
                for (schedule, what) in fired {
                    match what {
                        Fired::Enqueued(run) => {
                            tracing::info!(schedule.id = %schedule, run.id = %run, "schedule fired");
                        }
                        Fired::SkippedBacklog => {
                            tracing::info!(schedule.id = %schedule, "tick skipped: a run of an earlier tick is still waiting in its queue");
                        }
                        Fired::SkippedOverlap => {
                            tracing::info!(schedule.id = %schedule, "tick skipped: the previous run is still active");
                        }
                        Fired::Missed => {
                            tracing::warn!(schedule.id = %schedule, "tick missed while no worker ran; skipped by its misfire policy");
                        }
                        Fired::Invalid(why) => {
                            tracing::warn!(schedule.id = %schedule, error = %why, "tick not fired: the schedule's job is no longer valid");
                        }
                        Fired::Failed(why) => {
                            tracing::warn!(schedule.id = %schedule, error = %why, "tick not fired yet: will try again");
                        }
                        Fired::Taken => {}
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "scheduler step failed"),
        }
    }
}
