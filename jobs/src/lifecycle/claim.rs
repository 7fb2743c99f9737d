//! Claiming queued runs: the common case, runs that are ready, many in one statement
//! ([`claim_ready`]); the rest one at a time, after reading why they were not ready
//! ([`claim_unready`]). A claim writes the line that starts the attempt in the same
//! transaction, so a run seen running always has the start of its attempt in its history.

use std::time::Duration;

use chrono::Utc;
use entity::{
    job_run::{self, JobKind, RunStatus},
    queue_control, run_event,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

use super::{Event, bury_lost, change, events};
use crate::runs::next_revision;

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
    match claim_ready(db, &[run_id], worker_id).await?.pop() {
        Some(run) => Ok(Claim::Claimed(run)),
        None => claim_unready(db, run_id, worker_id, lease).await,
    }
}

/// Claims those of `ids` that are ready, in one statement that returns the claimed rows:
/// queued, due within the second, with an attempt left, their queue not paused. The
/// others are left as they are, for [`claim_unready`] to tell why.
pub async fn claim_ready(
    db: &DatabaseConnection,
    ids: &[Uuid],
    worker_id: &str,
) -> Result<Vec<job_run::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let due_by = now + chrono::Duration::seconds(1);
    let txn = crate::db::begin_write(db).await?;
    let claimed = job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Running))
        .col_expr(
            job_run::Column::Attempt,
            Expr::col(job_run::Column::Attempt).add(1),
        )
        .col_expr(
            job_run::Column::StartedAt,
            Expr::col(job_run::Column::StartedAt).if_null(now),
        )
        .col_expr(
            job_run::Column::NextAttemptAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(job_run::Column::Id.is_in(ids.iter().copied()))
        .filter(job_run::Column::Status.is_in(Event::Claim.from().iter().copied()))
        .filter(
            Condition::any()
                .add(job_run::Column::NextAttemptAt.is_null())
                .add(job_run::Column::NextAttemptAt.lte(due_by)),
        )
        .filter(Expr::col(job_run::Column::Attempt).lt(Expr::col(job_run::Column::MaxAttempts)))
        .filter(Expr::exists(own_queue_paused()).not());
    let claimed = started(claimed, worker_id, now)
        .exec_with_returning(&txn)
        .await?;
    let lines = claimed
        .iter()
        .map(|run| start_line(run, worker_id))
        .collect();
    events::log_lines(&txn, lines).await?;
    txn.commit().await?;
    Ok(claimed)
}

/// Reads run `run_id`, which [`claim_ready`] did not take, and claims it if it became
/// ready since; otherwise says why not.
pub async fn claim_unready(
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
    if crate::queues::is_paused(db, run.kind).await? {
        return Ok(Claim::Held(run));
    }
    let attempt = run.attempt + 1;
    let started_at = run.started_at.unwrap_or(now);
    let txn = crate::db::begin_write(db).await?;
    let update = change(Event::Claim, run_id)
        .col_expr(job_run::Column::Attempt, Expr::value(attempt))
        .col_expr(job_run::Column::StartedAt, Expr::value(started_at))
        .col_expr(
            job_run::Column::NextAttemptAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(job_run::Column::Revision.eq(run.revision))
        .filter(Expr::exists(paused(run.kind)).not());
    if started(update, worker_id, now)
        .exec(&txn)
        .await?
        .rows_affected
        == 0
    {
        // Someone else changed it between our read and write (or paused its queue);
        // decide again later.
        return Ok(Claim::NotNow(run, Duration::from_secs(1)));
    }
    let claimed = job_run::Model {
        status: RunStatus::Running,
        attempt,
        worker_id: Some(worker_id.to_owned()),
        heartbeat_at: Some(now),
        started_at: Some(started_at),
        next_attempt_at: None,
        throughput: None,
        eta_seconds: None,
        updated_at: now,
        revision: run.revision + 1,
        ..run
    };
    events::log_lines(&txn, vec![start_line(&claimed, worker_id)]).await?;
    txn.commit().await?;
    Ok(Claim::Claimed(claimed))
}

/// The columns every claim writes alike.
fn started(
    update: sea_orm::UpdateMany<job_run::Entity>,
    worker_id: &str,
    now: chrono::DateTime<Utc>,
) -> sea_orm::UpdateMany<job_run::Entity> {
    update
        .col_expr(job_run::Column::WorkerId, Expr::value(worker_id))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now))
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
}

/// The line that starts the attempt `run` was just claimed for.
fn start_line(run: &job_run::Model, worker_id: &str) -> run_event::ActiveModel {
    events::attempt_start_line(
        run.id,
        run.attempt,
        format!(
            "attempt {} of {} started on {worker_id}",
            run.attempt, run.max_attempts
        ),
    )
}

/// `SELECT 1` where `kind`'s queue is paused.
fn paused(kind: JobKind) -> SelectStatement {
    paused_where(Expr::val(kind.as_str()))
}

/// `SELECT 1` where the queue of the run being updated is paused.
fn own_queue_paused() -> SelectStatement {
    paused_where(Expr::col((job_run::Entity, job_run::Column::Kind)))
}

fn paused_where(kind: Expr) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(queue_control::Entity)
        .and_where(Expr::col((queue_control::Entity, queue_control::Column::Kind)).eq(kind))
        .and_where(Expr::col((queue_control::Entity, queue_control::Column::Paused)).eq(true))
        .to_owned()
}
