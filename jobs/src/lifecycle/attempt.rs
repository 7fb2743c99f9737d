//! What a worker does to a run during an attempt: claim it, keep its hold (heartbeats and
//! progress flushes), and record how the attempt ended.

use std::time::Duration;

use chrono::Utc;
use entity::{
    job_run::{self, RunStatus},
    run_event::AttemptOutcome,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QuerySelect, UpdateMany, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::{Event, bury_lost, change, events::AttemptEnd};
use crate::{counters::Counters, error::ErrorCategory, runs::next_revision};
use sea_orm::sea_query::ExprTrait;

/// Who holds a running run: a worker and its attempt. The same process may claim a run
/// again after the reaper took it back from a stalled attempt of its own, so the worker
/// id alone does not tell the two attempts apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub run_id: Uuid,
    pub worker_id: String,
    pub attempt: i32,
}

impl Holder {
    pub fn of(run: &job_run::Model, worker_id: &str) -> Holder {
        Holder {
            run_id: run.id,
            worker_id: worker_id.to_owned(),
            attempt: run.attempt,
        }
    }

    /// `event`'s change of the run, on condition that this holder still holds it.
    fn change(&self, event: Event) -> UpdateMany<job_run::Entity> {
        change(event, self.run_id)
            .filter(job_run::Column::WorkerId.eq(self.worker_id.as_str()))
            .filter(job_run::Column::Attempt.eq(self.attempt))
    }
}

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
    let result = change(Event::Claim, run_id)
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
        .filter(job_run::Column::Revision.eq(run.revision))
        // The pause is read in the same statement: one round trip less per run.
        .filter(Expr::exists(paused(run.kind)).not())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        if crate::queues::is_paused(db, run.kind).await? {
            return Ok(Claim::Held(run));
        }
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

impl Ending {
    /// Its event in the run's state machine.
    pub fn event(&self) -> Event {
        match self {
            Ending::Succeeded => Event::Succeed,
            Ending::Cancelled => Event::Stop,
            Ending::Failed { .. } => Event::Fail,
            Ending::Dead { .. } => Event::Die,
            Ending::Retry { .. } | Ending::HandBack | Ending::Pause { .. } => Event::Requeue,
        }
    }

    /// How the attempt ended, as its history records it.
    pub fn outcome(&self) -> AttemptOutcome {
        match self {
            Ending::Succeeded => AttemptOutcome::Succeeded,
            Ending::Cancelled => AttemptOutcome::Cancelled,
            Ending::Failed { .. } => AttemptOutcome::Failed,
            Ending::Dead { .. } => AttemptOutcome::Dead,
            Ending::Retry { .. } => AttemptOutcome::Retry,
            Ending::HandBack => AttemptOutcome::HandedBack,
            Ending::Pause { .. } => AttemptOutcome::Paused,
        }
    }

    /// What the line ending attempt number `attempt` records.
    pub fn attempt_end(&self, attempt: u32) -> AttemptEnd {
        AttemptEnd {
            attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
            outcome: self.outcome(),
            category: self.error().and_then(|(category, _)| category),
        }
    }

    /// The error it records; `None` keeps the row's (a hand-back keeps the last error, a
    /// cancelled run what it was stopped for, `account_deleted`).
    fn error(&self) -> Option<(Option<ErrorCategory>, Option<&str>)> {
        match self {
            Ending::HandBack | Ending::Cancelled => None,
            Ending::Succeeded => Some((None, None)),
            Ending::Failed { category, message }
            | Ending::Dead { category, message }
            | Ending::Retry {
                category, message, ..
            }
            | Ending::Pause {
                category, message, ..
            } => Some((Some(*category), Some(message))),
        }
    }
}

/// `SELECT 1` where `kind`'s queue is paused.
fn paused(kind: entity::job_run::JobKind) -> sea_orm::sea_query::SelectStatement {
    use entity::queue_control;
    sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(queue_control::Entity)
        .and_where(Expr::col(queue_control::Column::Kind).eq(kind.as_str()))
        .and_where(Expr::col(queue_control::Column::Paused).eq(true))
        .to_owned()
}

/// Records the end of `holder`'s attempt. Returns false if it no longer held the run (its
/// lease ran out and another worker took over).
pub async fn end_attempt(
    db: &DatabaseConnection,
    holder: &Holder,
    ending: &Ending,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let none_time = Option::<chrono::DateTime<Utc>>::None;
    let mut update = holder
        .change(ending.event())
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision());
    if let Some((category, message)) = ending.error() {
        update = update
            .col_expr(job_run::Column::ErrorCategory, Expr::value(category))
            .col_expr(job_run::Column::ErrorMessage, Expr::value(message));
    }
    let due_after = |delay: &Duration| now + chrono::Duration::from_std(*delay).unwrap_or_default();
    let requeued_at = match ending {
        Ending::Retry { delay, .. } => Some((due_after(delay), holder.attempt)),
        // Not an attempt used up: the next claim counts this one again.
        Ending::HandBack => Some((now, holder.attempt - 1)),
        Ending::Pause { delay, .. } => Some((due_after(delay), holder.attempt - 1)),
        _ => None,
    };
    update = match requeued_at {
        Some((due, attempt)) => update
            .col_expr(job_run::Column::Attempt, Expr::value(attempt))
            .col_expr(job_run::Column::NextAttemptAt, Expr::value(due))
            .col_expr(
                job_run::Column::WorkerId,
                Expr::value(Option::<String>::None),
            )
            .col_expr(job_run::Column::HeartbeatAt, Expr::value(none_time)),
        None => update
            .col_expr(job_run::Column::FinishedAt, Expr::value(now))
            .col_expr(
                job_run::Column::EtaSeconds,
                Expr::value(Option::<f64>::None),
            ),
    };
    let result = update.exec(db).await?;
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
    change(Event::Unstartable, run_id)
        .col_expr(job_run::Column::ErrorCategory, Expr::value(category))
        .col_expr(job_run::Column::ErrorMessage, Expr::value(message))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .exec(db)
        .await?;
    Ok(())
}

/// Renews the holder's heartbeat; false once the worker no longer holds the run. A
/// heartbeat does not bump the revision: stream readers see nothing new in it.
pub async fn heartbeat(db: &DatabaseConnection, holder: &Holder) -> Result<bool, DbErr> {
    let result = holder
        .change(Event::Heartbeat)
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// What a progress flush writes.
#[derive(Debug)]
pub struct Flush<'a> {
    pub counters: &'a Counters,
    pub throughput: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// A checkpoint saved since the last flush.
    pub checkpoint: Option<Value>,
    /// What the run produced (`job_runs.result`).
    pub result: Option<Value>,
}

/// A heartbeat that also writes the attempt's progress; false once the holder no longer
/// holds the run.
pub async fn flush<C: ConnectionTrait>(
    conn: &C,
    holder: &Holder,
    flush: Flush<'_>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let mut update = flush
        .counters
        .write(holder.change(Event::Heartbeat))
        .col_expr(job_run::Column::Throughput, Expr::value(flush.throughput))
        .col_expr(job_run::Column::EtaSeconds, Expr::value(flush.eta_seconds))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision());
    if let Some(checkpoint) = flush.checkpoint {
        update = update.col_expr(job_run::Column::Checkpoint, Expr::value(checkpoint));
    }
    if let Some(result) = flush.result {
        update = update.col_expr(job_run::Column::Result, Expr::value(result));
    }
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Whether `holder` still holds its run, locking the run's row for the rest of `txn` on
/// PostgreSQL (SQLite's IMMEDIATE transaction holds the write lock already), so a
/// take-over waits until what `txn` does in the run's name is committed.
pub async fn holds(txn: &DatabaseTransaction, holder: &Holder) -> Result<bool, DbErr> {
    let mut query = job_run::Entity::find_by_id(holder.run_id)
        .filter(job_run::Column::WorkerId.eq(holder.worker_id.as_str()))
        .filter(job_run::Column::Attempt.eq(holder.attempt))
        .filter(job_run::Column::Status.is_in(Event::Heartbeat.from().iter().copied()));
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(txn).await?.is_some())
}
