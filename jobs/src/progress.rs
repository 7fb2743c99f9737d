//! `Progress`: the only way a handler reports counters, checkpoints and log lines.
//!
//! Writes are throttled (at most one row write per `flush_every`, never one per item).
//! Each flush also renews the worker's hold on the run and learns whether an admin asked
//! to cancel. Throughput and ETA are computed here, so every job reports them alike.

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{job_run, run_event};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use crate::counters::Counters;
use crate::{
    error::JobError,
    lifecycle::{self, Flush, Holder},
};
pub use entity::run_event::Level;

/// What happened to one item a handler processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    Created,
    Updated,
    Unchanged,
    Failed,
}

pub struct Progress {
    db: DatabaseConnection,
    /// The attempt this handle belongs to.
    holder: Holder,
    /// The parent's counters are the sum of its runs': kept current with each flush.
    parent_id: Option<Uuid>,
    counters: Counters,
    checkpoint: Option<Value>,
    checkpoint_dirty: bool,
    /// What the run produced (`job_runs.result`); written with the next flush.
    result: Option<Value>,
    events: Vec<run_event::ActiveModel>,
    flush_every: Duration,
    last_flush: Instant,
    attempt_started: Instant,
    processed_at_start: i64,
    /// The counters when this attempt started; eMAG client stats add to them.
    at_start: Counters,
    /// Fired when the worker's shutdown grace is over: checkpoint and hand the run back.
    interrupt: CancellationToken,
    cancel_requested: bool,
}

impl Progress {
    /// A handle for the attempt `worker_id` just claimed on `run`.
    pub fn new(
        db: DatabaseConnection,
        run: &job_run::Model,
        worker_id: String,
        interrupt: CancellationToken,
        flush_every: Duration,
    ) -> Progress {
        let counters = Counters::from_run(run);
        Progress {
            db,
            holder: Holder::of(run, &worker_id),
            parent_id: run.parent_id,
            processed_at_start: counters.processed,
            at_start: counters.clone(),
            counters,
            checkpoint: run.checkpoint.clone(),
            checkpoint_dirty: false,
            result: None,
            events: Vec::new(),
            flush_every,
            last_flush: Instant::now(),
            attempt_started: Instant::now(),
            interrupt,
            cancel_requested: run.cancel_requested,
        }
    }

    pub fn run_id(&self) -> Uuid {
        self.holder.run_id
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Where the previous attempt stopped, if it saved a checkpoint.
    pub fn checkpoint(&self) -> Option<&Value> {
        self.checkpoint.as_ref()
    }

    pub fn set_total(&mut self, total: u64) {
        self.counters.total = Some(saturate(total));
    }

    pub fn set_pages_total(&mut self, pages: u32) {
        self.counters.pages_total = Some(i32::try_from(pages).unwrap_or(i32::MAX));
    }

    pub fn page_done(&mut self) {
        self.counters.pages_done += 1;
    }

    /// Takes the eMAG counters of this attempt's client(s) into the run's counters.
    pub fn track_emag(&mut self, stats: &crate::emag::client::Stats) {
        use std::sync::atomic::Ordering::Relaxed;
        let at = |v: &std::sync::atomic::AtomicU64| saturate(v.load(Relaxed));
        let base = &self.at_start;
        self.counters.emag_requests = base.emag_requests + at(&stats.requests);
        self.counters.rate_limit_waits = base.rate_limit_waits + at(&stats.rate_limit_waits);
        self.counters.emag_errors = base.emag_errors + at(&stats.errors);
        self.counters.rate_limited = base.rate_limited + at(&stats.rate_limited);
        self.counters.emag_latency_ms = base.emag_latency_ms + at(&stats.latency_ms);
    }

    /// Counts `n` processed items with one outcome.
    pub fn record(&mut self, outcome: ItemOutcome, n: u64) {
        let n = saturate(n);
        self.counters.processed += n;
        match outcome {
            ItemOutcome::Created => self.counters.created += n,
            ItemOutcome::Updated => self.counters.updated += n,
            ItemOutcome::Unchanged => self.counters.unchanged += n,
            ItemOutcome::Failed => self.counters.failed += n,
        }
    }

    /// Counts `n` processed items that have no create/update distinction.
    pub fn processed(&mut self, n: u64) {
        self.counters.processed += saturate(n);
    }

    /// Remembers where to resume; written with the next flush.
    pub fn set_checkpoint(&mut self, checkpoint: Value) {
        self.checkpoint = Some(checkpoint);
        self.checkpoint_dirty = true;
    }

    /// What the run produced for people to open (a file, a tally); written with the next
    /// flush.
    pub fn set_result(&mut self, result: Value) {
        self.result = Some(result);
    }

    /// A log line for the run's event stream; written with the next flush.
    pub fn log(&mut self, level: Level, message: impl Into<String>) {
        self.events.push(run_event::ActiveModel {
            id: NotSet,
            run_id: Set(self.holder.run_id),
            at: Set(Utc::now()),
            level: Set(level),
            message: Set(message.into()),
            attempt: Set(None),
            outcome: Set(None),
            error_category: Set(None),
        });
    }

    /// Whether this attempt still holds its run, locking the run's row for the rest of
    /// `txn` (see [`lifecycle::holds`]).
    pub async fn still_holds(
        &self,
        txn: &sea_orm::DatabaseTransaction,
    ) -> Result<bool, sea_orm::DbErr> {
        lifecycle::holds(txn, &self.holder).await
    }

    /// Items per second over this attempt.
    pub fn throughput(&self) -> Option<f64> {
        let secs = self.attempt_started.elapsed().as_secs_f64();
        let done = self.counters.processed - self.processed_at_start;
        (secs >= 0.05 && done > 0).then(|| done as f64 / secs)
    }

    pub fn eta_seconds(&self) -> Option<f64> {
        let rate = self.throughput()?;
        let left = self.counters.total? - self.counters.processed;
        Some((left.max(0) as f64) / rate)
    }

    /// Call between units of work: flushes when due, then stops the handler if the run
    /// was cancelled or the worker is shutting down.
    pub async fn tick(&mut self) -> Result<(), JobError> {
        if self.last_flush.elapsed() >= self.flush_every {
            self.flush().await?;
        }
        self.check_stop()
    }

    /// Sleeps, but wakes early to stop when the worker's grace period ends.
    pub async fn sleep(&mut self, duration: Duration) -> Result<(), JobError> {
        tokio::select! {
            () = tokio::time::sleep(duration) => Ok(()),
            () = self.interrupt.cancelled() => Err(JobError::Interrupted),
        }
    }

    fn check_stop(&self) -> Result<(), JobError> {
        if self.cancel_requested {
            return Err(JobError::Cancelled);
        }
        if self.interrupt.is_cancelled() {
            return Err(JobError::Interrupted);
        }
        Ok(())
    }

    /// What the attempt has not written yet, for the statement that ends it
    /// ([`lifecycle::end_attempt`]), and its log lines not written yet, oldest first: the
    /// end of an attempt writes its last progress with it, not in a flush of its own.
    pub fn last(&mut self) -> (Flush, Vec<run_event::ActiveModel>) {
        (self.unwritten(), std::mem::take(&mut self.events))
    }

    /// The row's columns not written yet (the result is handed over, not kept).
    fn unwritten(&mut self) -> Flush {
        Flush {
            counters: self.counters.clone(),
            throughput: self.throughput(),
            eta_seconds: self.eta_seconds(),
            checkpoint: self.checkpoint.clone().filter(|_| self.checkpoint_dirty),
            result: self.result.take(),
        }
    }

    /// Writes counters, checkpoint and pending events now.
    pub async fn flush(&mut self) -> Result<(), JobError> {
        let db = self.db.clone();
        self.flush_with(&db).await
    }

    /// [`flush`](Self::flush) on `conn`: inside a transaction, the checkpoint commits
    /// together with the page of data it describes, or not at all.
    pub async fn flush_with<C: ConnectionTrait + sea_orm::TransactionTrait>(
        &mut self,
        conn: &C,
    ) -> Result<(), JobError> {
        self.last_flush = Instant::now();
        let flush = self.unwritten();
        let Some(cancel) = lifecycle::flush(conn, &self.holder, flush).await? else {
            // Another worker took the run over (our lease ran out): stop touching it.
            return Err(JobError::Interrupted);
        };
        self.cancel_requested = cancel;
        self.checkpoint_dirty = false;
        if !self.events.is_empty() {
            let events = std::mem::take(&mut self.events);
            run_event::Entity::insert_many(events)
                .exec_without_returning(conn)
                .await?;
        }
        if let Some(parent) = self.parent_id {
            crate::runs::refresh_parent(conn, parent).await?;
        }
        Ok(())
    }
}

fn saturate(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
