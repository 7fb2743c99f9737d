//! `GET /schedules`: every schedule with its expression, zone, next and last fire and the
//! status of its last run; `POST /schedules/{id}/{pause|resume|trigger|delete}`.

use entity::job_run;
use jobs::{schedules::manage, submit::SubmitError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::prelude::*;
use super::{Empty, schedule_form::load, unavailable};

async fn rows(state: &AppState) -> Result<Vec<Value>, sea_orm::DbErr> {
    let db = &state.ctx.db;
    let schedules = jobs::schedules::store::list(db).await?;
    // The last runs' statuses in one query.
    let last: Vec<uuid::Uuid> = schedules.iter().filter_map(|s| s.last_run_id).collect();
    let statuses: std::collections::HashMap<uuid::Uuid, &'static str> = job_run::Entity::find()
        .filter(job_run::Column::Id.is_in(last))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.status.as_str()))
        .collect();
    Ok(schedules
        .iter()
        .map(|s| {
            context! {
                id => s.id.to_string(),
                name => s.name,
                cron => s.cron,
                timezone => s.timezone,
                kind => s.template["kind"].as_str(),
                paused => s.paused,
                next_fire_at => s.next_fire_at.map(|t| t.to_rfc3339()),
                last_fire_at => s.last_fire_at.map(|t| t.to_rfc3339()),
                last_run_id => s.last_run_id.map(|i| i.to_string()),
                last_run_status => s.last_run_id.and_then(|i| statuses.get(&i).copied()),
            }
        })
        .collect())
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed) -> Response {
    let frame = Frame::of(&me, "schedules");
    match rows(&state).await {
        Ok(schedules) => render::page(
            "schedules.html",
            &frame,
            context! { schedules => schedules },
            StatusCode::OK,
        ),
        Err(e) => unavailable(&frame, "schedules", &e),
    }
}

/// `POST /schedules/{id}/{pause|resume|trigger|delete}`.
#[handler]
pub async fn act(
    state: Data<&AppState>,
    Path((id, action)): Path<(String, String)>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "schedules");
    let s = match load(&state, &id).await {
        Ok(Some(s)) => s,
        Ok(None) => return super::not_found(&frame),
        Err(e) => return unavailable(&frame, "schedule", &e),
    };
    let ctx = &state.ctx;
    let actor = me.actor();
    let done = match action.as_str() {
        "pause" | "resume" => manage::set_paused(ctx, s, action == "pause", &actor)
            .await
            .map(|_| "/schedules".to_owned())
            .map_err(|e| e.to_string()),
        "trigger" => match manage::trigger(ctx, &s, &actor).await {
            Ok(run) => Ok(format!("/runs/{}", run.id)),
            Err(SubmitError::Conflict { .. }) => {
                return render::message(
                    &frame,
                    "sync_busy_title",
                    "sync_busy",
                    StatusCode::CONFLICT,
                );
            }
            Err(e) => Err(e.to_string()),
        },
        "delete" => manage::delete(ctx, s.id, &actor)
            .await
            .map(|_| "/schedules".to_owned())
            .map_err(|e| e.to_string()),
        _ => return super::not_found(&frame),
    };
    match done {
        Ok(to) => render::see_other(&to),
        Err(e) => unavailable(&frame, "schedule action", &e),
    }
}
