//! How an attempt's outcome becomes the run's next state: the [`Ending`] magflow's retry
//! policy gives it, and what follows once it is recorded (the parent's sums, metrics, the
//! run's log line, notifications for an end, a queue task for a retry).

use std::time::{Duration, Instant};

use entity::job_run;
use jobs::{
    ErrorCategory, JobContext, JobError, JobKind,
    metrics::{RUN_DURATION, RUNS_FINISHED},
    registry, runs,
};

use jobs::{
    lifecycle::{self, End, Ending, Holder},
    progress::{Level, Progress},
};

use crate::batch::Ledger;

pub(crate) fn ending_for(
    kind: JobKind,
    run: &job_run::Model,
    attempt: u32,
    outcome: Result<(), JobError>,
) -> Ending {
    match outcome {
        Ok(()) => Ending::Succeeded,
        Err(JobError::Cancelled) => Ending::Cancelled,
        Err(JobError::Interrupted) => Ending::HandBack,
        Err(JobError::Paused {
            category,
            message,
            delay,
        }) => Ending::Pause {
            category,
            message,
            delay,
        },
        Err(JobError::Permanent { category, message }) => Ending::Failed { category, message },
        Err(JobError::Retryable { category, message }) => {
            if attempt >= u32::try_from(run.max_attempts).unwrap_or(1) {
                Ending::Dead { category, message }
            } else {
                Ending::Retry {
                    category,
                    message,
                    delay: registry::retry_policy(kind).delay_after(attempt),
                }
            }
        }
        Err(other) => Ending::Failed {
            category: ErrorCategory::Permanent,
            message: other.to_string(),
        },
    }
}

/// The attempt being ended.
pub(crate) struct Attempt<'a> {
    pub worker_id: &'a str,
    pub number: u32,
    pub started: Instant,
}

/// Records `ending` on the run with the attempt's last progress, unless another worker
/// took the run over meanwhile, and does what follows from it.
pub(crate) async fn record(
    ctx: &JobContext,
    ledger: &Ledger,
    run: job_run::Model,
    attempt: &Attempt<'_>,
    ending: Ending,
    progress: &mut Progress,
) {
    let db = &ctx.db;
    let kind = run.kind;
    let outcome_label = ending.outcome().as_str();
    let (last, mut lines) = progress.last();
    lines.push(lifecycle::attempt_end_line(
        run.id,
        ending.attempt_end(attempt.number),
        level_for(&ending),
        describe(&ending, attempt.number),
    ));
    // What follows the end, read before the ending goes to be written.
    let category = category(&ending);
    let requeue_after = ending.requeue_delay();
    let status = ending.event().to();
    let end = End {
        holder: Holder::of(&run, attempt.worker_id),
        ending,
        last,
        lines,
    };
    let recorded = ledger.end(end).await;
    match recorded {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(run.id = %run.id, "run was taken over before its attempt ended; not recording its end");
            return;
        }
        Err(e) => {
            // The row still says running; the reaper re-queues it after the lease.
            tracing::error!(run.id = %run.id, error = %e, "could not record the end of an attempt");
            return;
        }
    }
    if let Some(parent) = run.parent_id
        && let Err(e) = runs::refresh_parent(db, parent).await
    {
        tracing::warn!(run.id = %run.id, error = %e, "could not update the parent run");
    }
    metrics::counter!(RUNS_FINISHED, "kind" => kind.as_str(), "outcome" => outcome_label, "error_category" => category)
        .increment(1);
    metrics::histogram!(RUN_DURATION, "kind" => kind.as_str())
        .record(attempt.started.elapsed().as_secs_f64());
    tracing::info!(run.id = %run.id, run.kind = %kind, outcome = outcome_label, "attempt ended");

    follow_up(ctx, ledger, run, status, requeue_after).await;
}

/// What follows a recorded end: notifications for an end, a queue task for a retry.
async fn follow_up(
    ctx: &JobContext,
    ledger: &Ledger,
    run: job_run::Model,
    status: Option<job_run::RunStatus>,
    requeue_after: Option<Duration>,
) {
    let db = &ctx.db;
    if requeue_after.is_none() {
        // Subscribers hear of top-level runs: this one, or the parent it may have ended.
        let announced = match (run.parent_id, status) {
            (None, Some(status)) => {
                let ended = job_run::Model {
                    status,
                    ..run.clone()
                };
                ledger.announce(ended).await
            }
            (parent, _) => {
                jobs::notification::announce(db, &ctx.queue, parent.unwrap_or(run.id)).await
            }
        };
        if let Err(e) = announced {
            tracing::warn!(run.id = %run.id, error = %e, "could not queue notifications");
        }
    }
    if let Some(delay) = requeue_after {
        let queued = job_run::Model {
            status: job_run::RunStatus::Queued,
            ..run
        };
        if let Err(e) = runs::dispatch(db, &ctx.queue, queued, delay).await {
            tracing::error!(error = %e, "could not re-queue a run");
        }
    }
}

fn category(ending: &Ending) -> &'static str {
    match ending {
        Ending::Failed { category, .. }
        | Ending::Dead { category, .. }
        | Ending::Retry { category, .. }
        | Ending::Pause { category, .. } => category.as_str(),
        Ending::Succeeded | Ending::Cancelled | Ending::HandBack => "none",
    }
}

fn level_for(ending: &Ending) -> Level {
    match ending {
        Ending::Succeeded | Ending::Cancelled | Ending::HandBack => Level::Info,
        Ending::Retry { .. } | Ending::Pause { .. } => Level::Warn,
        Ending::Failed { .. } | Ending::Dead { .. } => Level::Error,
    }
}

fn describe(ending: &Ending, attempt: u32) -> String {
    match ending {
        Ending::Succeeded => format!("succeeded on attempt {attempt}"),
        Ending::Cancelled => "cancelled".into(),
        Ending::HandBack => {
            "worker shutting down: handed back to the queue, resumes from its checkpoint".into()
        }
        Ending::Failed { category, message } => format!("failed ({category}): {message}"),
        Ending::Pause {
            category,
            message,
            delay,
        } => format!(
            "paused ({category}): {message}; trying again in {:.0} s",
            delay.as_secs_f64()
        ),
        Ending::Dead { category, message } => {
            format!("attempt {attempt} failed ({category}): {message}; no attempts left")
        }
        Ending::Retry {
            category,
            message,
            delay,
        } => {
            format!(
                "attempt {attempt} failed ({category}): {message}; retrying in {:.1} s",
                delay.as_secs_f64()
            )
        }
    }
}
