//! `/api/v1/stream`: a WebSocket with the progress of every run. The client may send a
//! filter (`{"kinds": [...], "statuses": [...], "run_ids": [...], "account": "..."}`) at
//! any time; an empty object means everything. Messages from the client are at most
//! 64 KiB and a filter's lists at most 100 entries each; a client too slow for the
//! stream is caught up from the database, so it misses no run.

use entity::job_run::{self, RunStatus};
use futures::{SinkExt, StreamExt};
use jobs::runs::{self, RunFilter};
use poem::web::websocket::{Message, WebSocket, WebSocketConfig};
use poem_openapi::{OpenApi, types::ToJSON};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{
    auth::ApiKey,
    enums::{Kind, Status},
    error::ApiError,
    routes::ApiTags,
    state::AppState,
    stream::Update,
    views::StreamMessage,
};

/// How far before the newest change sent a catch-up starts: rows of other processes may
/// commit a little after later ones.
const CATCH_UP_OVERLAP: chrono::Duration = chrono::Duration::seconds(3);

pub struct StreamApi {
    pub state: AppState,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    kinds: Vec<Kind>,
    #[serde(default)]
    statuses: Vec<Status>,
    #[serde(default)]
    run_ids: Vec<Uuid>,
    #[serde(default)]
    account: Option<String>,
}

/// The largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most entries in each list of a filter.
const MAX_FILTER_ENTRIES: usize = 100;
/// Runs read at once when a slow client catches up from the database.
const CATCH_UP_PAGE: u64 = 1000;

/// Why a client's filter message was not taken.
#[derive(Debug, thiserror::Error)]
enum FilterError {
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("{name}: at most {MAX_FILTER_ENTRIES} entries, not {n}")]
    TooLong { name: &'static str, n: usize },
}

impl Filter {
    fn parse(text: &str) -> Result<Filter, FilterError> {
        let filter: Filter = serde_json::from_str(text).map_err(FilterError::Json)?;
        for (name, n) in [
            ("kinds", filter.kinds.len()),
            ("statuses", filter.statuses.len()),
            ("run_ids", filter.run_ids.len()),
        ] {
            if n > MAX_FILTER_ENTRIES {
                return Err(FilterError::TooLong { name, n });
            }
        }
        Ok(filter)
    }

    fn matches(&self, run: &job_run::Model) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&run.kind.into()))
            && (self.statuses.is_empty() || self.statuses.contains(&run.status.into()))
            && (self.run_ids.is_empty() || self.run_ids.contains(&run.id))
            && self
                .account
                .as_ref()
                .is_none_or(|a| run.account.as_ref() == Some(a))
    }
}

#[OpenApi(tag = "ApiTags::Stream")]
impl StreamApi {
    /// Progress of all runs (WebSocket)
    ///
    /// On connect: the runs that are queued or running now, as `progress` messages; then
    /// every change. Send a JSON filter to narrow it; a bad filter gets an `error` message.
    #[oai(path = "/api/v1/stream", method = "get", operation_id = "stream_runs")]
    async fn stream(
        &self,
        auth: ApiKey,
        ws: WebSocket,
    ) -> Result<poem::web::websocket::BoxWebSocketUpgraded, ApiError> {
        let slot = self.state.streams.take(auth.principal().key_id)?;
        let state = self.state.clone();
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        Ok(ws.config(config).on_upgrade(move |socket| async move {
            let _slot = slot;
            let (mut sink, mut incoming) = socket.split();
            let mut updates = state.hub.subscribe();
            let stop = state.hub.stopped();
            let mut filter = Filter::default();
            let mut active = Vec::new();
            for status in [RunStatus::Running, RunStatus::Queued] {
                let f = RunFilter { status: Some(status), ..RunFilter::default() };
                active.extend(runs::list(&state.ctx.db, &f, None, 100).await.unwrap_or_default());
            }
            // Where a catch-up from the database starts: the newest change sent.
            let mut seen = (chrono::Utc::now(), Uuid::nil());
            for run in &active {
                let text = StreamMessage::progress(run).to_json_string();
                if sink.send(Message::Text(text)).await.is_err() {
                    return;
                }
            }
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    msg = incoming.next() => match msg {
                        Some(Ok(Message::Text(text))) => match Filter::parse(&text) {
                            Ok(f) => filter = f,
                            Err(e) => {
                                let err = serde_json::json!({ "type": "error", "code": "bad_filter", "message": e.to_string() });
                                if sink.send(Message::Text(err.to_string())).await.is_err() { break; }
                            }
                        },
                        // A message over the limit ends the connection (close code 1009).
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                    update = updates.recv() => match update {
                        Ok(Update::Run(run)) => {
                            seen = seen.max((run.updated_at, run.id));
                            if filter.matches(&run) {
                                let text = StreamMessage::progress(&run).to_json_string();
                                if sink.send(Message::Text(text)).await.is_err() { break; }
                            }
                        }
                        Ok(Update::Log(_)) => {}
                        Err(RecvError::Lagged(_)) => {
                            // Too slow: read every run changed since the last one sent.
                            let mut from = (seen.0 - CATCH_UP_OVERLAP, Uuid::nil());
                            while let Ok(page) = runs::changed_after(&state.ctx.db, from, CATCH_UP_PAGE).await {
                                let full = page.len() as u64 == CATCH_UP_PAGE;
                                for run in page.iter().filter(|r| filter.matches(r)) {
                                    let text = StreamMessage::progress(run).to_json_string();
                                    if sink.send(Message::Text(text)).await.is_err() { return; }
                                }
                                if let Some(last) = page.last() {
                                    from = (last.updated_at, last.id);
                                    seen = seen.max(from);
                                }
                                if !full { break; }
                            }
                        }
                        Err(RecvError::Closed) => break,
                    },
                }
            }
            let _ = sink.close().await;
        })
        .boxed())
    }
}
