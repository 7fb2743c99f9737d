//! `/api/v1/schedules`: cron schedules admins edit; every worker fires their ticks, each
//! exactly once.

use chrono::{DateTime, Utc};
use entity::schedule;
use jobs::{
    runs,
    schedules::{
        manage,
        spec::{ScheduleSpec, next_fires, parse_cron, parse_timezone},
        store::{self, ScheduleError},
    },
};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    auth::ApiKey,
    body::Body,
    enums::{Misfire, Overlap, Status},
    error::ApiError,
    routes::ApiTags,
    state::AppState,
    views::RunView,
};

pub struct SchedulesApi {
    pub state: AppState,
}

#[derive(Object, Debug, serde::Deserialize, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// 1–64 lower-case letters, digits, `-`, `_`; unique.
    pub name: String,
    /// 5 fields (`*/5 * * * *`) or 6 with seconds first (`*/1 * * * * *`).
    pub cron: String,
    /// IANA time zone the expression is read in (default `UTC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub timezone: Option<String>,
    /// `{"kind", "params"}`, checked as `POST /api/v1/runs` checks them.
    pub template: Value,
    /// `skip` (default: no tick while the previous run is active) or `allow`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub overlap: Option<Overlap>,
    /// `skip` (default: ticks missed while no worker ran are dropped) or `run_once`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub misfire: Option<Misfire>,
    /// Up to this many seconds of random delay per fire (0–3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub jitter_s: Option<u32>,
    /// Addresses told when a run of this schedule ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub notify: Option<Vec<String>>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct ScheduleView {
    pub id: Uuid,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub template: Value,
    pub overlap: Overlap,
    pub misfire: Misfire,
    pub jitter_s: i32,
    pub notify: Value,
    pub paused: bool,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub last_fire_at: Option<DateTime<Utc>>,
    pub last_run_id: Option<Uuid>,
    /// The status of the last run it started.
    pub last_run_status: Option<Status>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Object, Debug)]
pub struct NextFires {
    /// UTC instants.
    pub fires: Vec<DateTime<Utc>>,
}

#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<ScheduleView>),
}

#[derive(ApiResponse)]
pub enum Triggered {
    #[oai(status = 202)]
    Accepted(Json<RunView>),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

fn spec_of(req: &ScheduleRequest) -> Result<ScheduleSpec, ApiError> {
    let value = json!(req);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        ApiError::invalid(
            if field == "." {
                "schedule".into()
            } else {
                field
            },
            e.into_inner().to_string(),
        )
    })
}

fn schedule_error(e: ScheduleError) -> ApiError {
    match e {
        e if e.name_taken() => ApiError::conflict("a schedule with this name exists"),
        ScheduleError::Invalid(p) => ApiError::invalid(p.field, p.message),
        ScheduleError::Db(db) => db.into(),
    }
}

impl SchedulesApi {
    async fn view(&self, s: schedule::Model) -> Result<ScheduleView, ApiError> {
        let last_run_status = match s.last_run_id {
            Some(id) => runs::find(&self.state.ctx.db, id)
                .await?
                .map(|r| r.status.into()),
            None => None,
        };
        Ok(ScheduleView {
            id: s.id,
            name: s.name,
            cron: s.cron,
            timezone: s.timezone,
            template: s.template,
            overlap: s.overlap.into(),
            misfire: s.misfire.into(),
            jitter_s: s.jitter_s,
            notify: s.notify,
            paused: s.paused,
            next_fire_at: s.next_fire_at,
            last_fire_at: s.last_fire_at,
            last_run_id: s.last_run_id,
            last_run_status,
            created_at: s.created_at,
            updated_at: s.updated_at,
        })
    }

    async fn load(&self, id: &str) -> Result<schedule::Model, ApiError> {
        let id =
            Uuid::parse_str(id).map_err(|_| ApiError::invalid("id", "is not a schedule id"))?;
        store::find(&self.state.ctx.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("schedule"))
    }
}

#[OpenApi(tag = "ApiTags::Schedules")]
impl SchedulesApi {
    /// Create a schedule
    #[oai(
        path = "/api/v1/schedules",
        method = "post",
        operation_id = "create_schedule"
    )]
    async fn create(&self, auth: ApiKey, body: Body<ScheduleRequest>) -> Result<Created, ApiError> {
        let principal = auth.admin()?;
        let spec = spec_of(&body)?;
        let s = manage::create(&self.state.ctx, &spec, &principal.actor())
            .await
            .map_err(schedule_error)?;
        Ok(Created::Created(Json(self.view(s).await?)))
    }

    /// List schedules
    #[oai(
        path = "/api/v1/schedules",
        method = "get",
        operation_id = "list_schedules"
    )]
    async fn list(&self, _auth: ApiKey) -> Result<Json<Vec<ScheduleView>>, ApiError> {
        let mut out = Vec::new();
        for s in store::list(&self.state.ctx.db).await? {
            out.push(self.view(s).await?);
        }
        Ok(Json(out))
    }

    /// Get a schedule
    #[oai(
        path = "/api/v1/schedules/:id",
        method = "get",
        operation_id = "get_schedule"
    )]
    async fn get(&self, _auth: ApiKey, id: Path<String>) -> Result<Json<ScheduleView>, ApiError> {
        let s = self.load(&id).await?;
        Ok(Json(self.view(s).await?))
    }

    /// Replace a schedule
    #[oai(
        path = "/api/v1/schedules/:id",
        method = "put",
        operation_id = "update_schedule"
    )]
    async fn update(
        &self,
        auth: ApiKey,
        id: Path<String>,
        body: Body<ScheduleRequest>,
    ) -> Result<Json<ScheduleView>, ApiError> {
        let principal = auth.admin()?;
        let current = self.load(&id).await?;
        let spec = spec_of(&body)?;
        let s = manage::update(&self.state.ctx, current, &spec, &principal.actor())
            .await
            .map_err(schedule_error)?;
        Ok(Json(self.view(s).await?))
    }

    /// Delete a schedule
    #[oai(
        path = "/api/v1/schedules/:id",
        method = "delete",
        operation_id = "delete_schedule"
    )]
    async fn delete(&self, auth: ApiKey, id: Path<String>) -> Result<Deleted, ApiError> {
        let principal = auth.admin()?;
        let s = self.load(&id).await?;
        manage::delete(&self.state.ctx, s.id, &principal.actor()).await?;
        Ok(Deleted::Deleted)
    }

    /// Pause a schedule
    #[oai(
        path = "/api/v1/schedules/:id/pause",
        method = "post",
        operation_id = "pause_schedule"
    )]
    async fn pause(&self, auth: ApiKey, id: Path<String>) -> Result<Json<ScheduleView>, ApiError> {
        self.set_paused(auth, &id, true).await
    }

    /// Resume a schedule
    #[oai(
        path = "/api/v1/schedules/:id/resume",
        method = "post",
        operation_id = "resume_schedule"
    )]
    async fn resume(&self, auth: ApiKey, id: Path<String>) -> Result<Json<ScheduleView>, ApiError> {
        self.set_paused(auth, &id, false).await
    }

    /// Run a schedule now
    ///
    /// Starts its job at once, outside its ticks; 202 with the run.
    #[oai(
        path = "/api/v1/schedules/:id/trigger",
        method = "post",
        operation_id = "trigger_schedule"
    )]
    async fn trigger(&self, auth: ApiKey, id: Path<String>) -> Result<Triggered, ApiError> {
        let principal = auth.admin()?;
        let s = self.load(&id).await?;
        let run = manage::trigger(&self.state.ctx, &s, &principal.actor()).await?;
        Ok(Triggered::Accepted(Json(RunView::from(&run))))
    }

    /// Preview the next fire times
    #[oai(
        path = "/api/v1/schedules/:id/next",
        method = "get",
        operation_id = "schedule_next"
    )]
    async fn next(
        &self,
        _auth: ApiKey,
        id: Path<String>,
        /// How many (1–100, default 5).
        count: Query<Option<usize>>,
    ) -> Result<Json<NextFires>, ApiError> {
        let count = count.0.unwrap_or(5);
        if !(1..=100).contains(&count) {
            return Err(ApiError::invalid("count", "must be between 1 and 100"));
        }
        let s = self.load(&id).await?;
        let cron = parse_cron(&s.cron).map_err(|e| ApiError::invalid(e.field, e.message))?;
        let tz = parse_timezone(&s.timezone).map_err(|e| ApiError::invalid(e.field, e.message))?;
        Ok(Json(NextFires {
            fires: next_fires(&cron, tz, Utc::now(), count),
        }))
    }
}

impl SchedulesApi {
    async fn set_paused(
        &self,
        auth: ApiKey,
        id: &str,
        paused: bool,
    ) -> Result<Json<ScheduleView>, ApiError> {
        let principal = auth.admin()?;
        let current = self.load(id).await?;
        let s = manage::set_paused(&self.state.ctx, current, paused, &principal.actor())
            .await
            .map_err(schedule_error)?;
        Ok(Json(self.view(s).await?))
    }
}
