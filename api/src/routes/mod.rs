//! The operations of the API, one struct per area.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod bulk;
pub mod dead_letters;
pub mod files;
pub mod hooks;
pub mod keys;
pub mod notifications;
pub mod ops;
pub mod queues;
mod run_stream;
pub mod runs;
pub mod runs_batch;
pub mod schedules;
pub mod status;
pub mod stream;
pub mod synced;

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Job runs: start, inspect, cancel, follow.
    Runs,
    /// eMAG seller accounts.
    Accounts,
    /// Offers and orders as syncs stored them.
    Data,
    /// Live progress of many runs.
    Stream,
    /// Liveness, readiness and account status.
    Ops,
    /// E-mail when runs end.
    Notifications,
    /// Cron schedules that start runs.
    Schedules,
    /// Queue depth, pause and resume.
    Queues,
    /// API keys and the audit log.
    Keys,
    /// Sales, best sellers, stock and days of cover from the daily history.
    Analytics,
    /// What eMAG calls: no API key, the account's callback secret in the URL.
    Hooks,
}
