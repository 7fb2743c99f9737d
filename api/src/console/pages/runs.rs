//! `GET /runs` (filtered, in cursor pages), `GET /runs/{id}` (detail with children and
//! log tail), and cancel / retry / discard of one run.

use entity::job_run::{JobKind, RunStatus};
use jobs::{
    actions,
    runs::{self, RunFilter},
};
use serde::Deserialize;
use uuid::Uuid;

use super::prelude::*;
use super::{Empty, action_failed, nonempty, run_json, unavailable};

const PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    kind: Option<String>,
    status: Option<String>,
    account: Option<String>,
    schedule: Option<String>,
    cursor: Option<String>,
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed, Query(q): Query<ListQuery>) -> Response {
    let frame = Frame::of(&me, "runs");
    let mut errors = std::collections::BTreeMap::new();
    let schedule_id = match nonempty(&q.schedule) {
        None => None,
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert("schedule", frame.locale.text("invalid_id").to_owned());
                None
            }
        },
    };
    let filter = RunFilter {
        kind: nonempty(&q.kind).and_then(JobKind::parse),
        status: nonempty(&q.status).and_then(RunStatus::parse),
        account: nonempty(&q.account).map(str::to_owned),
        schedule_id,
        ..RunFilter::default()
    };
    let before = nonempty(&q.cursor).and_then(|c| Uuid::parse_str(c).ok());
    let read = async || page_of(&state, &filter, before).await;
    // The unfiltered first page (what a team watching runs asks for) is shared for a
    // second; any other page is read each time.
    let unfiltered = [&q.kind, &q.status, &q.account, &q.schedule, &q.cursor]
        .iter()
        .all(|v| nonempty(v).is_none());
    let found = if unfiltered {
        state.runs_page.get(read).await
    } else {
        read().await
    };
    let found = match found {
        Ok(found) => found,
        Err(e) => return unavailable(&frame, "runs list", &e),
    };
    let next_cursor = found
        .get_attr("next_cursor")
        .ok()
        .and_then(|c| c.as_str().map(str::to_owned));
    let keep = |name: &str, v: &Option<String>| {
        nonempty(v)
            .map(|v| format!("{name}={}&", url_escape(v)))
            .unwrap_or_default()
    };
    let next_url = next_cursor.as_ref().map(|c| {
        format!(
            "/runs?{}{}{}{}cursor={c}",
            keep("kind", &q.kind),
            keep("status", &q.status),
            keep("account", &q.account),
            keep("schedule", &q.schedule)
        )
    });
    let data = context! {
        runs => found.get_attr("runs").unwrap_or_default(),
        next_cursor => next_cursor,
        next_url => next_url,
        kinds => JobKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        statuses => RunStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        accounts => found.get_attr("accounts").unwrap_or_default(),
        filter => context! {
            kind => nonempty(&q.kind),
            status => nonempty(&q.status),
            account => nonempty(&q.account),
            schedule => nonempty(&q.schedule).unwrap_or(""),
        },
        errors => errors,
        live => "runs",
    };
    render::page("runs.html", &frame, data, StatusCode::OK)
}

/// A page of runs with the accounts to filter by: `runs`, `accounts`, `next_cursor`.
async fn page_of(
    state: &AppState,
    filter: &RunFilter,
    before: Option<Uuid>,
) -> Result<Value, sea_orm::DbErr> {
    let db = &state.ctx.db;
    let rows = runs::list(db, filter, before, PAGE + 1).await?;
    let accounts: Vec<String> = jobs::accounts::list(db)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let more = rows.len() as u64 > PAGE;
    let page: Vec<serde_json::Value> = rows.iter().take(PAGE as usize).map(run_json).collect();
    Ok(context! {
        runs => Value::from_serialize(&page),
        accounts => accounts,
        next_cursor => more.then(|| rows[PAGE as usize - 1].id.to_string()),
    })
}

/// What may be done to a run in `status`.
fn actions_for(status: RunStatus, discarded: bool) -> Vec<&'static str> {
    match status {
        RunStatus::Queued | RunStatus::Running => vec!["cancel"],
        RunStatus::Dead | RunStatus::Failed if !discarded => vec!["retry", "discard"],
        RunStatus::Dead | RunStatus::Failed | RunStatus::Cancelled => vec!["retry"],
        RunStatus::Succeeded => vec![],
    }
}

#[handler]
pub async fn detail(state: Data<&AppState>, me: Signed, Path(id): Path<String>) -> Response {
    let frame = Frame::of(&me, "runs");
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found(&frame);
    };
    let db = &state.ctx.db;
    let loaded = async {
        let Some(run) = runs::find(db, id).await? else {
            return Ok(None);
        };
        let kids = RunFilter {
            parent_id: Some(id),
            ..RunFilter::default()
        };
        let children = runs::list(db, &kids, None, 200).await?;
        let events = runs::recent_events(db, id, 100).await?;
        let attempts = runs::attempts(db, id).await?;
        Ok::<_, sea_orm::DbErr>(Some((run, children, events, attempts)))
    };
    let (run, children, events, attempts) = match loaded.await {
        Ok(Some(found)) => found,
        Ok(None) => return super::not_found(&frame),
        Err(e) => return unavailable(&frame, "run detail", &e),
    };
    let view = run_json(&run);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            context! {
                at => e.at.to_rfc3339(),
                level => e.level.as_str(),
                message => e.message,
            }
        })
        .collect();
    let data = context! {
        params_json => pretty(&view["params"]),
        checkpoint_json => view.get("checkpoint").filter(|c| !c.is_null()).map(pretty),
        r => Value::from_serialize(&view),
        children => Value::from_serialize(children.iter().map(run_json).collect::<Vec<_>>()),
        events => events,
        attempts => Value::from_serialize(&attempts),
        actions => actions_for(run.status, run.discarded_at.is_some()),
        live => "run",
    };
    render::page("run.html", &frame, data, StatusCode::OK)
}

/// `POST /runs/{id}/{cancel|retry|discard}`.
#[handler]
pub async fn act(
    state: Data<&AppState>,
    Path((id, action)): Path<(String, String)>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "runs");
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found(&frame);
    };
    let ctx = &state.ctx;
    let actor = me.actor();
    let done = match action.as_str() {
        "cancel" => actions::cancel(ctx, id, &actor).await,
        "retry" => actions::retry(ctx, id, &actor).await,
        "discard" => actions::discard(ctx, id, &actor).await,
        _ => return super::not_found(&frame),
    };
    match done {
        Ok(_) => render::see_other(&format!("/runs/{id}")),
        Err(e) => action_failed(&frame, e),
    }
}

/// `GET /runs/{id}/result`: a bulk update's outcome per item, or an export's file.
#[handler]
pub async fn result(state: Data<&AppState>, me: Signed, Path(id): Path<String>) -> Response {
    use jobs::downloads::{self, Content, DownloadError};
    let frame = Frame::of(&me, "runs");
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found(&frame);
    };
    let run = match runs::find(&state.ctx.db, id).await {
        Ok(Some(run)) => run,
        Ok(None) => return super::not_found(&frame),
        Err(e) => return unavailable(&frame, "run", &e),
    };
    match downloads::result(&state.ctx, &run).await {
        Ok(d) => Response::builder()
            .content_type(d.content_type)
            .header(
                "content-disposition",
                format!("attachment; filename=\"{}\"", d.name),
            )
            .header("cache-control", "no-store")
            .header("x-content-type-options", "nosniff")
            .body(match d.content {
                Content::Bytes(bytes) => poem::Body::from(bytes),
                Content::File(file) => poem::Body::from_async_read(file),
            }),
        Err(DownloadError::NoResult(_)) => super::not_found(&frame),
        Err(DownloadError::NotFinished(_) | DownloadError::Gone(_)) => {
            render::message(&frame, "error", "no_file_yet", StatusCode::CONFLICT)
        }
        Err(e) => unavailable(&frame, "download", &e),
    }
}
