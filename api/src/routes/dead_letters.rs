//! Dead letters: runs that ended without success. `GET /api/v1/runs?status=dead&
//! discarded=false` lists them with their error; here they are retried (one, or many by
//! filter) or discarded.

use jobs::{JobKind, lifecycle::DeadFilter};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::{
    auth::ApiKey, body::Body, error::ApiError, routes::ApiTags, routes::runs::run_id,
    state::AppState, views::RunView,
};

pub struct DeadLettersApi {
    pub state: AppState,
}

#[derive(ApiResponse)]
pub enum Retried {
    /// Back on its queue with a fresh set of attempts, from its last checkpoint.
    #[oai(status = 202)]
    Accepted(Json<RunView>),
}

#[derive(ApiResponse)]
pub enum Discarded {
    /// Off the dead-letter list; it stays `dead` (or `failed`).
    #[oai(status = 200)]
    Ok(Json<RunView>),
}

#[derive(Object, Debug, Default, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct RetryFilter {
    /// Only this kind.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub kind: Option<String>,
    /// Only this eMAG account.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub account: Option<String>,
    /// Only runs that ended with this error category (`transient`, `timeout`, …).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub error_category: Option<String>,
    /// `dead` (default) or `failed`.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub status: Option<String>,
    /// At most this many runs, oldest first (1 to 1,000; default 100).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub limit: Option<u64>,
}

#[derive(Object, Debug)]
pub struct RetriedMany {
    pub retried: Vec<Uuid>,
    /// Syncs left dead because another sync of the same account and resource is active.
    pub locked: Vec<Uuid>,
}

#[OpenApi(tag = "ApiTags::Runs")]
impl DeadLettersApi {
    /// Retry a run that ended without success
    ///
    /// A dead, failed or cancelled run goes back on its queue with a fresh set of
    /// attempts and resumes from its checkpoint; for a parent, each of its runs that did
    /// not succeed. 409 if it has not ended or succeeded, or if a sync of the same account
    /// and resource is active.
    #[oai(
        path = "/api/v1/runs/:id/retry",
        method = "post",
        operation_id = "retry_run"
    )]
    async fn retry(&self, auth: ApiKey, id: Path<String>) -> Result<Retried, ApiError> {
        let principal = auth.admin()?;
        let run = jobs::actions::retry(&self.state.ctx, run_id(&id)?, &principal.actor()).await?;
        Ok(Retried::Accepted(Json(RunView::from(&run))))
    }

    /// Discard a dead letter
    ///
    /// Takes a dead or failed run off the dead-letter list (`discarded=false`); the run
    /// keeps its status and history. 409 for any other status.
    #[oai(
        path = "/api/v1/runs/:id/discard",
        method = "post",
        operation_id = "discard_run"
    )]
    async fn discard(&self, auth: ApiKey, id: Path<String>) -> Result<Discarded, ApiError> {
        let principal = auth.admin()?;
        let run = jobs::actions::discard(&self.state.ctx, run_id(&id)?, &principal.actor()).await?;
        Ok(Discarded::Ok(Json(RunView::from(&run))))
    }

    /// Retry dead letters by filter
    ///
    /// Retries every top-level run matching the filter that is dead (or failed) and not
    /// discarded, oldest first, up to `limit`.
    #[oai(
        path = "/api/v1/runs/retry",
        method = "post",
        operation_id = "retry_runs"
    )]
    async fn retry_many(
        &self,
        auth: ApiKey,
        body: Body<RetryFilter>,
    ) -> Result<Json<RetriedMany>, ApiError> {
        let principal = auth.admin()?;
        let f = body.0;
        let kind = match f.kind.as_deref() {
            None => None,
            Some(k) => Some(
                JobKind::parse(k)
                    .ok_or_else(|| ApiError::invalid("kind", format!("unknown kind {k:?}")))?,
            ),
        };
        let status = match f.status.as_deref() {
            None | Some("dead") => None,
            Some("failed") => Some(entity::job_run::RunStatus::Failed),
            Some(_) => return Err(ApiError::invalid("status", "must be dead or failed")),
        };
        let limit = f.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
        }
        let filter = DeadFilter {
            kind,
            account: f.account.clone(),
            error_category: crate::enums::category("error_category", f.error_category.as_deref())?,
            status,
        };
        let done =
            jobs::actions::retry_many(&self.state.ctx, &filter, limit, &principal.actor()).await?;
        Ok(Json(RetriedMany {
            retried: done.retried,
            locked: done.locked,
        }))
    }
}
