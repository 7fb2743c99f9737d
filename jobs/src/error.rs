//! Error types at the `jobs` crate boundary.
//!
//! [`SetupError`]: start-up problems, each naming the setting at fault.
//! [`JobError`]: how a handler failed, and whether trying again can help.
//! [`QueueError`] / [`RunsError`]: queue and database access for api and worker.
//! [`SubmitError`]: why a request could not become runs.

use crate::{items::Problem, params::ParamError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("{0}")]
    Config(String),
    #[error("{setting}: cannot connect to {target}: {reason}")]
    Unreachable {
        setting: &'static str,
        target: String,
        reason: String,
    },
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error("cannot start the thread eMAG requests are sent on: {0}")]
    Thread(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunsError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Why a request could not become runs.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] ParamError),
    /// Another run holds the lock: its id, so the caller can follow it instead.
    #[error("{what} is already active: run {run_id}")]
    Conflict { what: String, run_id: uuid::Uuid },
    /// Items of a bulk update that cannot be sent, every one of them.
    #[error("{} items are invalid", .0.len())]
    Items(Vec<Problem>),
    #[error(transparent)]
    Runs(#[from] RunsError),
}

impl From<sea_orm::DbErr> for SubmitError {
    fn from(e: sea_orm::DbErr) -> Self {
        SubmitError::Runs(RunsError::Db(e))
    }
}

pub use entity::job_run::ErrorCategory;

/// How a handler's attempt ended when it did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Worth another attempt under the kind's retry policy.
    #[error("{message}")]
    Retryable {
        category: ErrorCategory,
        message: String,
    },
    /// Never retried.
    #[error("{message}")]
    Permanent {
        category: ErrorCategory,
        message: String,
    },
    /// An admin asked to cancel; the handler stopped at a safe point.
    #[error("cancelled")]
    Cancelled,
    /// The worker is shutting down; the handler checkpointed and hands the run back.
    #[error("interrupted by worker shutdown")]
    Interrupted,
    /// Not the run's fault (its eMAG account is degraded): try again after `delay`
    /// without using up an attempt.
    #[error("{message}")]
    Paused {
        category: ErrorCategory,
        message: String,
        delay: std::time::Duration,
    },
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> JobError {
        JobError::Retryable {
            category: ErrorCategory::Transient,
            message: message.into(),
        }
    }

    pub fn permanent(category: ErrorCategory, message: impl Into<String>) -> JobError {
        JobError::Permanent {
            category,
            message: message.into(),
        }
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(e: sea_orm::DbErr) -> Self {
        // A database hiccup (restart, lock timeout) is worth another attempt.
        JobError::transient(format!("database: {e}"))
    }
}
