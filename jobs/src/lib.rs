//! Everything the API and the workers share: configuration, connections, the queue,
//! the job families and their handlers, run bookkeeping, progress, keys and audit.
//!
//! Errors: `thiserror` enums at this boundary ([`error`]); `anyhow` is not used here.

pub mod accounts;
pub mod actions;
pub mod analytics;
pub mod api_keys;
pub mod audit;
pub mod clock;
pub mod config;
pub mod context;
pub mod counters;
pub mod csv_cells;
pub mod db;
pub mod downloads;
pub mod emag;
pub mod error;
pub mod gauges;
pub mod items;
pub mod job;
pub mod kind;
pub mod lifecycle;
pub mod metrics;
pub mod params;
pub mod progress;
pub mod queue;
pub mod queues;
pub mod registry;
pub mod retention;
pub mod runs;
pub mod scheduled;
pub mod schedules;
pub mod secrets;
pub mod spawned;
pub mod stored;
pub mod submit;
pub mod synced;
pub mod task;
pub mod thread;
pub mod users;
pub mod wake;

pub mod bulk_update;
pub mod export;
pub mod notification;
pub mod ping;
pub mod report;
pub mod sync;

pub use config::{Config, SecretText, SecretUrl};
pub use context::JobContext;
pub use error::{ErrorCategory, JobError, SetupError};
pub use kind::JobKind;
pub use queue::Queue;
