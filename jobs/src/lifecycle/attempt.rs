//! What a worker does to a run during an attempt (claiming it is in `claim`): keep its
//! hold (heartbeats and progress flushes), and record how the attempt ended.

use std::time::Duration;

use chrono::Utc;
use entity::{job_run, run_event::AttemptOutcome};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait, UpdateMany, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::{Event, change, events::AttemptEnd};
use crate::{counters::Counters, error::ErrorCategory, runs::next_revision};

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

    /// How long until a run that goes back to the queue is due again; `None` for an end.
    pub fn requeue_delay(&self) -> Option<Duration> {
        match self {
            Ending::Retry { delay, .. } | Ending::Pause { delay, .. } => Some(*delay),
            Ending::HandBack => Some(Duration::ZERO),
            _ => None,
        }
    }

    /// When a requeued run is due again and the attempt count it goes back with; `None`
    /// for an end.
    pub(super) fn requeued(
        &self,
        attempt: i32,
        now: chrono::DateTime<Utc>,
    ) -> Option<(chrono::DateTime<Utc>, i32)> {
        let due = now + chrono::Duration::from_std(self.requeue_delay()?).unwrap_or_default();
        // A hand-back or a pause uses up no attempt: the next claim counts this one again.
        let spent = matches!(self, Ending::Retry { .. });
        Some((due, if spent { attempt } else { attempt - 1 }))
    }

    /// The error it records; `None` keeps the row's (a hand-back keeps the last error, a
    /// cancelled run what it was stopped for, `account_deleted`).
    pub(super) fn error(&self) -> Option<(Option<ErrorCategory>, Option<&str>)> {
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

/// Records the end of `holder`'s attempt, with its last progress (`last`, the final
/// flush) in the same statement. Returns false if it no longer held the run (its lease
/// ran out and another worker took over).
pub async fn end_attempt<C: ConnectionTrait>(
    db: &C,
    holder: &Holder,
    ending: &Ending,
    last: Option<&Flush>,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let none_time = Option::<chrono::DateTime<Utc>>::None;
    let mut update = holder
        .change(ending.event())
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision());
    let mut eta_seconds = None;
    if let Some(last) = last {
        eta_seconds = last.eta_seconds;
        update = last.write(update);
    }
    if let Some((category, message)) = ending.error() {
        update = update
            .col_expr(job_run::Column::ErrorCategory, Expr::value(category))
            .col_expr(job_run::Column::ErrorMessage, Expr::value(message));
    }
    update = match ending.requeued(holder.attempt, now) {
        Some((due, attempt)) => update
            .col_expr(job_run::Column::Attempt, Expr::value(attempt))
            .col_expr(job_run::Column::NextAttemptAt, Expr::value(due))
            .col_expr(
                job_run::Column::WorkerId,
                Expr::value(Option::<String>::None),
            )
            .col_expr(job_run::Column::HeartbeatAt, Expr::value(none_time))
            .col_expr(job_run::Column::EtaSeconds, Expr::value(eta_seconds)),
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

/// The end of one attempt, for [`end_attempts`]: how it ended, its last progress, and
/// its log lines not written yet (its end line last).
#[derive(Debug)]
pub struct End {
    pub holder: Holder,
    pub ending: Ending,
    pub last: Flush,
    pub lines: Vec<entity::run_event::ActiveModel>,
}

/// Records the ends of `ends` with their log lines in one transaction (whoever sees a
/// run ended sees its whole history); for each, whether its holder still held the run
/// (the lines of one that did not are not written). If that transaction fails, each end
/// is tried in a transaction of its own, so one end that cannot be written does not
/// take the others with it.
pub async fn end_attempts(db: &DatabaseConnection, ends: &[End]) -> Vec<Result<bool, DbErr>> {
    match end_together(db, ends).await {
        Ok(held) => held.into_iter().map(Ok).collect(),
        Err(e) if ends.len() > 1 => {
            tracing::warn!(error = %e, ends = ends.len(), "could not record attempt ends together; recording each alone");
            let mut results = Vec::with_capacity(ends.len());
            for end in ends {
                let alone = end_together(db, std::slice::from_ref(end)).await;
                results.push(alone.map(|held| held.first().copied().unwrap_or(false)));
            }
            results
        }
        Err(e) => vec![Err(e)],
    }
}

async fn end_together(db: &DatabaseConnection, ends: &[End]) -> Result<Vec<bool>, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let held = if txn.get_database_backend() == DbBackend::Postgres {
        super::end_all::end_all(&txn, ends).await?
    } else {
        let mut held = Vec::with_capacity(ends.len());
        for end in ends {
            held.push(end_attempt(&txn, &end.holder, &end.ending, Some(&end.last)).await?);
        }
        held
    };
    let lines = ends
        .iter()
        .zip(&held)
        .filter(|(_, holds)| **holds)
        .flat_map(|(end, _)| end.lines.iter().cloned())
        .collect();
    super::log_lines(&txn, lines).await?;
    txn.commit().await?;
    Ok(held)
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
pub struct Flush {
    pub counters: Counters,
    pub throughput: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// A checkpoint saved since the last flush.
    pub checkpoint: Option<Value>,
    /// What the run produced (`job_runs.result`).
    pub result: Option<Value>,
}

impl Flush {
    /// Its columns, but for the ETA and the times, which the caller sets.
    fn write(&self, update: UpdateMany<job_run::Entity>) -> UpdateMany<job_run::Entity> {
        let mut update = self
            .counters
            .write(update)
            .col_expr(job_run::Column::Throughput, Expr::value(self.throughput));
        if let Some(checkpoint) = &self.checkpoint {
            update = update.col_expr(job_run::Column::Checkpoint, Expr::value(checkpoint.clone()));
        }
        if let Some(result) = &self.result {
            update = update.col_expr(job_run::Column::Result, Expr::value(result.clone()));
        }
        update
    }
}

/// A heartbeat that also writes the attempt's progress. Whether a cancel was asked for,
/// read back by the same statement (a round trip less on every page a sync writes);
/// `None` once the holder no longer holds the run.
pub async fn flush<C: ConnectionTrait>(
    conn: &C,
    holder: &Holder,
    flush: Flush,
) -> Result<Option<bool>, DbErr> {
    let now = Utc::now();
    let eta_seconds = flush.eta_seconds;
    let mut update = flush
        .write(holder.change(Event::Heartbeat))
        .col_expr(job_run::Column::EtaSeconds, Expr::value(eta_seconds))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .into_query();
    update.returning_col(job_run::Column::CancelRequested);
    match conn.query_one(&update).await? {
        Some(row) => Ok(Some(row.try_get_by_index(0)?)),
        None => Ok(None),
    }
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
