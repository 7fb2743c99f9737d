//! Error types at the `jobs` crate boundary.
//!
//! [`SetupError`]: start-up problems, each naming the setting at fault.
//! [`JobError`]: how a handler failed, and whether trying again can help.
//! [`QueueError`] / [`RunsError`]: queue and database access for api and worker.
//! [`SubmitError`]: why a request could not become runs.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// A stored value no enum of this version knows: a row written by a newer version,
    /// or by hand. Never read as some default.
    #[error("{table} row {id}: column {column} holds {value:?}, which this version does not know")]
    UnknownValue {
        table: &'static str,
        id: String,
        column: &'static str,
        value: String,
    },
}

impl RunsError {
    /// The kind of a `job_runs` row, or the error naming the row.
    pub fn kind_of(run: &entity::job_run::Model) -> Result<crate::JobKind, RunsError> {
        crate::JobKind::parse(&run.kind).ok_or_else(|| RunsError::UnknownValue {
            table: "job_runs",
            id: run.id.to_string(),
            column: "kind",
            value: run.kind.clone(),
        })
    }
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

/// Why a run failed, in words an operator can filter on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    /// The handler reported a failure that may pass (network, eMAG 5xx, 429, …).
    Transient,
    /// The run's parameters or payload can never succeed.
    InvalidInput,
    /// The attempt ran longer than its kind allows.
    Timeout,
    /// The handler panicked: a bug.
    Panic,
    /// Not built yet: no job uses it now; kept so rows written by older versions read.
    NotImplemented,
    /// The task in the queue could not be decoded.
    BadPayload,
    /// Anything else that trying again will not fix.
    Permanent,
    /// eMAG refused the account's username or password.
    BadCredentials,
    /// eMAG refused this machine's IP address for the account.
    IpNotWhitelisted,
    /// eMAG kept failing (5xx, timeouts): the account is degraded and its runs pause.
    EmagUnavailable,
    /// eMAG rejected the request itself.
    EmagRejected,
    /// A setting the job needs is missing (e.g. `MAGFLOW_SMTP_URL`).
    NotConfigured,
    /// The mail server refused every recipient for good.
    EmailRejected,
    /// The account's stored password cannot be used (sealed for another account, URL or
    /// username, or under another key): nothing was sent; an admin must set it again.
    Credentials,
    /// eMAG (or what answered at the account's URL) sent a redirect; it is not followed.
    UnexpectedRedirect,
    /// The run's eMAG account was deleted while it was queued or running: it was
    /// cancelled, and the account's synced data deleted with it.
    AccountDeleted,
    /// The mail server refused magflow's login, TLS, sender or message: the SMTP
    /// settings need fixing; no recipient was suppressed.
    SmtpConfig,
    /// Every attempt ended with its worker gone (killed, crashed): the run is not tried
    /// again, since it may be what kills them.
    WorkerLost,
}

impl ErrorCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Transient => "transient",
            ErrorCategory::InvalidInput => "invalid_input",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::Panic => "panic",
            ErrorCategory::NotImplemented => "not_implemented",
            ErrorCategory::BadPayload => "bad_payload",
            ErrorCategory::Permanent => "permanent",
            ErrorCategory::BadCredentials => "bad_credentials",
            ErrorCategory::IpNotWhitelisted => "ip_not_whitelisted",
            ErrorCategory::EmagUnavailable => "emag_unavailable",
            ErrorCategory::EmagRejected => "emag_rejected",
            ErrorCategory::NotConfigured => "not_configured",
            ErrorCategory::EmailRejected => "email_rejected",
            ErrorCategory::Credentials => "credentials",
            ErrorCategory::UnexpectedRedirect => "unexpected_redirect",
            ErrorCategory::WorkerLost => "worker_lost",
            ErrorCategory::SmtpConfig => "smtp_config",
            ErrorCategory::AccountDeleted => "account_deleted",
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
