//! `GET /live`: the console script's Server-Sent Events, fed by the same hub as the API's
//! streams. Every run change travels as the API's `progress` message; with `?run=<id>`
//! that run's state comes first, and its log lines travel too. A slow browser that falls
//! behind is told to reload (`event: stale`) rather than shown a partial picture. Streams
//! count against the same per-holder limit as the API's (`MAGFLOW_API_STREAMS_PER_KEY`),
//! per user.

use std::time::Duration;

use poem::{
    IntoResponse, Response, handler,
    web::{
        Data, Query,
        sse::{Event, SSE},
    },
};
use poem_openapi::types::ToJSON;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{console::session::Signed, state::AppState, stream::Update, views::StreamMessage};

#[derive(Deserialize)]
pub struct LiveQuery {
    run: Option<Uuid>,
}

#[handler]
pub async fn live(state: Data<&AppState>, me: Signed, Query(q): Query<LiveQuery>) -> Response {
    let slot = match state.streams.take(me.user.id) {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    let mut updates = state.hub.subscribe();
    // Read after subscribing, so no change falls between the two: a run that ended while
    // its page was on the way (a small bulk update can) would otherwise stay "running".
    let current = match q.run {
        Some(id) => jobs::runs::find(&state.ctx.db, id).await.ok().flatten(),
        None => None,
    };
    let stop = state.hub.stopped();
    let stream = async_stream::stream! {
        let _slot = slot;
        if let Some(run) = current {
            yield Event::message(StreamMessage::progress(&run).to_json_string()).event_type("progress");
        }
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                update = updates.recv() => match update {
                    Ok(Update::Run(run)) => {
                        yield Event::message(StreamMessage::progress(&run).to_json_string()).event_type("progress");
                    }
                    Ok(Update::Log(event)) if Some(event.run_id) == q.run => {
                        yield Event::message(StreamMessage::log(&event).to_json_string()).event_type("log");
                    }
                    Ok(Update::Log(_)) => {}
                    Err(RecvError::Lagged(_)) => {
                        yield Event::message("{}").event_type("stale");
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
    };
    SSE::new(stream)
        .keep_alive(Duration::from_secs(15))
        .into_response()
}
