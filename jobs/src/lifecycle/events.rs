//! A run's log lines as a worker writes them, among them the lines that start and end an
//! attempt: those carry the attempt's number, outcome and error category, the run's
//! history of attempts (`runs::attempts`).

use chrono::Utc;
use entity::{
    job_run::ErrorCategory,
    run_event::{self, AttemptOutcome, Level},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbErr, EntityTrait,
};
use uuid::Uuid;

/// One line in the run's event log.
pub async fn log<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    level: Level,
    message: String,
) -> Result<(), DbErr> {
    insert_event(db, run_id, level, message, None, None).await
}

/// The log line that starts attempt number `attempt`.
pub async fn log_attempt_start<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    attempt: u32,
    message: String,
) -> Result<(), DbErr> {
    let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
    insert_event(db, run_id, Level::Info, message, Some(attempt), None).await
}

/// What the line ending an attempt records beside its text: the run's history of
/// attempts is read from these.
#[derive(Clone, Copy, Debug)]
pub struct AttemptEnd {
    pub attempt: i32,
    pub outcome: AttemptOutcome,
    pub category: Option<ErrorCategory>,
}

/// The log line that ends an attempt.
pub async fn log_attempt_end<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    end: AttemptEnd,
    level: Level,
    message: String,
) -> Result<(), DbErr> {
    let attempt = Some(end.attempt);
    insert_event(db, run_id, level, message, attempt, Some(end)).await
}

async fn insert_event<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    level: Level,
    message: String,
    attempt: Option<i32>,
    end: Option<AttemptEnd>,
) -> Result<(), DbErr> {
    run_event::Entity::insert(run_event::ActiveModel {
        id: NotSet,
        run_id: Set(run_id),
        at: Set(Utc::now()),
        level: Set(level),
        message: Set(message),
        attempt: Set(attempt),
        outcome: Set(end.map(|e| e.outcome)),
        error_category: Set(end.and_then(|e| e.category)),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
