//! `/api/v1/stream`: a WebSocket with the progress of every run. The client may send a
//! filter (`{"kinds": [...], "statuses": [...], "run_ids": [...], "account": "..."}`) at
//! any time; an empty object means everything.

use entity::job_run::{self, RunStatus};
use futures::{SinkExt, StreamExt};
use jobs::runs::{self, RunFilter};
use poem::web::websocket::{Message, WebSocket};
use poem_openapi::{OpenApi, types::ToJSON};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::{auth::ApiKey, routes::ApiTags, state::AppState, stream::Update, views::StreamMessage};

pub struct StreamApi {
    pub state: AppState,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    statuses: Vec<String>,
    #[serde(default)]
    run_ids: Vec<Uuid>,
    #[serde(default)]
    account: Option<String>,
}

impl Filter {
    fn matches(&self, run: &job_run::Model) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&run.kind))
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == run.status.as_str()))
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
        _auth: ApiKey,
        ws: WebSocket,
    ) -> poem::web::websocket::BoxWebSocketUpgraded {
        let state = self.state.clone();
        ws.on_upgrade(move |socket| async move {
            let (mut sink, mut incoming) = socket.split();
            let mut updates = state.hub.subscribe();
            let stop = state.hub.stopped();
            let mut filter = Filter::default();
            let mut active = Vec::new();
            for status in [RunStatus::Running, RunStatus::Queued] {
                let f = RunFilter { status: Some(status), ..RunFilter::default() };
                active.extend(runs::list(&state.ctx.db, &f, None, 100).await.unwrap_or_default());
            }
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
                        Some(Ok(Message::Text(text))) => match serde_json::from_str::<Filter>(&text) {
                            Ok(f) => filter = f,
                            Err(e) => {
                                let err = serde_json::json!({ "type": "error", "code": "bad_filter", "message": e.to_string() });
                                if sink.send(Message::Text(err.to_string())).await.is_err() { break; }
                            }
                        },
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                    update = updates.recv() => match update {
                        Ok(Update::Run(run)) if filter.matches(&run) => {
                            let text = StreamMessage::progress(&run).to_json_string();
                            if sink.send(Message::Text(text)).await.is_err() { break; }
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => break,
                    },
                }
            }
            let _ = sink.close().await;
        })
        .boxed()
    }
}
