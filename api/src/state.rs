//! What every request handler can reach.

use jobs::JobContext;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::{status::StatusCache, stream::StreamHub};

#[derive(Clone)]
pub struct AppState {
    pub ctx: JobContext,
    /// Fans changed runs out to SSE and WebSocket clients.
    pub hub: StreamHub,
    pub metrics: PrometheusHandle,
    pub status: std::sync::Arc<StatusCache>,
    pub keys: std::sync::Arc<crate::key_cache::KeyCache>,
    /// Turns for request bodies above 1 MiB (`MAGFLOW_API_LARGE_BODIES`).
    pub large_bodies: std::sync::Arc<tokio::sync::Semaphore>,
    /// Open SSE and WebSocket streams per key.
    pub streams: std::sync::Arc<crate::stream_slots::StreamSlots>,
    /// Failed authentications per client address.
    pub auth_throttle: std::sync::Arc<crate::auth_throttle::AuthThrottle>,
    /// eMAG callbacks: calls per account, orders called about lately.
    pub hooks: std::sync::Arc<crate::hook_guard::HookGuard>,
    /// The console overview's data, shared by its viewers for a second.
    pub overview: std::sync::Arc<crate::snapshot::Snapshot>,
    /// The console's unfiltered first page of runs, shared the same way.
    pub runs_page: std::sync::Arc<crate::snapshot::Snapshot>,
}
