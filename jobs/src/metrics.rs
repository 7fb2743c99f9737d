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
            handle
        })
        .clone()
}
