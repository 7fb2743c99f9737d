//! `GET /`: a card per account (the status report the API serves), active runs with
//! live progress, queue depths, the last failures; `POST /sync` starts a sync.

use entity::job_run::RunStatus;
use jobs::{
    JobKind,
    params::RawParams,
    runs::{self, RunFilter},
    submit::SubmitError,
};
use poem_openapi::types::ToJSON;
use serde::Deserialize;

use super::prelude::*;
use super::run_json;

async fn runs_with(
    state: &AppState,
    status: RunStatus,
    n: u64,
) -> Result<Vec<serde_json::Value>, sea_orm::DbErr> {
    let filter = RunFilter {
        status: Some(status),
        ..RunFilter::default()
    };
    Ok(runs::list(&state.ctx.db, &filter, None, n)
        .await?
        .iter()
        .map(run_json)
        .collect())
}

async fn data(state: &AppState) -> Result<Value, sea_orm::DbErr> {
    let ctx = &state.ctx;
    let cached = state.status.get(&ctx.db, ctx.sealer.as_ref(), None).await?;
    let accounts = cached
        .report
        .accounts
        .iter()
        .map(|a| a.to_json().unwrap_or_default())
        .collect::<Vec<_>>();
    // Active runs, then the latest ones: a run that just ended stays in view.
    let mut active = runs_with(state, RunStatus::Running, 50).await?;
    active.extend(runs_with(state, RunStatus::Queued, 50).await?);
    let recent = runs::list(&ctx.db, &RunFilter::default(), None, 10).await?;
    for run in &recent {
        if !active.iter().any(|a| a["id"] == run.id.to_string()) {
            active.push(run_json(run));
        }
    }
    active.sort_by(|a, b| b["id"].as_str().cmp(&a["id"].as_str()));
    let queues = super::queues::rows(&ctx.db).await?;
    let failures = runs_with(state, RunStatus::Dead, 5).await?;
    Ok(context! {
        accounts => Value::from_serialize(&accounts),
        active => Value::from_serialize(&active),
        queues => queues,
        failures => Value::from_serialize(&failures),
        live => "overview",
    })
}

#[handler]
pub async fn page(state: Data<&AppState>, me: Signed) -> Response {
    let frame = Frame::of(&me, "overview");
    match state.overview.get(async || data(&state).await).await {
        Ok(data) => render::page("overview.html", &frame, data, StatusCode::OK),
        Err(e) => super::unavailable(&frame, "overview", &e),
    }
}

#[derive(Deserialize)]
pub struct SyncForm {
    account: String,
}

/// Starts a full sync of one account (or of every one with `all`), as
/// `POST /api/v1/runs` with `{"kind": "sync"}` does.
#[handler]
pub async fn sync(state: Data<&AppState>, change: Change<SyncForm>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "overview");
    let accounts = if form.account == "all" {
        serde_json::json!("all")
    } else {
        serde_json::json!([form.account])
    };
    let params = serde_json::json!({ "accounts": accounts, "resource": "all" });
    let raw = RawParams::Value(&params);
    let submitted = jobs::actions::submit(&state.ctx, JobKind::Sync, raw, None, &me.actor()).await;
    match submitted {
        Ok(_) => render::see_other("/"),
        Err(SubmitError::Conflict { .. }) => {
            render::message(&frame, "sync_busy_title", "sync_busy", StatusCode::CONFLICT)
        }
        Err(SubmitError::Invalid(p)) => {
            tracing::info!(field = %p.field, message = %p.message, "console sync refused");
            render::message(
                &frame,
                "error",
                "sync_invalid",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => super::unavailable(&frame, "console sync", &e),
    }
}
