//! `GET /queues`: each job kind's queue with its depth, backoff, running runs and oldest
//! wait; `POST /queues/{name}/{pause|resume}`.

use jobs::{JobKind, actions};

use super::prelude::*;
use super::{Empty, action_failed, unavailable};

/// The queues as the templates show them (here and on the overview).
pub async fn rows(db: &sea_orm::DatabaseConnection) -> Result<Vec<Value>, sea_orm::DbErr> {
    Ok(jobs::queues::stats(db, chrono::Utc::now())
        .await?
        .into_iter()
        .map(|q| {
            context! {
                kind => q.kind.as_str(),
                paused => q.paused,
                depth => q.depth,
                scheduled => q.scheduled,
                running => q.running,
                oldest_waiting_s => q.oldest_waiting_s,
            }
        })
        .collect())
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed) -> Response {
    let frame = Frame::of(&me, "queues");
    match rows(&state.ctx.db).await {
        Ok(queues) => render::page(
            "queues.html",
            &frame,
            context! { queues => queues, live => "queues" },
            StatusCode::OK,
        ),
        Err(e) => unavailable(&frame, "queues", &e),
    }
}

/// `POST /queues/{name}/{pause|resume}`.
#[handler]
pub async fn act(
    state: Data<&AppState>,
    Path((name, action)): Path<(String, String)>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "queues");
    let paused = match action.as_str() {
        "pause" => true,
        "resume" => false,
        _ => return action_failed(&frame, actions::ActionError::NotFound),
    };
    let Some(kind) = JobKind::parse(&name) else {
        return action_failed(&frame, actions::ActionError::NotFound);
    };
    match actions::set_queue_paused(&state.ctx, kind, paused, &me.actor()).await {
        Ok(()) => render::see_other("/queues"),
        Err(e) => action_failed(&frame, e),
    }
}
