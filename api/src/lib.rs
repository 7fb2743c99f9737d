//! The HTTP API: poem + poem-openapi, an OpenAPI 3 document and Swagger UI.
//!
//! - [`routes`]: the operations, one struct per area.
//! - [`auth`]: bearer API keys and roles. [`error`]: the one JSON error shape.
//! - [`stream`]: the per-process poller behind SSE and WebSocket progress.
//! - [`http_metrics`]: request metrics for `/metrics`.

pub mod auth;
pub mod body;
pub mod body_limit;
pub mod error;
pub mod http_metrics;
pub mod key_cache;
pub mod routes;
pub mod state;
pub mod status;
pub mod stream;
pub mod views;

use std::{future::Future, time::Duration};

use jobs::JobContext;
use poem::{
    Endpoint, EndpointExt, Route, Server, get, handler,
    listener::{Acceptor, TcpAcceptor},
    middleware::Tracing,
    web::Data,
};
use poem_openapi::OpenApiService;
use tokio_util::sync::CancellationToken;

use routes::{
    accounts::AccountsApi, bulk::BulkApi, files::FilesApi, notifications::NotificationsApi,
    ops::OpsApi, runs::RunsApi, schedules::SchedulesApi, status::StatusApi, stream::StreamApi,
};
pub use state::AppState;

const TITLE: &str = "magflow";

type Apis = (
    RunsApi,
    BulkApi,
    FilesApi,
    AccountsApi,
    NotificationsApi,
    SchedulesApi,
    StreamApi,
    StatusApi,
    OpsApi,
);

fn service(state: &AppState) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            RunsApi { state: state.clone() },
            BulkApi { state: state.clone() },
            FilesApi { state: state.clone() },
            AccountsApi { state: state.clone() },
            NotificationsApi { state: state.clone() },
            SchedulesApi { state: state.clone() },
            StreamApi { state: state.clone() },
            StatusApi { state: state.clone() },
            OpsApi { state: state.clone() },
        ),
        TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .description("Keeps eMAG Marketplace accounts in sync with the seller's database. Every `/api/v1` operation needs `Authorization: Bearer <key>`; viewers read and stream, admins also change things.")
}

/// The OpenAPI document as JSON (what `/api/openapi.json` serves).
pub fn openapi_json(state: &AppState) -> String {
    service(state).spec()
}

#[handler]
fn prometheus(state: Data<&AppState>) -> String {
    state.metrics.render()
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> impl Endpoint {
    let api = service(&state);
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/api/openapi.json", spec)
        .at("/metrics", get(prometheus))
        .data(state)
        .around(body_limit::limit)
        .around(error::json_errors)
        .around(http_metrics::record)
        .with(Tracing)
}

/// Builds the shared state: the stream poller starts here and stops with `stop`.
pub fn state(ctx: JobContext, stop: CancellationToken) -> AppState {
    let hub = stream::StreamHub::spawn(ctx.db.clone(), ctx.config.stream_poll(), stop);
    let redis = ctx
        .queue
        .redis_connection()
        .map(|conn| (conn, ctx.queue.prefix().to_owned()));
    AppState {
        status: std::sync::Arc::new(status::StatusCache::new(Duration::from_secs(2), redis)),
        keys: std::sync::Arc::default(),
        ctx,
        hub,
        metrics: jobs::metrics::install(),
    }
}

/// Serves until `shutdown` resolves, then lets open requests finish for a few seconds.
pub async fn serve(
    state: AppState,
    acceptor: TcpAcceptor,
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
