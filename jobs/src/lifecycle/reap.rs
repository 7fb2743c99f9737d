//! What the reaper does to runs whose worker stopped heartbeating (killed, crashed,
//! partitioned): back to the queue, where any worker resumes them from their checkpoint,
//! or `dead` once their attempts are used up. The reaper's loop is in the worker crate.

use chrono::{DateTime, Utc};
use entity::{
    job_run::{self, RunStatus},
    run_event::{AttemptOutcome, Level},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, UpdateMany,
    sea_query::Expr,
};

use super::{
    Event, change,
    events::{AttemptEnd, log_attempt_end},
};
use crate::{error::ErrorCategory, runs::next_revision};

/// Up to `limit` running runs whose heartbeat is older than `cutoff`.
pub async fn stale_runs(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<job_run::Model>, DbErr> {
    job_run::Entity::find()
        .filter(job_run::Column::Status.eq(RunStatus::Running))
        .filter(job_run::Column::HeartbeatAt.lt(cutoff))
        .limit(limit)
        .all(db)
        .await
}

/// `event`'s change of `run`, conditional on it being as read, that lets go of its holder
/// (no worker, no heartbeat) and bumps its revision.
fn released(event: Event, run: &job_run::Model, now: DateTime<Utc>) -> UpdateMany<job_run::Entity> {
    change(event, run.id)
        .col_expr(
            job_run::Column::WorkerId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            job_run::Column::HeartbeatAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Revision.eq(run.revision))
}

/// The reaper's take-over of a running run whose heartbeat is older than `cutoff`: back
/// to `queued`, due now. The heartbeat is checked again in the same update (a heartbeat
/// does not bump the revision), so a holder alive after all keeps its run.
pub async fn take_over(
    db: &DatabaseConnection,
    run: &job_run::Model,
    cutoff: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let result = released(Event::TakeOver, run, now)
        .col_expr(job_run::Column::NextAttemptAt, Expr::value(now))
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
    stale_before: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let holder = run.worker_id.clone().unwrap_or_else(|| "its worker".into());
    let message = format!(
        "{holder} stopped during attempt {} of {}; not tried again, since the run may be what stops its workers",
        run.attempt, run.max_attempts
    );
    let mut update = released(Event::Bury, run, now)
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(ErrorCategory::WorkerLost),
        )
        .col_expr(job_run::Column::ErrorMessage, Expr::value(message.clone()))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now));
    if let Some(cutoff) = stale_before {
        update = update.filter(job_run::Column::HeartbeatAt.lt(cutoff));
    }
    let result = update.exec(db).await?;
    if result.rows_affected == 1 {
        tracing::warn!(run.id = %run.id, "run dead: every attempt lost its worker");
        let end = AttemptEnd {
            attempt: run.attempt,
            outcome: AttemptOutcome::Dead,
            category: Some(ErrorCategory::WorkerLost),
        };
        let _ = log_attempt_end(db, run.id, end, Level::Error, message).await;
    }
    Ok(result.rows_affected == 1)
}
