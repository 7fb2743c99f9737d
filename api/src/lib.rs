//! The HTTP API: poem + poem-openapi, an OpenAPI 3 document and Swagger UI.
//!
//! - [`routes`]: the operations, one struct per area.
//! - [`auth`]: bearer API keys and roles. [`error`]: the one JSON error shape.
//! - [`stream`]: the per-process poller behind SSE and WebSocket progress.
//! - [`http_metrics`]: request metrics for `/metrics`.
//! - [`tls`]: optional HTTPS with rustls.

pub mod auth;
pub mod auth_throttle;
pub mod body;
pub mod body_limit;
pub mod console;
pub mod enums;
pub mod error;
pub mod hook_guard;
pub mod http_metrics;
pub mod key_cache;
pub mod request_log;
pub mod routes;
pub mod serialized;
pub mod snapshot;
pub mod sse;
pub mod state;
pub mod status;
pub mod stream;
pub mod stream_slots;
pub mod tls;
pub mod views;

use std::{future::Future, time::Duration};

use jobs::JobContext;
use poem::{
    Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route, Server, get,
    handler,
    http::Method,
    listener::{Acceptor, TcpAcceptor},
    middleware::Cors,
    web::Data,
};
use poem_openapi::OpenApiService;
use tokio_util::sync::CancellationToken;

use routes::{
    accounts::AccountsApi, analytics::AnalyticsApi, audit::AuditApi, bulk::BulkApi,
    dead_letters::DeadLettersApi, files::FilesApi, hooks::HooksApi, keys::KeysApi,
    notifications::NotificationsApi, ops::OpsApi, queues::QueuesApi, runs::RunsApi,
    runs_batch::RunsBatchApi, schedules::SchedulesApi, status::StatusApi, stream::StreamApi,
    synced::SyncedApi,
};
pub use state::AppState;

const TITLE: &str = "magflow";

type Apis = (
    RunsApi,
    RunsBatchApi,
    BulkApi,
    FilesApi,
    AccountsApi,
    NotificationsApi,
    SchedulesApi,
    DeadLettersApi,
    QueuesApi,
    KeysApi,
    AuditApi,
    StreamApi,
    StatusApi,
    OpsApi,
    HooksApi,
    // poem-openapi implements tuples of up to 16: the data routes share one.
    (SyncedApi, AnalyticsApi),
);

fn service(state: &AppState) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            RunsApi { state: state.clone() },
            RunsBatchApi { state: state.clone() },
            BulkApi { state: state.clone() },
            FilesApi { state: state.clone() },
            AccountsApi { state: state.clone() },
            NotificationsApi { state: state.clone() },
            SchedulesApi { state: state.clone() },
            DeadLettersApi { state: state.clone() },
            QueuesApi { state: state.clone() },
            KeysApi { state: state.clone() },
            AuditApi { state: state.clone() },
            StreamApi { state: state.clone() },
            StatusApi { state: state.clone() },
            OpsApi { state: state.clone() },
            HooksApi { state: state.clone() },
            (
                SyncedApi { state: state.clone() },
                AnalyticsApi { state: state.clone() },
            ),
        ),
        TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .description("Keeps eMAG Marketplace accounts in sync with the seller's database. Every `/api/v1` operation needs `Authorization: Bearer <key>`; viewers read and stream, admins also change things.")
}

#[handler]
fn prometheus(state: Data<&AppState>, req: &Request) -> Response {
    if !metrics_allowed(state.ctx.config.metrics_token.as_ref(), req) {
        return metrics_refused();
    }
    state.metrics.render().into_response()
}

/// With `MAGFLOW_METRICS_TOKEN` set, `/metrics` wants it as a bearer token.
fn metrics_allowed(token: Option<&jobs::SecretText>, req: &Request) -> bool {
    token.is_none_or(|t| auth::bearer_token(req).is_some_and(|given| t.matches(given)))
}

fn metrics_refused() -> Response {
    Response::builder()
        .status(poem::http::StatusCode::UNAUTHORIZED)
        .header(poem::http::header::WWW_AUTHENTICATE, "Bearer")
        .body("/metrics needs Authorization: Bearer <MAGFLOW_METRICS_TOKEN>")
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> impl Endpoint {
    let api = service(&state);
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    let cors = cors(&state.ctx.config.cors_origins);
    // The API's operations live under /api (no strip: they are declared with their whole
    // path) and at /health and /ready, which leaves `/` and the rest to the console.
    let api = std::sync::Arc::new(api.into_endpoint());
    console::mount(
        Route::new()
            .nest_no_strip("/api", api.clone())
            .nest_no_strip("/hooks", api.clone())
            .at("/health", api.clone())
            .at("/ready", api),
    )
    .nest("/docs", docs)
    .at("/api/openapi.json", spec)
    .at("/metrics", get(prometheus))
    .data(state.clone())
    .around(move |next, req| body_limit::gate(next, req, state.clone()))
    .around(error::json_errors)
    .around(http_metrics::record)
    .with_if(cors.is_some(), cors.unwrap_or_default())
    .around(request_log::around)
}

/// Browsers may call the API only from the configured origins; with none configured
/// there is no CORS layer at all, so every cross-origin browser call is refused.
fn cors(origins: &[String]) -> Option<Cors> {
    if origins.is_empty() {
        return None;
    }
    Some(
        Cors::new()
            .allow_origins(origins.iter().map(String::as_str))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers(["authorization", "content-type"])
            .max_age(600),
    )
}

/// Builds the shared state: the stream poller starts here and stops with `stop`.
pub fn state(ctx: JobContext, stop: CancellationToken) -> AppState {
    tokio::spawn(refresh_gauges(ctx.clone(), stop.clone()));
    let hub = stream::StreamHub::spawn(ctx.db.clone(), ctx.config.stream_poll(), stop);
    let redis = ctx
        .queue
        .redis_connection()
        .map(|conn| (conn, ctx.queue.prefix().to_owned()));
    AppState {
        status: std::sync::Arc::new(status::StatusCache::new(Duration::from_secs(2), redis)),
        keys: std::sync::Arc::default(),
        streams: std::sync::Arc::new(stream_slots::StreamSlots::new(
            ctx.config.api_streams_per_key,
        )),
        auth_throttle: std::sync::Arc::new(auth_throttle::AuthThrottle::new(
            ctx.config.api_auth_failures_per_minute,
        )),
        hooks: std::sync::Arc::new(hook_guard::HookGuard::new(ctx.config.hook_calls_per_minute)),
        large_bodies: std::sync::Arc::new(tokio::sync::Semaphore::new(
            ctx.config.api_large_bodies.max(1),
        )),
        overview: std::sync::Arc::new(snapshot::Snapshot::new(Duration::from_secs(1))),
        runs_page: std::sync::Arc::new(snapshot::Snapshot::new(Duration::from_secs(1))),
        ctx,
        hub,
        metrics: jobs::metrics::install(),
    }
}

/// Keeps the database-derived gauges of `/metrics` fresh (every 5 s): they change
/// slowly, and one API process is enough to report them.
async fn refresh_gauges(ctx: JobContext, stop: CancellationToken) {
    let mut gauges = jobs::gauges::Gauges::default();
    loop {
        if let Err(e) = gauges.refresh(&ctx.db, &ctx.config).await {
            tracing::debug!(error = %e, "gauge refresh failed");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// A worker's own `/metrics` (its eMAG requests, run outcomes) and `/health`, served
/// until `shutdown` resolves.
pub async fn serve_metrics(
    acceptor: TcpAcceptor,
    token: Option<jobs::SecretText>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = jobs::metrics::install();
    let app = Route::new()
        .at(
            "/metrics",
            get(poem::endpoint::make_sync(move |req| {
                if metrics_allowed(token.as_ref(), &req) {
                    handle.render().into_response()
                } else {
                    metrics_refused()
                }
            })),
        )
        .at("/health", get(poem::endpoint::make_sync(|_| "ok")));
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(1)))
        .await
}

/// Serves until `shutdown` resolves, then lets open requests finish for a few seconds.
pub async fn serve(
    state: AppState,
    acceptor: impl Acceptor + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = state.hub.stopped();
    let addr = acceptor
        .local_addr()
        .first()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(bind = %addr, "api listening");
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            app(state),
            async move {
                shutdown.await;
                // Ends the SSE and WebSocket streams so shutdown does not wait on them.
                stop.cancel();
            },
            Some(Duration::from_secs(5)),
        )
        .await
}
