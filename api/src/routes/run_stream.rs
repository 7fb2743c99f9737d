//! A run's event stream (`GET /api/v1/runs/{id}/events`): its recent log lines, its state,
//! then each change until it ends.

use std::time::Duration;

use futures::StreamExt;
use jobs::runs;
use tokio::sync::broadcast::error::RecvError;

use crate::{stream::Update, stream_slots::Slot, views::StreamMessage};

/// What a run's event stream starts from.
pub(super) struct RunStream {
    pub(super) db: sea_orm::DatabaseConnection,
    pub(super) run: entity::job_run::Model,
    /// Its most recent log lines.
    pub(super) history: Vec<entity::run_event::Model>,
    /// Subscribed before `run` was read, so nothing falls between the two.
    pub(super) updates: tokio::sync::broadcast::Receiver<Update>,
    pub(super) stop: tokio_util::sync::CancellationToken,
    /// How long an ended run's last lines may take to arrive.
    pub(super) settle: Duration,
    /// Held while the stream lasts: streams per key are capped.
    pub(super) slot: Slot,
}

/// What the run events SSE sends: the recent lines, the run's state, then each change
/// until it ends (catching up from the database when the client falls behind).
pub(super) fn run_stream(s: RunStream) -> futures::stream::BoxStream<'static, StreamMessage> {
    let run_id = s.run.id;
    let mut s = s;
    async_stream::stream! {
        // Moved in by name: the stream captures only the fields it names, and the slot
        // must live as long as the stream.
        let _slot = s.slot;
        let mut last_event = 0;
        for e in &s.history {
            last_event = e.id;
            yield StreamMessage::log(e);
        }
        if s.run.status.is_terminal() {
            yield StreamMessage::end(&s.run);
            return;
        }
        yield StreamMessage::progress(&s.run);
        let mut ended: Option<entity::job_run::Model> = None;
        loop {
            let next = if ended.is_some() {
                // The run is over; give its last log lines one more poll to arrive.
                match tokio::time::timeout(s.settle, s.updates.recv()).await {
                    Ok(r) => r,
                    Err(_) => break,
                }
            } else {
                tokio::select! {
                    () = s.stop.cancelled() => return,
                    r = s.updates.recv() => r,
                }
            };
            match next {
                Ok(Update::Run(r)) if r.id == run_id => {
                    if r.status.is_terminal() {
                        ended = Some((*r).clone());
                    } else {
                        yield StreamMessage::progress(&r);
                    }
                }
                Ok(Update::Log(e)) if e.run_id == run_id && e.id > last_event => {
                    last_event = e.id;
                    yield StreamMessage::log(&e);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Too slow a client: catch up from the database instead, every
                    // line it missed in order, then the run's state.
                    loop {
                        let Ok(page) = runs::events(&s.db, run_id, last_event, CATCH_UP_PAGE).await else {
                            break;
                        };
                        let full = page.len() as u64 == CATCH_UP_PAGE;
                        for e in &page {
                            last_event = e.id;
                            yield StreamMessage::log(e);
                        }
                        if !full {
                            break;
                        }
                    }
                    if let Ok(Some(r)) = runs::find(&s.db, run_id).await {
                        if r.status.is_terminal() {
                            ended = Some(r);
                        } else {
                            yield StreamMessage::progress(&r);
                        }
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
        if let Some(r) = ended {
            yield StreamMessage::end(&r);
        }
    }
    .boxed()
}

/// Log lines an SSE client gets first: the run's most recent ones.
pub(super) const HISTORY_LINES: u64 = 200;
/// Lines read at once when a slow client catches up from the database.
const CATCH_UP_PAGE: u64 = 1000;
