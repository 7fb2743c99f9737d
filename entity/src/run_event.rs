//! Timestamped log lines of a run, streamed to SSE clients next to progress.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::job_run::ErrorCategory;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "run_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: Uuid,
    pub at: DateTimeUtc,
    pub level: Level,
    pub message: String,
    /// Set on the line that ends an attempt: which one it was…
    pub attempt: Option<i32>,
    /// …how it ended…
    pub outcome: Option<AttemptOutcome>,
    /// …and, when it failed, why.
    pub error_category: Option<ErrorCategory>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// How much a run's log line matters.
    pub enum Level {
        Info = "info",
        Warn = "warn",
        Error = "error",
    }
}

stored_enum! {
    /// How one attempt of a run ended.
    pub enum AttemptOutcome {
        Succeeded = "succeeded",
        Cancelled = "cancelled",
        /// Failed and not retried.
        Failed = "failed",
        /// Failed with no attempts left.
        Dead = "dead",
        /// Failed; another attempt follows.
        Retry = "retry",
        /// Its worker shut down and gave the run back unharmed.
        HandedBack = "handed_back",
        /// Put off without using up an attempt (the account is degraded).
        Paused = "paused",
        /// Its worker stopped answering; the run was taken back.
        Lost = "lost",
    }
}
