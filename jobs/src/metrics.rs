//! The Prometheus recorder and the names of magflow's metrics.
//!
//! The `metrics` facade has one process-wide recorder by design; `install` is idempotent
//! so the binary and in-process tests can both call it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "magflow_http_requests_total";
pub const HTTP_DURATION: &str = "magflow_http_request_duration_seconds";
pub const RUNS_FINISHED: &str = "magflow_runs_finished_total";
pub const RUN_DURATION: &str = "magflow_run_duration_seconds";
pub const RUN_ATTEMPTS: &str = "magflow_run_attempts_total";
pub const QUEUE_DEPTH: &str = "magflow_queue_depth";
pub const BAD_PAYLOADS: &str = "magflow_bad_task_payloads_total";
pub const QUEUE_RUNNING: &str = "magflow_queue_running";
pub const QUEUE_OLDEST_AGE: &str = "magflow_queue_oldest_waiting_seconds";
pub const QUEUE_PAUSED: &str = "magflow_queue_paused";
/// Seconds since the least recently updated running run of a kind reported progress.
pub const RUN_STALLED: &str = "magflow_run_oldest_progress_age_seconds";
pub const EMAG_REQUESTS: &str = "magflow_emag_requests_total";
pub const EMAG_DURATION: &str = "magflow_emag_request_duration_seconds";
pub const EMAG_RATE_LIMIT_WAITS: &str = "magflow_emag_rate_limit_waits_total";
/// eMAG's request limit per login and bucket (requests per second), after the margin.
pub const EMAG_RATE_LIMIT: &str = "magflow_emag_rate_limit_per_second";
/// 1 while an account's circuit breaker is open (degraded), else 0.
pub const ACCOUNT_DEGRADED: &str = "magflow_emag_account_degraded";
/// API requests that presented a key that did not work (unknown, revoked, expired, or
/// from a network the key does not allow), and those refused for too many of them.
pub const AUTH_FAILURES: &str = "magflow_api_auth_failures_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0, 300.0, 900.0, 3600.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

/// The HELP line of every metric (Prometheus' linter, `promtool check metrics`, wants one).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "API requests by route, method and status.");
    describe_counter!(
        AUTH_FAILURES,
        "API requests whose key did not work (outcome=refused) or that were turned away after too many such requests from their address (outcome=throttled)."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "API request latency by route, method and status."
    );
    describe_counter!(
        RUNS_FINISHED,
        "Attempts that ended, by kind, outcome (succeeded, failed, dead, retry, cancelled, handed_back, paused) and error category."
    );
    describe_histogram!(
        RUN_DURATION,
        Unit::Seconds,
        "Duration of an attempt, by kind."
    );
    describe_counter!(RUN_ATTEMPTS, "Attempts started, by kind.");
    describe_gauge!(
        QUEUE_DEPTH,
        "Runs waiting to start (due, or held by a paused queue), by kind."
    );
    describe_gauge!(QUEUE_RUNNING, "Runs running, by kind.");
    describe_gauge!(
        QUEUE_OLDEST_AGE,
        Unit::Seconds,
        "How long the longest-waiting run has waited since it was due, by kind."
    );
    describe_gauge!(
        QUEUE_PAUSED,
        "1 while an operator has paused the kind's queue."
    );
    describe_gauge!(
        RUN_STALLED,
        Unit::Seconds,
        "Longest time a running run of the kind has gone without its counters changing."
    );
    describe_counter!(
        BAD_PAYLOADS,
        "Queue tasks dropped because their payload did not decode."
    );
    describe_counter!(
        EMAG_REQUESTS,
        "eMAG requests by route, account, rate-limit bucket and HTTP status."
    );
    describe_histogram!(EMAG_DURATION, Unit::Seconds, "eMAG response time by route.");
    describe_counter!(
        EMAG_RATE_LIMIT_WAITS,
        "eMAG requests that waited for the shared rate limit, by account and bucket."
    );
    describe_gauge!(
        EMAG_RATE_LIMIT,
        "eMAG's request limit per login and bucket, per second, after the configured margin."
    );
    describe_gauge!(
        ACCOUNT_DEGRADED,
        "1 while the account's circuit breaker is open (its runs paused)."
    );
}
