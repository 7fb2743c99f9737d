//! `/api/v1/queues`: each job kind's queue with its depth, running runs and the age of
//! the run that has waited longest; pause and resume.

use chrono::Utc;
use jobs::{JobKind, queues};
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use crate::{auth::ApiKey, error::ApiError, routes::ApiTags, state::AppState};

pub struct QueuesApi {
    pub state: AppState,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct QueueView {
    /// The job kind: `sync`, `bulk_update`, `export`, `notification`, `ping`.
    pub name: String,
    /// A paused queue accepts runs but starts none until resumed.
    pub paused: bool,
    /// Runs waiting to start (due now, or held by a pause).
    pub depth: u64,
    /// Runs waiting for a retry's backoff.
    pub scheduled: u64,
    pub running: u64,
    /// Seconds the longest-waiting run has waited since it was due.
    pub oldest_waiting_seconds: Option<f64>,
}

#[derive(Object, Debug)]
pub struct QueueList {
    pub items: Vec<QueueView>,
}

fn view(s: queues::QueueStats) -> QueueView {
    QueueView {
        name: s.kind.as_str().to_owned(),
        paused: s.paused,
        depth: s.depth,
        scheduled: s.scheduled,
        running: s.running,
        oldest_waiting_seconds: s.oldest_waiting_s,
    }
}

#[OpenApi(tag = "ApiTags::Queues")]
impl QueuesApi {
    /// List the queues
    #[oai(path = "/api/v1/queues", method = "get", operation_id = "list_queues")]
    async fn list(&self, _auth: ApiKey) -> Result<Json<QueueList>, ApiError> {
        let stats = queues::stats(&self.state.ctx.db, Utc::now()).await?;
        Ok(Json(QueueList {
            items: stats.into_iter().map(view).collect(),
        }))
    }

    /// Pause a queue
    ///
    /// Runs keep being accepted and wait; running ones go on to their end.
    #[oai(
        path = "/api/v1/queues/:name/pause",
        method = "post",
        operation_id = "pause_queue"
    )]
    async fn pause(&self, auth: ApiKey, name: Path<String>) -> Result<Json<QueueView>, ApiError> {
        self.set(auth, &name, true).await
    }

    /// Resume a queue
    ///
    /// Waiting runs start again, oldest first as workers take them.
    #[oai(
        path = "/api/v1/queues/:name/resume",
        method = "post",
        operation_id = "resume_queue"
    )]
    async fn resume(&self, auth: ApiKey, name: Path<String>) -> Result<Json<QueueView>, ApiError> {
        self.set(auth, &name, false).await
    }
}

impl QueuesApi {
    async fn set(
        &self,
        auth: ApiKey,
        name: &str,
        paused: bool,
    ) -> Result<Json<QueueView>, ApiError> {
        let principal = auth.admin()?;
        let kind =
            JobKind::parse(name).ok_or_else(|| ApiError::not_found(&format!("queue {name:?}")))?;
        let ctx = &self.state.ctx;
        jobs::actions::set_queue_paused(ctx, kind, paused, &principal.actor()).await?;
        let stats = queues::stats(&ctx.db, Utc::now()).await?;
        let one = stats
            .into_iter()
            .find(|s| s.kind == kind)
            .ok_or_else(|| ApiError::not_found("queue"))?;
        Ok(Json(view(one)))
    }
}
