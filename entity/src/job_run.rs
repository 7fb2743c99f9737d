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
    pub kind: String,
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
    pub error_category: Option<String>,
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
