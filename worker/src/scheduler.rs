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

pub async fn run(exec: Executor, stop: CancellationToken) {
    let ctx = exec.ctx();
    let mut maintenance_checked: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        // The hourly purge: claimed once per hour across processes; checked each minute.
        if maintenance_checked.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            maintenance_checked = Some(tokio::time::Instant::now());
            match jobs::retention::run_hourly(&ctx.db, &ctx.config, Utc::now()).await {
                Ok(Some(purged)) => tracing::info!(?purged, "retention purge done"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
        }
        match fire::fire_due(&ctx.db, &ctx.queue, Utc::now()).await {
            Ok(fired) => {
                for (schedule, what) in fired {
                    match what {
                        Fired::Enqueued(run) => {
                            tracing::info!(schedule.id = %schedule, run.id = %run, "schedule fired");
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
