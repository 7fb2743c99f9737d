//! The Redis side of wake-ups: one subscriber connection per process.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{Signal, fire_all, index};
use crate::kind::JobKind;

/// How often a quiet subscription is checked with a `PING`: a connection that died
/// without closing (a network cut) would otherwise leave the workers on the slow timer.
const CHECK_EVERY: Duration = Duration::from_secs(15);

/// Subscribes to `channel` and fires the signal of each kind announced on it, until
/// `stop`. A lost connection is opened again (after 100 ms doubling to 5 s). Each time
/// the subscription is made, every signal fires: anything announced before (while it was
/// down, or while the workers were starting) was missed.
pub(super) async fn listen(
    client: redis::Client,
    channel: String,
    signals: Arc<[Signal; JobKind::ALL.len()]>,
    stop: CancellationToken,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        let ended = tokio::select! {
            () = stop.cancelled() => return,
            ended = subscribed(&client, &channel, &signals[..]) => ended,
        };
        match ended {
            // It was up: start again at once, and quickly if it falls again.
            Ok(()) => pause = Duration::from_millis(100),
            Err(e) => {
                tracing::debug!(error = %e, "wake-up subscription failed");
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// One subscription, until its connection ends (`Ok`) or cannot be made (`Err`).
async fn subscribed(
    client: &redis::Client,
    channel: &str,
    signals: &[Signal],
) -> redis::RedisResult<()> {
    let pubsub = tokio::time::timeout(Duration::from_secs(5), client.get_async_pubsub())
        .await
        .map_err(timed_out)??;
    let (mut sink, mut messages) = pubsub.split();
    tokio::time::timeout(Duration::from_secs(5), sink.subscribe(channel))
        .await
        .map_err(timed_out)??;
    fire_all(signals);
    loop {
        match tokio::time::timeout(CHECK_EVERY, messages.next()).await {
            Ok(Some(msg)) => {
                let kind = msg
                    .get_payload::<String>()
                    .ok()
                    .and_then(|k| JobKind::parse(&k));
                match kind {
                    Some(kind) => signals[index(kind)].fire(),
                    None => fire_all(signals),
                }
            }
            Ok(None) => {
                tracing::debug!("wake-up subscription closed");
                return Ok(());
            }
            Err(_) => {
                let pong = tokio::time::timeout(Duration::from_secs(5), sink.ping::<String>());
                pong.await.map_err(timed_out)??;
            }
        }
    }
}

fn timed_out(_: tokio::time::error::Elapsed) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "timed out after 5 s"))
}
