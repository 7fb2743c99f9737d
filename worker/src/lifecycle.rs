//! The state changes a worker makes to a run. Every write is conditional on the run still
//! being what the worker believes (status, holder, revision), so two workers can never
//! both think they hold a run, and a worker that lost its lease cannot clobber the new one.

use std::time::Duration;

use chrono::Utc;
use entity::{
    job_run::{self, RunStatus},
    run_event,
};
use jobs::{ErrorCategory, runs::next_revision};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, UpdateMany,
    sea_query::Expr,
};
use uuid::Uuid;

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// This worker now holds the run; the model is as written.
    Claimed(job_run::Model),
    /// Another worker holds it, or it is not due yet: look again after the given delay.
    NotNow(job_run::Model, Duration),
    /// Its kind's queue is paused: the run waits without a task until it is resumed.
    Held(job_run::Model),
    /// It has ended, was cancelled, or does not exist: drop the task.
    Gone,
    /// Its attempts were used up by workers that died during them: it was ended `dead`
    /// here (category `worker_lost`) instead of started again.
    Buried(job_run::Model),
}

/// Takes a queued run for `worker_id`, counting a new attempt.
pub async fn claim(
    db: &DatabaseConnection,
    run_id: Uuid,
    worker_id: &str,
    lease: Duration,
) -> Result<Claim, DbErr> {
    let Some(run) = job_run::Entity::find_by_id(run_id).one(db).await? else {
        return Ok(Claim::Gone);
    };
    let now = Utc::now();
    match run.status {
        RunStatus::Queued => {}
        // A duplicate delivery (apalis recovers orphans too): look again once the holder's
        // lease could have run out; the reaper re-queues the run if the holder died.
        RunStatus::Running => return Ok(Claim::NotNow(run, lease)),
        _ => return Ok(Claim::Gone),
    }
    if jobs::queues::is_paused(db, run.kind).await? {
        return Ok(Claim::Held(run));
    }
    if let Some(due) = run.next_attempt_at
        && let Ok(early) = (due - now).to_std()
        && early > Duration::from_secs(1)
    {
        return Ok(Claim::NotNow(run, early));
    }
    // Never an attempt past the run's allowance: a run whose every attempt ended with
    // its worker gone may be what kills them.
    if run.attempt >= run.max_attempts {
        return Ok(if bury_lost(db, &run, None).await? {
            Claim::Buried(run)
        } else {
            Claim::NotNow(run, Duration::from_secs(1))
        });
    }
    let attempt = run.attempt + 1;
    let result = job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Running))
        .col_expr(job_run::Column::Attempt, Expr::value(attempt))
        .col_expr(job_run::Column::WorkerId, Expr::value(worker_id))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now))
        .col_expr(
            job_run::Column::StartedAt,
            Expr::value(run.started_at.unwrap_or(now)),
        )
        .col_expr(
            job_run::Column::NextAttemptAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(
            job_run::Column::Throughput,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(
            job_run::Column::EtaSeconds,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Id.eq(run_id))
        .filter(job_run::Column::Status.eq(RunStatus::Queued))
        .filter(job_run::Column::Revision.eq(run.revision))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        // Someone else changed it between our read and write; decide again later.
        return Ok(Claim::NotNow(run, Duration::from_secs(1)));
    }
    Ok(Claim::Claimed(job_run::Model {
        status: RunStatus::Running,
        attempt,
        worker_id: Some(worker_id.to_owned()),
        heartbeat_at: Some(now),
        started_at: Some(run.started_at.unwrap_or(now)),
        next_attempt_at: None,
        updated_at: now,
        revision: run.revision + 1,
        ..run
    }))
}

/// An update of `run`, conditional on it being as read, that lets go of its holder (no
/// worker, no heartbeat) and bumps its revision: the common part of a take-over and of
/// ending a run whose worker is gone.
fn released(run: &job_run::Model, now: chrono::DateTime<Utc>) -> UpdateMany<job_run::Entity> {
    job_run::Entity::update_many()
        .col_expr(
            job_run::Column::WorkerId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            job_run::Column::HeartbeatAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Id.eq(run.id))
        .filter(job_run::Column::Revision.eq(run.revision))
}

/// The reaper's take-over of a running run whose heartbeat is older than `cutoff`: back
/// to `queued`, due now. The heartbeat is checked again in the same update (a heartbeat
/// does not bump the revision), so a holder alive after all keeps its run.
pub async fn take_over(
    db: &DatabaseConnection,
    run: &job_run::Model,
    cutoff: chrono::DateTime<Utc>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let result = released(run, now)
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Queued))
        .col_expr(job_run::Column::NextAttemptAt, Expr::value(now))
        .filter(job_run::Column::Status.eq(RunStatus::Running))
        .filter(job_run::Column::HeartbeatAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends a run whose attempts are used up by workers that died during them: `dead`,
/// category `worker_lost`. Conditional on the run being as read (and, for a running run,
/// on its heartbeat still being older than `stale_before`), so it races with no one.
pub async fn bury_lost(
    db: &DatabaseConnection,
    run: &job_run::Model,
    stale_before: Option<chrono::DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let holder = run.worker_id.clone().unwrap_or_else(|| "its worker".into());
    let message = format!(
        "{holder} stopped during attempt {} of {}; not tried again, since the run may be what stops its workers",
        run.attempt, run.max_attempts
    );
    let mut update = released(run, now)
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Dead))
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(ErrorCategory::WorkerLost.as_str()),
        )
        .col_expr(job_run::Column::ErrorMessage, Expr::value(message.clone()))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now));
    if let Some(cutoff) = stale_before {
        update = update.filter(job_run::Column::HeartbeatAt.lt(cutoff));
    }
    let result = update.exec(db).await?;
    if result.rows_affected == 1 {
        tracing::warn!(run.id = %run.id, "run dead: every attempt lost its worker");
        let _ = log(db, run.id, "error", message).await;
    }
    Ok(result.rows_affected == 1)
}

/// How an attempt ended, as recorded on the row.
#[derive(Debug)]
pub enum Ending {
    Succeeded,
    Cancelled,
    /// Not retried: `failed`.
    Failed {
        category: ErrorCategory,
        message: String,
    },
    /// Retries exhausted: `dead`.
    Dead {
        category: ErrorCategory,
        message: String,
    },
    /// Back to `queued` for another attempt after `delay`.
    Retry {
        category: ErrorCategory,
        message: String,
        delay: Duration,
    },
    /// Back to `queued` without using up an attempt (worker shutdown).
    HandBack,
    /// Back to `queued` after `delay` without using up an attempt, keeping the reason
    /// visible (the account is degraded).
    Pause {
        category: ErrorCategory,
        message: String,
        delay: Duration,
    },
}

/// Records the end of the attempt `worker_id` holds. Returns false if the worker no
/// longer held the run (its lease ran out and another worker took over).
pub async fn end_attempt(
    db: &DatabaseConnection,
    run: &job_run::Model,
    worker_id: &str,
    ending: &Ending,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let none_time = Option::<chrono::DateTime<Utc>>::None;
    let mut update = job_run::Entity::update_many()
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision());
    let (status, category, message): (RunStatus, Option<&str>, Option<&str>) = match ending {
        Ending::Succeeded => (RunStatus::Succeeded, None, None),
        Ending::Cancelled => (RunStatus::Cancelled, None, None),
        Ending::Failed { category, message } => {
            (RunStatus::Failed, Some(category.as_str()), Some(message))
        }
        Ending::Dead { category, message } => {
            (RunStatus::Dead, Some(category.as_str()), Some(message))
        }
        Ending::Retry {
            category, message, ..
        } => (RunStatus::Queued, Some(category.as_str()), Some(message)),
        Ending::HandBack => (RunStatus::Queued, None, None),
        Ending::Pause {
            category, message, ..
        } => (RunStatus::Queued, Some(category.as_str()), Some(message)),
    };
    update = update.col_expr(job_run::Column::Status, Expr::value(status));
    // A hand-back keeps the last error; a cancelled run keeps what it was stopped for
    // (`account_deleted`).
    if !matches!(ending, Ending::HandBack | Ending::Cancelled) {
        update = update
            .col_expr(job_run::Column::ErrorCategory, Expr::value(category))
            .col_expr(job_run::Column::ErrorMessage, Expr::value(message));
    }
    match ending {
        Ending::Retry { delay, .. } => {
            let due = now + chrono::Duration::from_std(*delay).unwrap_or_default();
            update = update
                .col_expr(job_run::Column::NextAttemptAt, Expr::value(due))
                .col_expr(
                    job_run::Column::WorkerId,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(job_run::Column::HeartbeatAt, Expr::value(none_time));
        }
        Ending::HandBack | Ending::Pause { .. } => {
            let due = match ending {
                Ending::Pause { delay, .. } => {
                    now + chrono::Duration::from_std(*delay).unwrap_or_default()
                }
                _ => now,
            };
            update = update
                .col_expr(job_run::Column::Attempt, Expr::value(run.attempt - 1))
                .col_expr(job_run::Column::NextAttemptAt, Expr::value(due))
                .col_expr(
                    job_run::Column::WorkerId,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(job_run::Column::HeartbeatAt, Expr::value(none_time));
        }
        _ => {
            update = update
                .col_expr(job_run::Column::FinishedAt, Expr::value(now))
                .col_expr(
                    job_run::Column::EtaSeconds,
                    Expr::value(Option::<f64>::None),
                );
        }
    }
    let result = update
        .filter(job_run::Column::Id.eq(run.id))
        .filter(job_run::Column::Status.eq(RunStatus::Running))
        .filter(job_run::Column::WorkerId.eq(worker_id))
        // The same process may hold a newer attempt of this run (see `Progress`).
        .filter(job_run::Column::Attempt.eq(run.attempt))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends a run that could not even start (undecodable kind or payload).
pub async fn fail_unstartable(
    db: &DatabaseConnection,
    run_id: Uuid,
    category: ErrorCategory,
    message: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Failed))
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(category.as_str()),
        )
        .col_expr(job_run::Column::ErrorMessage, Expr::value(message))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Id.eq(run_id))
        .filter(job_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .exec(db)
        .await?;
    Ok(())
}

/// Renews the holder's heartbeat; false once the worker no longer holds the run.
pub async fn heartbeat(
    db: &DatabaseConnection,
    run_id: Uuid,
    worker_id: &str,
    attempt: i32,
) -> Result<bool, DbErr> {
    let result = job_run::Entity::update_many()
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(job_run::Column::Id.eq(run_id))
        .filter(job_run::Column::WorkerId.eq(worker_id))
        .filter(job_run::Column::Attempt.eq(attempt))
        .filter(job_run::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// One line in the run's event log.
pub async fn log<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    level: &str,
    message: String,
) -> Result<(), DbErr> {
    run_event::Entity::insert(run_event::ActiveModel {
        id: NotSet,
        run_id: Set(run_id),
        at: Set(Utc::now()),
        level: Set(level.to_owned()),
        message: Set(message),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
