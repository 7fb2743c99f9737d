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

/// The log line that starts attempt number `attempt`, to write with its claim.
pub fn attempt_start_line(run_id: Uuid, attempt: i32, message: String) -> run_event::ActiveModel {
    line(run_id, Level::Info, message, Some(attempt), None)
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
    log_lines(db, vec![attempt_end_line(run_id, end, level, message)]).await
}

/// The log line that ends an attempt, to write with others ([`log_lines`]).
pub fn attempt_end_line(
    run_id: Uuid,
    end: AttemptEnd,
    level: Level,
    message: String,
) -> run_event::ActiveModel {
    line(run_id, level, message, Some(end.attempt), Some(end))
}

/// Writes `lines` in one statement, in their order.
pub async fn log_lines<C: ConnectionTrait>(
    db: &C,
    lines: Vec<run_event::ActiveModel>,
) -> Result<(), DbErr> {
    if lines.is_empty() {
        return Ok(());
    }
    run_event::Entity::insert_many(lines)
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

async fn insert_event<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
    level: Level,
    message: String,
    attempt: Option<i32>,
    end: Option<AttemptEnd>,
) -> Result<(), DbErr> {
    log_lines(db, vec![line(run_id, level, message, attempt, end)]).await
}

fn line(
    run_id: Uuid,
    level: Level,
    message: String,
    attempt: Option<i32>,
    end: Option<AttemptEnd>,
) -> run_event::ActiveModel {
    run_event::ActiveModel {
        id: NotSet,
        run_id: Set(run_id),
        at: Set(Utc::now()),
        level: Set(level),
        message: Set(message),
        attempt: Set(attempt),
        outcome: Set(end.map(|e| e.outcome)),
        error_category: Set(end.and_then(|e| e.category)),
    }
}
