//! Group commit: the claims, attempt ends and announcements that a process's tasks ask
//! for at about the same time are written together (one statement for the claims, one
//! transaction for the ends, one read of the subscriptions for the announcements)
//! instead of one round trip (and one commit) each. A request waits for the batch
//! it joined to commit, so nothing is acknowledged before it is durable; a lone request
//! is written at once, without waiting for company.

use std::{collections::HashMap, future::Future};

use entity::job_run;
use jobs::{
    JobContext,
    error::RunsError,
    lifecycle::{self, End},
};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The most requests one batch carries: bounds a statement's size and a batch's time.
const MAX_BATCH: usize = 256;

/// A queue of requests served a batch at a time by a task of its own: whatever arrived
/// while a batch was being written goes into the next. (Two such tasks sharing the queue
/// measured no faster on PostgreSQL: batches only got smaller.)
struct Batcher<Req, Resp> {
    requests: mpsc::UnboundedSender<(Req, oneshot::Sender<Resp>)>,
}

type Queue<Req, Resp> = mpsc::UnboundedReceiver<(Req, oneshot::Sender<Resp>)>;

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// Starts the serving task; `serve` answers a batch, one answer per request, in order.
    fn start<F, Fut>(serve: F) -> Batcher<Req, Resp>
    where
        F: Fn(Vec<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<Resp>> + Send + 'static,
    {
        let (requests, queue) = mpsc::unbounded_channel();
        tokio::spawn(serve_batches(queue, serve));
        Batcher { requests }
    }

    /// `request`'s answer; `None` if the serving task is gone.
    async fn call(&self, request: Req) -> Option<Resp> {
        let (reply, answer) = oneshot::channel();
        self.requests.send((request, reply)).ok()?;
        answer.await.ok()
    }
}

/// The claims, ends and announcements of one worker process.
pub(crate) struct Ledger {
    claims: Batcher<Uuid, Option<job_run::Model>>,
    ends: Batcher<End, Result<bool, DbErr>>,
    announcements: Batcher<job_run::Model, Result<usize, RunsError>>,
}

impl Ledger {
    pub(crate) fn start(ctx: &JobContext, worker_id: String) -> Ledger {
        let db = ctx.db.clone();
        let claims = Batcher::start(move |ids: Vec<Uuid>| {
            let db = db.clone();
            let worker_id = worker_id.clone();
            async move { claim_ready(&db, ids, &worker_id).await }
        });
        let db = ctx.db.clone();
        let ends = Batcher::start(move |ends: Vec<End>| {
            let db = db.clone();
            async move { lifecycle::end_attempts(&db, &ends).await }
        });
        let (db, queue) = (ctx.db.clone(), ctx.queue.clone());
        let announcements = Batcher::start(move |runs: Vec<job_run::Model>| {
            let (db, queue) = (db.clone(), queue.clone());
            async move { jobs::notification::announce_all_ended(&db, &queue, &runs).await }
        });
        Ledger {
            claims,
            ends,
            announcements,
        }
    }

    /// Queues the notifications of `run`, which has just ended as it says
    /// ([`jobs::notification::announce_all_ended`]); how many.
    pub(crate) async fn announce(&self, run: job_run::Model) -> Result<usize, RunsError> {
        self.announcements
            .call(run)
            .await
            .unwrap_or_else(|| Err(DbErr::Custom("the worker is stopping".into()).into()))
    }

    /// Run `run_id` claimed for this worker if it was ready; `None` if it was not (or the
    /// batch could not be written): [`lifecycle::claim_unready`] tells why.
    pub(crate) async fn claim(&self, run_id: Uuid) -> Option<job_run::Model> {
        self.claims.call(run_id).await.flatten()
    }

    /// Records an attempt's end ([`lifecycle::end_attempts`]).
    pub(crate) async fn end(&self, end: End) -> Result<bool, DbErr> {
        self.ends
            .call(end)
            .await
            .unwrap_or_else(|| Err(DbErr::Custom("the worker is stopping".into())))
    }
}

/// Takes what has arrived (waiting for one request if none has), serves it, repeats.
async fn serve_batches<Req, Resp, F, Fut>(mut queue: Queue<Req, Resp>, serve: F)
where
    F: Fn(Vec<Req>) -> Fut,
    Fut: Future<Output = Vec<Resp>>,
{
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (reqs, replies): (Vec<Req>, Vec<oneshot::Sender<Resp>>) = batch.into_iter().unzip();
        for (reply, answer) in replies.into_iter().zip(serve(reqs).await) {
            // A requester that gave up (its task was dropped) needs no answer.
            let _ = reply.send(answer);
        }
    }
}

/// One answer per id: its claimed run, or `None`.
async fn claim_ready(
    db: &DatabaseConnection,
    ids: Vec<Uuid>,
    worker_id: &str,
) -> Vec<Option<job_run::Model>> {
    let mut claimed: HashMap<Uuid, job_run::Model> =
        match lifecycle::claim_ready(db, &ids, worker_id).await {
            Ok(runs) => runs.into_iter().map(|run| (run.id, run)).collect(),
            Err(e) => {
                // Each is claimed alone instead, which reports its own error.
                tracing::warn!(error = %e, runs = ids.len(), "could not claim runs together");
                HashMap::new()
            }
        };
    // A run delivered twice in one batch is claimed once: the second copy finds it held.
    ids.iter().map(|id| claimed.remove(id)).collect()
}
