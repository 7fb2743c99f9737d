//! `/health` (is the process up) and `/ready` (can it reach the database and the queue).
//! Neither needs a key: load balancers and orchestrators call them.

use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use sea_orm::ConnectionTrait;

use crate::{routes::ApiTags, state::AppState};

pub struct OpsApi {
    pub state: AppState,
}

#[derive(Object)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub version: String,
}

#[derive(Object)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    pub database: String,
    pub queue: String,
    /// `redis` or `sqlite`.
    pub queue_backend: String,
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// Database and queue answer.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// One of them does not.
    #[oai(status = 503)]
    Unavailable(Json<Readiness>),
}

#[OpenApi(tag = "ApiTags::Ops")]
impl OpsApi {
    /// Liveness
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    /// Readiness: the database and the queue are reachable
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self) -> ReadyResponse {
        let ctx = &self.state.ctx;
        let database = match ctx.db.execute_unprepared("SELECT 1").await {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: database");
                "unreachable".to_owned()
            }
        };
        let queue = match ctx.queue.ping().await {
            Ok(()) => "ok".to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: queue");
                "unreachable".to_owned()
            }
        };
        let ok = database == "ok" && queue == "ok";
        let body = Json(Readiness {
            status: if ok { "ready" } else { "unavailable" }.into(),
            database,
            queue,
            queue_backend: ctx.queue.backend_name().into(),
        });
        if ok {
            ReadyResponse::Ready(body)
        } else {
            ReadyResponse::Unavailable(body)
        }
    }
}
