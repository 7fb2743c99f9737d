//! `/api/v1/runs`: start runs, read them, cancel them, follow one over SSE.

use std::time::Duration;

use entity::job_run::RunStatus;
use jobs::{
    JobKind,
    params::RawParams,
    runs::{self, RunFilter},
    submit::Submitted,
};
use poem::web::sse::Event;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::{EventStream, Json},
    types::{Any, ToJSON},
};
use serde_json::{Value, value::RawValue};
use uuid::Uuid;

use crate::{
    auth::ApiKey,
    body::Body,
    enums::{self, Kind},
    error::ApiError,
    routes::ApiTags,
    sse::Sse,
    state::AppState,
    views::{BulkPreview, RunView, StreamMessage},
};

pub struct RunsApi {
    pub state: AppState,
}

#[derive(Object, Debug, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct CreateRunRequest {
    pub kind: Kind,
    /// The kind's parameters; see the README for each kind.
    // Kept as the body's JSON text: the kind reads its own parameters from it, with no
    // `serde_json::Value` tree (several times a bulk body's size) in between.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub params: Option<Any<Box<RawValue>>>,
    /// Overrides the kind's retry policy (1 to 100 attempts).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub max_attempts: Option<u32>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct RunPage {
    pub items: Vec<RunView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
#[allow(
    clippy::large_enum_variant,
    reason = "one response per request; boxing would change nothing a client sees"
)]
pub enum Accepted {
    /// The run is queued.
    #[oai(status = 202)]
    Accepted(Json<RunView>),
    /// A bulk update's `dry_run`: what would change; nothing was stored or sent.
    #[oai(status = 200)]
    DryRun(Json<BulkPreview>),
}

#[derive(ApiResponse)]
pub enum CancelResponse {
    /// Cancelled, or (for a running run) asked to stop at its next checkpoint.
    #[oai(status = 202)]
    Accepted(Json<RunView>),
}

#[OpenApi(tag = "ApiTags::Runs")]
impl RunsApi {
    /// Start a run
    ///
    /// Validates the parameters, stores the run as `queued` and puts it on its queue.
    #[oai(path = "/api/v1/runs", method = "post", operation_id = "create_run")]
    async fn create(
        &self,
        auth: ApiKey,
        body: Body<CreateRunRequest>,
    ) -> Result<Accepted, ApiError> {
        let principal = auth.admin()?;
        let kind = JobKind::from(body.kind);
        check_max_attempts(body.max_attempts)?;
        let params = match &body.params {
            Some(p) => RawParams::Text(p.0.get()),
            None => RawParams::Value(&Value::Null),
        };
        let submitted = jobs::actions::submit(
            &self.state.ctx,
            kind,
            params,
            body.max_attempts,
            &principal.actor(),
        )
        .await?;
        let run = match submitted {
            Submitted::Queued(run) => *run,
            Submitted::Preview(planned) => {
                return Ok(Accepted::DryRun(Json(BulkPreview::from(planned))));
            }
        };
        Ok(Accepted::Accepted(Json(RunView::from(&run))))
    }

    /// Get a run
    #[oai(path = "/api/v1/runs/:id", method = "get", operation_id = "get_run")]
    async fn get(&self, _auth: ApiKey, id: Path<String>) -> Result<Json<RunView>, ApiError> {
        match runs::find(&self.state.ctx.db, run_id(&id)?).await? {
            Some(run) => Ok(Json(RunView::from(&run))),
            None => Err(ApiError::not_found("run")),
        }
    }

    /// List runs, newest first
    ///
    /// Each run comes without its `checkpoint` (where a resumed attempt starts; an orders
    /// sync's holds its plan of date windows): `GET /api/v1/runs/{id}` has it.
    #[oai(path = "/api/v1/runs", method = "get", operation_id = "list_runs")]
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per query parameter is how poem-openapi documents them"
    )]
    async fn list(
        &self,
        _auth: ApiKey,
        /// Only this kind.
        kind: Query<Option<String>>,
        /// Only this status.
        status: Query<Option<String>>,
        /// Only this eMAG account.
        account: Query<Option<String>>,
        /// Only the children of this run.
        parent_id: Query<Option<Uuid>>,
        /// Only runs started by this schedule.
        schedule_id: Query<Option<Uuid>>,
        /// Only runs that ended with this error category (`transient`, `timeout`, …).
        error_category: Query<Option<String>>,
        /// `false`: only dead letters not discarded yet; `true`: only discarded ones.
        discarded: Query<Option<bool>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u64>>,
    ) -> Result<Json<RunPage>, ApiError> {
        let kind = match kind.0.as_deref() {
            None => None,
            Some(k) => Some(
                JobKind::parse(k)
                    .ok_or_else(|| ApiError::invalid("kind", format!("unknown kind {k:?}")))?,
            ),
        };
        let status = match status.0.as_deref() {
            None => None,
            Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    "must be queued, running, succeeded, failed, cancelled or dead",
                )
            })?),
        };
        let before =
            match cursor.0.as_deref() {
                None => None,
                Some(c) => Some(Uuid::parse_str(c).map_err(|_| {
                    ApiError::invalid("cursor", "is not a cursor this API returned")
                })?),
            };
        let limit = limit.0.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be between 1 and 200"));
        }
        let filter = RunFilter {
            kind,
            status,
            account: account.0,
            parent_id: parent_id.0,
            schedule_id: schedule_id.0,
            error_category: enums::category("error_category", error_category.0.as_deref())?,
            discarded: discarded.0,
        };
        let rows = runs::list(&self.state.ctx.db, &filter, before, limit + 1).await?;
        let has_more = rows.len() as u64 > limit;
        let items: Vec<RunView> = rows
            .iter()
            .take(limit as usize)
            .map(RunView::from)
            .collect();
        let next_cursor = if has_more {
            items.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Json(RunPage { items, next_cursor }))
    }

    /// Cancel a run
    ///
    /// A queued run is cancelled at once; a running one stops at its next checkpoint and
    /// keeps it. 409 if the run has already ended.
    #[oai(
        path = "/api/v1/runs/:id/cancel",
        method = "post",
        operation_id = "cancel_run"
    )]
    async fn cancel(&self, auth: ApiKey, id: Path<String>) -> Result<CancelResponse, ApiError> {
        let principal = auth.admin()?;
        let run = jobs::actions::cancel(&self.state.ctx, run_id(&id)?, &principal.actor()).await?;
        Ok(CancelResponse::Accepted(Json(RunView::from(&run))))
    }

    /// Follow a run (Server-Sent Events)
    ///
    /// Sends the run's current state and recent log lines, then `progress` and `log`
    /// events as they happen, and a final `end` event when the run is over.
    #[oai(
        path = "/api/v1/runs/:id/events",
        method = "get",
        operation_id = "run_events"
    )]
    async fn events(&self, auth: ApiKey, id: Path<String>) -> Result<Sse, ApiError> {
        let slot = self.state.streams.take(auth.principal().key_id)?;
        // Subscribe before reading the snapshot, so nothing falls between the two.
        let updates = self.state.hub.subscribe();
        let db = self.state.ctx.db.clone();
        let Some(run) = runs::find(&db, run_id(&id)?).await? else {
            return Err(ApiError::not_found("run"));
        };
        // The most recent lines: what a person opening a long run wants to see.
        let history = runs::recent_events(&db, run.id, super::run_stream::HISTORY_LINES).await?;
        let stop = self.state.hub.stopped();
        let settle = self.state.hub.interval() * 2;
        let stream = super::run_stream::run_stream(super::run_stream::RunStream {
            db,
            run,
            history,
            updates,
            stop,
            settle,
            slot,
        });
        Ok(Sse(EventStream::new(stream)
            .keep_alive(Duration::from_secs(10))
            .to_event(|m: StreamMessage| {
                let kind = m.kind.clone();
                Event::message(m.to_json_string()).event_type(kind)
            })))
    }
}

/// Run ids in paths are parsed here so a malformed one gets the usual error shape.
/// `max_attempts` overrides a kind's retry policy within 1 to 100.
pub(crate) fn check_max_attempts(n: Option<u32>) -> Result<(), ApiError> {
    match n {
        Some(n) if !(1..=100).contains(&n) => Err(ApiError::invalid(
            "max_attempts",
            "must be between 1 and 100",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn run_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_field("id", format!("{raw:?} is not a run id")))
}
