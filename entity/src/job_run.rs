//! One row per job run: the source of truth for its status, attempts and progress.
//! The queue only carries the run id; whatever the queue backend believes, this row wins.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Set on the per-account children of a multi-account request.
    pub parent_id: Option<Uuid>,
    pub kind: JobKind,
    /// The id of the most recent queue task that carries this run.
    pub queue_job_id: Option<String>,
    pub account: Option<String>,
    pub params: Json,
    pub status: RunStatus,
    /// Attempts started so far (1-based once running).
    pub attempt: i32,
    pub max_attempts: i32,
    pub total: Option<i64>,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub pages_done: i32,
    pub pages_total: Option<i32>,
    pub emag_requests: i64,
    pub rate_limit_waits: i64,
    /// eMAG requests that failed (before or after retries).
    pub emag_errors: i64,
    /// 429 answers from eMAG.
    pub rate_limited: i64,
    /// Summed eMAG response time, for the average latency.
    pub emag_latency_ms: i64,
    /// Set while the run is active when at most one such run may be (`sync:ACCOUNT:RESOURCE`);
    /// a partial unique index enforces it.
    pub lock_key: Option<String>,
    /// Where a resumed attempt starts; written by the handler through `Progress`.
    pub checkpoint: Option<Json>,
    /// Items per second over the current attempt.
    pub throughput: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub error_category: Option<ErrorCategory>,
    pub error_message: Option<String>,
    pub cancel_requested: bool,
    /// The worker process that holds the run while it is `running`.
    pub worker_id: Option<String>,
    /// Refreshed while a worker holds the run; a stale one means the worker died.
    pub heartbeat_at: Option<DateTimeUtc>,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// Bumped on every write, so readers can tell a changed row from one seen before.
    pub revision: i64,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// What the run produced for people to open: an export's file, a bulk update's tally.
    pub result: Option<Json>,
    /// Set once, when notification subscriptions were told that the run ended.
    pub announced: bool,
    /// The schedule that started this run, and the tick it was for.
    pub schedule_id: Option<Uuid>,
    pub scheduled_for: Option<DateTimeUtc>,
    /// When an operator discarded this dead run (it leaves the dead-letter list).
    pub discarded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A job kind. Its wire name is stored in `job_runs.kind` and names its queue: never
/// rename one. What each kind does is its `jobs::job::Job` implementation.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    #[sea_orm(string_value = "sync")]
    Sync,
    #[sea_orm(string_value = "bulk_update")]
    BulkUpdate,
    #[sea_orm(string_value = "export")]
    Export,
    #[sea_orm(string_value = "notification")]
    Notification,
    /// A PDF management report: sales, best sellers, stock running out, sync health.
    #[sea_orm(string_value = "report")]
    Report,
    /// A no-op job that reports progress each step: for tests, benchmarks and smoke checks.
    #[sea_orm(string_value = "ping")]
    Ping,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Sync,
        JobKind::BulkUpdate,
        JobKind::Export,
        JobKind::Notification,
        JobKind::Report,
        JobKind::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Sync => "sync",
            JobKind::BulkUpdate => "bulk_update",
            JobKind::Export => "export",
            JobKind::Notification => "notification",
            JobKind::Report => "report",
            JobKind::Ping => "ping",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Every attempt allowed by the retry policy failed.
    #[sea_orm(string_value = "dead")]
    Dead,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Dead,
    ];

    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Why a run failed, in words an operator can filter on.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    /// The handler reported a failure that may pass (network, eMAG 5xx, 429, …).
    #[sea_orm(string_value = "transient")]
    Transient,
    /// The run's parameters or payload can never succeed.
    #[sea_orm(string_value = "invalid_input")]
    InvalidInput,
    /// The attempt ran longer than its kind allows.
    #[sea_orm(string_value = "timeout")]
    Timeout,
    /// The handler panicked: a bug.
    #[sea_orm(string_value = "panic")]
    Panic,
    /// Not built yet: no job uses it now; kept so rows written by older versions read.
    #[sea_orm(string_value = "not_implemented")]
    NotImplemented,
    /// The task in the queue could not be decoded.
    #[sea_orm(string_value = "bad_payload")]
    BadPayload,
    /// Anything else that trying again will not fix.
    #[sea_orm(string_value = "permanent")]
    Permanent,
    /// eMAG refused the account's username or password.
    #[sea_orm(string_value = "bad_credentials")]
    BadCredentials,
    /// eMAG refused this machine's IP address for the account.
    #[sea_orm(string_value = "ip_not_whitelisted")]
    IpNotWhitelisted,
    /// eMAG kept failing (5xx, timeouts): the account is degraded and its runs pause.
    #[sea_orm(string_value = "emag_unavailable")]
    EmagUnavailable,
    /// eMAG rejected the request itself.
    #[sea_orm(string_value = "emag_rejected")]
    EmagRejected,
    /// A setting the job needs is missing (e.g. `MAGFLOW_SMTP_URL`).
    #[sea_orm(string_value = "not_configured")]
    NotConfigured,
    /// The mail server refused every recipient for good.
    #[sea_orm(string_value = "email_rejected")]
    EmailRejected,
    /// The account's stored password cannot be used (sealed for another account, URL or
    /// username, or under another key): nothing was sent; an admin must set it again.
    #[sea_orm(string_value = "credentials")]
    Credentials,
    /// eMAG (or what answered at the account's URL) sent a redirect; it is not followed.
    #[sea_orm(string_value = "unexpected_redirect")]
    UnexpectedRedirect,
    /// The run's eMAG account was deleted while it was queued or running: it was
    /// cancelled, and the account's synced data deleted with it.
    #[sea_orm(string_value = "account_deleted")]
    AccountDeleted,
    /// The mail server refused magflow's login, TLS, sender or message: the SMTP
    /// settings need fixing; no recipient was suppressed.
    #[sea_orm(string_value = "smtp_config")]
    SmtpConfig,
    /// Every attempt ended with its worker gone (killed, crashed): the run is not tried
    /// again, since it may be what kills them.
    #[sea_orm(string_value = "worker_lost")]
    WorkerLost,
}

impl ErrorCategory {
    pub const ALL: [ErrorCategory; 18] = [
        ErrorCategory::Transient,
        ErrorCategory::InvalidInput,
        ErrorCategory::Timeout,
        ErrorCategory::Panic,
        ErrorCategory::NotImplemented,
        ErrorCategory::BadPayload,
        ErrorCategory::Permanent,
        ErrorCategory::BadCredentials,
        ErrorCategory::IpNotWhitelisted,
        ErrorCategory::EmagUnavailable,
        ErrorCategory::EmagRejected,
        ErrorCategory::NotConfigured,
        ErrorCategory::EmailRejected,
        ErrorCategory::Credentials,
        ErrorCategory::UnexpectedRedirect,
        ErrorCategory::AccountDeleted,
        ErrorCategory::SmtpConfig,
        ErrorCategory::WorkerLost,
    ];

    pub fn parse(s: &str) -> Option<ErrorCategory> {
        ErrorCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }

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

impl std::fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::{ErrorCategory, JobKind, RunStatus};

    /// The hand-written lists name every variant: a new kind, status or category that
    /// is left out of its list fails here, not in a query that skips it.
    #[test]
    fn lists_hold_every_variant() {
        assert_eq!(JobKind::iter().collect::<Vec<_>>(), JobKind::ALL.to_vec());
        assert_eq!(
            RunStatus::iter().collect::<Vec<_>>(),
            RunStatus::ALL.to_vec()
        );
        assert_eq!(
            ErrorCategory::iter().collect::<Vec<_>>(),
            ErrorCategory::ALL.to_vec()
        );
    }
}
