//! Integration tests: one binary, one module per capability. Each scenario runs on both
//! backends (SQLite files; PostgreSQL + Redis) through the `both!` macro.

#![allow(
    clippy::expect_used,
    reason = "tests and their support code stop at the first broken expectation, naming it"
)]

/// Declares `$name::sqlite` and `$name::redis` tests that run `$scenario(backend)`.
macro_rules! both {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(tests::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$scenario(tests::Backend::Redis).await;
            }
        }
    };
}

mod accounts;
mod analytics;
mod api_fuzz;
mod auth;
mod bad_input;
mod batch;
mod bulk;
mod bulk_orders;
mod cancel;
mod cli;
mod console;
mod drills;
mod emag_contract;
mod emag_faults;
mod export;
mod hardening;
mod notify;
mod openapi;
mod ops;
mod ping;
mod processes;
mod queue_defects;
mod report;
mod retries;
mod scaling;
mod schedules;
mod secrets;
mod shutdown;
mod status;
mod stored_values;
mod sync;
mod synced;
mod tls;
mod transactions;
mod wakeups;
