//! `GET /api/v1/status`: how each eMAG account is doing, in one answer a dashboard or a
//! person can read: synced data by status, last successful syncs, runs now and their
//! success rates, eMAG's error rate and latency, and a health score with its reasons.

mod cache;
mod compute;
mod health;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::enums::AccountKind;

pub use cache::StatusCache;
pub use compute::compute;

#[derive(Object, Clone, Debug)]
pub struct StatusReport {
    pub generated_at: DateTime<Utc>,
    pub accounts: Vec<AccountStatus>,
}

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountStatus {
    pub name: String,
    pub kind: AccountKind,
    /// Set while the circuit breaker holds the account's runs.
    pub degraded: Option<Degraded>,
    /// Since when eMAG has kept failing for this account (the breaker's first opening in
    /// the current outage); absent once eMAG answers again.
    pub emag_unreachable_since: Option<DateTime<Utc>>,
    /// The stored password cannot be used; runs fail with `credentials` until an admin
    /// sets it again.
    pub needs_password: bool,
    pub offers: Counts,
    pub orders: Counts,
    /// Last successful sync of `offers` and of `orders`.
    pub last_sync: BTreeMap<String, LastSync>,
    /// Sync runs queued or running now.
    pub active_runs: Vec<RunBrief>,
    pub runs_24h: RunStats,
    pub runs_7d: RunStats,
    /// The five most recent sync runs.
    pub recent_runs: Vec<RunBrief>,
    /// eMAG traffic of this account's runs active in the last hour.
    pub emag: EmagStats,
    pub health: HealthScore,
}

#[derive(Object, Clone, Debug)]
pub struct Degraded {
    pub until: DateTime<Utc>,
    pub reason: String,
}

#[derive(Object, Clone, Debug, Default)]
pub struct Counts {
    pub total: i64,
    /// Keyed by eMAG's status code (offers: 0 inactive, 1 active, 2 end of life; orders:
    /// 0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned).
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Object, Clone, Debug)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    pub age_seconds: i64,
    pub run_id: Uuid,
}

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct RunBrief {
    pub id: Uuid,
    pub resource: String,
    pub status: String,
    pub processed: i64,
    pub total: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error_category: Option<String>,
}

#[derive(Object, Clone, Debug, Default)]
#[oai(skip_serializing_if_is_none)]
pub struct RunStats {
    /// Runs that ended in the period.
    pub finished: i64,
    pub succeeded: i64,
    /// succeeded ÷ finished; absent when none ended.
    pub success_rate: Option<f64>,
}

#[derive(Object, Clone, Debug, Default)]
#[oai(skip_serializing_if_is_none)]
pub struct EmagStats {
    pub requests: i64,
    pub errors: i64,
    /// errors ÷ requests.
    pub error_rate: Option<f64>,
    pub avg_latency_ms: Option<f64>,
    /// 429 answers (the shared limiter should keep this at 0).
    pub rate_limited: i64,
    /// Share of requests that waited for the shared rate budget: near 1 means the
    /// account's syncs use all eMAG allows.
    pub rate_limit_usage: Option<f64>,
}

#[derive(Object, Clone, Debug)]
pub struct HealthScore {
    /// 0 to 100.
    pub score: i64,
    pub level: HealthLevel,
    /// What lowered the score.
    pub reasons: Vec<HealthReason>,
}

/// How an account is doing, from its score: `healthy` (≥ 90), `degraded` (≥ 70),
/// `warning` (≥ 50) or `critical`.
#[derive(poem_openapi::Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum HealthLevel {
    Healthy,
    Degraded,
    Warning,
    Critical,
}

/// What lowered a score.
#[derive(poem_openapi::Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum HealthComponent {
    EmagErrors,
    EmagLatency,
    RateLimit,
    SyncFailures,
    Degraded,
    Stale,
}

#[derive(Object, Clone, Debug)]
pub struct HealthReason {
    pub component: HealthComponent,
    pub penalty: i64,
    pub detail: String,
}
