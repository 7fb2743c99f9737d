//! Wake-ups: an idle worker starts a new task within milliseconds, without asking the
//! queue over and over.
//!
//! A push is announced to every worker process: on Redis by a `PUBLISH` on
//! `<prefix>.wake` (apalis-redis publishes nothing for the tasks magflow pushes,
//! docs/stack-notes.md §5.1); on SQLite by a write to a small file beside the queue file,
//! which every process watches. A worker's apalis storage fetches
//! when its kind's [`Signal`] fires, and still on a slow timer (`MAGFLOW_POLL_INTERVAL_MS`),
//! because a message can be lost (a subscriber reconnecting) and a retry's delay ends
//! without anyone pushing.

mod files;
pub(crate) use files::announce as announce_to_files;
mod redis_channel;
mod signal;

use std::{path::PathBuf, sync::Arc};

use tokio_util::sync::{CancellationToken, DropGuard};

use crate::kind::JobKind;

pub use signal::Signal;

/// The channel a push is announced on: `<prefix>.wake`, the kind as the message.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}.wake")
}

/// Where a queue's pushes are announced ([`crate::Queue::wake_source`]).
pub enum Source {
    /// `PUBLISH`es on [`channel`]`(prefix)`.
    Redis {
        client: redis::Client,
        prefix: String,
    },
    /// Writes to wake files beside this queue file.
    File(PathBuf),
    /// Nowhere (an in-memory queue): the slow timer alone.
    None,
}

/// One [`Signal`] per job kind, fired by whatever listens to the queue for this process;
/// the listener stops when the last clone is dropped.
#[derive(Clone)]
pub struct Wakeups {
    signals: Arc<[Signal; JobKind::ALL.len()]>,
    _listener: Arc<Listener>,
}

/// What listens for this process; dropping it stops the listening.
#[derive(Default)]
struct Listener {
    /// Stops the Redis subscriber task.
    _stop: Option<DropGuard>,
    /// The file watch: dropping it stops its thread.
    _watch: Option<files::Watch>,
}

impl Wakeups {
    /// Starts listening for announced pushes. Never fails: without a listener
    /// (the watch could not be set up) the slow timer still finds every task.
    pub fn listen(source: Source) -> Wakeups {
        let signals: Arc<[Signal; JobKind::ALL.len()]> =
            Arc::new(std::array::from_fn(|_| Signal::default()));
        let listener = match source {
            Source::Redis { client, prefix } => {
                let stop = CancellationToken::new();
                tokio::spawn(redis_channel::listen(
                    client,
                    channel(&prefix),
                    signals.clone(),
                    stop.clone(),
                ));
                Listener {
                    _stop: Some(stop.drop_guard()),
                    ..Listener::default()
                }
            }
            Source::File(path) => match files::Watch::start(&path, signals.clone()) {
                Ok(watch) => Listener {
                    _watch: Some(watch),
                    ..Listener::default()
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch the queue's folder; idle workers will only poll");
                    Listener::default()
                }
            },
            Source::None => Listener::default(),
        };
        Wakeups {
            signals,
            _listener: Arc::new(listener),
        }
    }

    /// The signal that fires when `kind` may have work.
    pub fn signal(&self, kind: JobKind) -> Signal {
        self.signals[index(kind)].clone()
    }
}

fn index(kind: JobKind) -> usize {
    JobKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default()
}

/// Fires every kind's signal: after a (re)subscription, when messages may have been missed.
fn fire_all(signals: &[Signal]) {
    for signal in signals {
        signal.fire();
    }
}
