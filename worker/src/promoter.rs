//! Moves each queue's due tasks from apalis' scheduled set to its active list a chunk at
//! a time, so apalis' own fetch never meets thousands of them at once, which kills it
//! (docs/stack-notes.md §5.10). A queue whose tasks it moved is woken: a retry's delay
//! has ended. Redis only; apalis-sqlite fetches due tasks with a query.

use jobs::{JobKind, scheduled::CHUNK, wake::Wakeups};
use tokio_util::sync::CancellationToken;

use crate::Executor;

/// At most this many chunks a queue per round, so one long backlog cannot hold up the
/// other queues.
const CHUNKS_PER_ROUND: usize = 50;

pub async fn run(exec: Executor, wakeups: Wakeups, stop: CancellationToken) {
    let ctx = exec.ctx();
    if ctx.queue.backend_name() != "redis" {
        return;
    }
    let every = ctx.config.poll_interval();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        for kind in JobKind::ALL {
            promote(&exec, &wakeups, kind).await;
        }
    }
}

async fn promote(exec: &Executor, wakeups: &Wakeups, kind: JobKind) {
    for _ in 0..CHUNKS_PER_ROUND {
        match exec.ctx().queue.promote_due(kind).await {
            Ok(moved) => {
                if moved > 0 {
                    wakeups.signal(kind).fire();
                }
                if moved < CHUNK {
                    return;
                }
            }
            Err(e) => {
                tracing::debug!(queue = kind.as_str(), error = %e, "could not move due tasks");
                return;
            }
        }
    }
}
