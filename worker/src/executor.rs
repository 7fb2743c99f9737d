//! Runs one task: decode → claim → handler (with timeout, panic guard and heartbeat) →
//! record the outcome under magflow's retry policy.

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use entity::job_run;
use futures::FutureExt;
use jobs::{
    ErrorCategory, JobContext, JobError,
    metrics::{BAD_PAYLOADS, RUN_ATTEMPTS},
    progress::Progress,
    registry, runs,
    task::RunTask,
};
use serde_json::Value;
use tokio_util::{
    sync::CancellationToken,
    task::{AbortOnDropHandle, TaskTracker},
};

use crate::{batch::Ledger, ending};
use jobs::lifecycle::{self, Claim, Holder};

/// Shared by every apalis worker of a process.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: JobContext,
    worker_id: String,
    /// Fired when the shutdown grace ends.
    interrupt: CancellationToken,
    /// Every task being handled, whichever apalis worker delivered it.
    tasks: TaskTracker,
    /// Claims and ends, written in batches.
    ledger: Ledger,
}

impl Executor {
    pub fn new(ctx: JobContext, worker_id: String, interrupt: CancellationToken) -> Executor {
        Executor {
            inner: Arc::new(Inner {
                ledger: Ledger::start(&ctx, worker_id.clone()),
                ctx,
                worker_id,
                interrupt,
                tasks: TaskTracker::new(),
            }),
        }
    }

    pub fn ctx(&self) -> &JobContext {
        &self.inner.ctx
    }

    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Handles one queue task on a tokio task of its own. apalis drives the tasks in
    /// flight inside its worker and drops them when the worker ends on a backend error
    /// (Redis restarting): an attempt would stop mid-page while its run still looked held.
    /// Detached, the attempt finishes and records its end whatever becomes of the worker
    /// that delivered it; [`Executor::drain`] waits for it at shutdown.
    pub async fn handle_detached(&self, payload: Value) -> Result<(), sea_orm::DbErr> {
        let exec = self.clone();
        let handled = self
            .inner
            .tasks
            .spawn(async move { exec.handle(payload).await })
            .await;
        handled.unwrap_or_else(|e| {
            tracing::error!(error = %e, "a task's handler panicked");
            Ok(())
        })
    }

    /// Waits until every task this process took has been handled; the shutdown grace
    /// (the interrupt) still applies to them.
    pub async fn drain(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    /// Handles one queue task. Never panics; whatever happens is written to the run (or
    /// logged, if there is no run to write to). Fails only when the database cannot be
    /// reached to claim the run, so that the queue keeps the task.
    pub async fn handle(&self, payload: Value) -> Result<(), sea_orm::DbErr> {
        let task = match RunTask::decode(&payload) {
            Ok(task) => task,
            Err(reason) => {
                self.reject_payload(&payload, &reason.to_string()).await;
                return Ok(());
            }
        };
        let ctx = &self.inner.ctx;
        let claim = match self.inner.ledger.claim(task.run_id).await {
            Some(run) => Ok(Claim::Claimed(run)),
            None => {
                let worker_id = &self.inner.worker_id;
                lifecycle::claim_unready(&ctx.db, task.run_id, worker_id, ctx.config.lease()).await
            }
        };
        match claim {
            Ok(Claim::Claimed(run)) => self.execute(run).await,
            Ok(Claim::NotNow(run, delay)) => {
                if let Err(e) = runs::dispatch(&ctx.db, &ctx.queue, run, delay).await {
                    tracing::error!(run.id = %task.run_id, error = %e, "could not re-queue a busy run's task");
                }
            }
            Ok(Claim::Held(run)) => self.hold(run).await,
            Ok(Claim::Buried(run)) => self.ended_elsewhere(&run).await,
            Ok(Claim::Gone) => {}
            Err(e) => {
                // The database is unreachable, so the run cannot even be read: fail the task,
                // and the queue (which keeps failed tasks and delivers them again) holds it.
                tracing::warn!(run.id = %task.run_id, error = %e, "claim failed; the queue will deliver the task again");
                return Err(e);
            }
        }
        Ok(())
    }

    /// What follows the end of a run that no attempt recorded (the reaper or a claim
    /// ended it): its parent's sums, and the notifications of its top-level run.
    pub async fn ended_elsewhere(&self, run: &job_run::Model) {
        let ctx = &self.inner.ctx;
        if let Some(parent) = run.parent_id
            && let Err(e) = runs::refresh_parent(&ctx.db, parent).await
        {
            tracing::warn!(run.id = %run.id, error = %e, "could not update the parent run");
        }
        let top = run.parent_id.unwrap_or(run.id);
        if let Err(e) = jobs::notification::announce(&ctx.db, &ctx.queue, top).await {
            tracing::warn!(run.id = %top, error = %e, "could not queue notifications");
        }
    }

    /// Leaves a run of a paused queue waiting without a task. If the queue was resumed
    /// meanwhile (its release may have missed this run), the task goes straight back.
    async fn hold(&self, run: job_run::Model) {
        let ctx = &self.inner.ctx;
        let kind = run.kind;
        match jobs::queues::hold(&ctx.db, &run).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(run.id = %run.id, error = %e, "could not hold a run of a paused queue");
                return;
            }
        }
        tracing::debug!(run.id = %run.id, run.kind = %kind, "queue paused; run held");
        if let Ok(false) = jobs::queues::is_paused(&ctx.db, kind).await
            && let Err(e) = jobs::queues::release_held(&ctx.db, &ctx.queue, kind).await
        {
            tracing::warn!(run.kind = %kind, error = %e, "could not release held runs");
        }
    }

    async fn reject_payload(&self, payload: &Value, reason: &str) {
        metrics::counter!(BAD_PAYLOADS).increment(1);
        tracing::error!(reason, "dropped a task whose payload does not decode");
        let run_id = payload
            .get("run_id")
            .and_then(Value::as_str)
            .and_then(|s| uuid::Uuid::parse_str(s).ok());
        if let Some(run_id) = run_id {
            let db = &self.inner.ctx.db;
            let _ =
                lifecycle::fail_unstartable(db, run_id, ErrorCategory::BadPayload, reason).await;
        }
    }

    async fn execute(&self, run: job_run::Model) {
        let ctx = &self.inner.ctx;
        let db = &ctx.db;
        let worker_id = self.inner.worker_id.as_str();
        let kind = run.kind;
        let attempt = u32::try_from(run.attempt).unwrap_or(1);
        metrics::counter!(RUN_ATTEMPTS, "kind" => kind.as_str()).increment(1);
        tracing::info!(run.id = %run.id, run.kind = %kind, run.attempt = attempt, "attempt started");

        if let Some(parent) = run.parent_id {
            let _ = runs::refresh_parent(db, parent).await;
        }
        let heartbeat = self.spawn_heartbeat(&run);
        let mut progress = Progress::new(
            db.clone(),
            &run,
            worker_id.to_owned(),
            self.inner.interrupt.child_token(),
            Duration::from_millis(500),
        );
        let started = Instant::now();
        let timeout = ctx.config.attempt_timeout(registry::timeout(kind));
        let attempt_future = AssertUnwindSafe(registry::execute(
            kind,
            ctx,
            &mut progress,
            &run.params,
            attempt,
        ))
        .catch_unwind();
        let outcome = match tokio::time::timeout(timeout, attempt_future).await {
            Err(_) => Err(JobError::Retryable {
                category: ErrorCategory::Timeout,
                message: format!("attempt timed out after {} s", timeout.as_secs()),
            }),
            Ok(Err(panic)) => Err(JobError::permanent(
                ErrorCategory::Panic,
                panic_message(&panic),
            )),
            Ok(Ok(result)) => result,
        };
        drop(heartbeat);

        // The last counters and checkpoint are written with the end, so a resumed attempt
        // starts where this one stopped.
        let ending = ending::ending_for(kind, &run, attempt, outcome);
        let attempt = ending::Attempt {
            worker_id,
            number: attempt,
            started,
        };
        ending::record(
            ctx,
            &self.inner.ledger,
            run,
            &attempt,
            ending,
            &mut progress,
        )
        .await;
    }

    /// Keeps the run's lease fresh while the handler works, even inside a long step; stops
    /// when dropped, so no heartbeat outlives its attempt.
    fn spawn_heartbeat(&self, run: &job_run::Model) -> AbortOnDropHandle<()> {
        let db = self.inner.ctx.db.clone();
        let holder = Holder::of(run, &self.inner.worker_id);
        let every = self.inner.ctx.config.lease() / 3;
        AbortOnDropHandle::new(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match lifecycle::heartbeat(&db, &holder).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(run.id = %holder.run_id, error = %e, "heartbeat failed");
                    }
                }
            }
        }))
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("handler panicked: {text}")
}
