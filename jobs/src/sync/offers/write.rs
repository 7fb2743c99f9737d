//! Writing the offers read: consecutive pages grouped into one transaction, and on
//! PostgreSQL a group's rows written on its own connection while the groups before it
//! commit.

use std::collections::VecDeque;

use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::json;

use super::{InFlight, Session};
use crate::{
    error::JobError,
    progress::Progress,
    spawned::Spawned,
    sync::store::{OfferBatch, OfferUpsert, PageOutcome},
};

/// The most offers written in one transaction: pages already read join the one being
/// written until this many.
pub(super) const GROUP_ROWS: usize = 300;

/// Consecutive pages written in one transaction.
pub(super) struct Group {
    pub(super) batch: OfferBatch,
    pub(super) last: u32,
    /// A page was short or empty: there is nothing past the group.
    pub(super) ended: bool,
}

impl Group {
    pub(super) fn of(page: u32, batch: OfferBatch, per_page: u32) -> Group {
        let ended = batch.read() < per_page as usize;
        Group {
            batch,
            last: page,
            ended,
        }
    }

    /// Adds the pages that follow it and are already read, without waiting for any. One
    /// whose request failed is not added: the loop asks for it again, as for any page
    /// not read ahead.
    pub(super) async fn join_ready(&mut self, pages: &mut InFlight, per_page: u32) {
        while !self.ended && self.batch.read() < GROUP_ROWS {
            match pages.front() {
                Some((p, handle)) if *p == self.last + 1 && handle.is_finished() => {}
                _ => return,
            }
            let Some((p, handle)) = pages.pop_front() else {
                return;
            };
            let Ok(Ok(batch)) = handle.await else {
                return;
            };
            self.ended = batch.read() < per_page as usize;
            if batch.read() == 0 {
                return;
            }
            self.batch.append(batch);
            self.last = p;
        }
    }
}

/// Groups left uncommitted on PostgreSQL while a later one is written: with two, three
/// groups are in the database at once (`bench sync --part throughput`: 27,300–27,900
/// offers/s with one, 32,000–33,700 with two, 28,000–29,700 with three).
const BEHIND: usize = 2;

/// A group's transaction, being begun in a task of its own.
type Begun = Spawned<Result<DatabaseTransaction, JobError>>;

/// A group's statement, being built on the threads pages are prepared on: 2 to 3 ms of
/// CPU a group that would otherwise hold one of the runtime's threads while the groups
/// before it wait for their commits to be answered.
type Built = Spawned<Result<OfferUpsert, DbErr>>;

fn build(s: &Session<'_>, batch: OfferBatch) -> Built {
    let backend = s.db().get_database_backend();
    s.ctx
        .prepare
        .spawn(async move { OfferUpsert::of(backend, batch) })
}

fn begin(s: &Session<'_>) -> Begun {
    let (db, account) = (s.db().clone(), s.account.id);
    Spawned::new(async move { crate::sync::begin_page(&db, account).await })
}

/// Writes groups in page order. On PostgreSQL a group is written while the ones before it
/// commit, so the database's time and the worker's overlap; commits stay in page order,
/// so a checkpoint never passes a page that is not committed.
pub(super) struct Writer {
    /// Groups left uncommitted while a later one is written: none on SQLite.
    behind: usize,
    writing: VecDeque<Writing>,
    /// PostgreSQL: the next group's transaction, begun (the account's row held) while
    /// this one is written, so that a group's write does not start with the two round
    /// trips of its beginning, which took a fifth of it with the cores busy. Rolled back
    /// before the run waits for eMAG. Not on SQLite, where it would hold the write lock.
    next: Option<Begun>,
}

impl Writer {
    pub(super) fn new(s: &Session<'_>) -> Writer {
        let postgres = s.db().get_database_backend() == sea_orm::DbBackend::Postgres;
        Writer {
            behind: if postgres { BEHIND } else { 0 },
            writing: VecDeque::new(),
            next: None,
        }
    }

    /// Starts writing `group` (pages `first..=group.last`), then commits the oldest groups
    /// until at most [`BEHIND`] are left; on SQLite (one writer at a time) commits `group`
    /// itself too.
    pub(super) async fn write(
        &mut self,
        s: &Session<'_>,
        progress: &mut Progress,
        first: u32,
        group: Group,
    ) -> Result<(), JobError> {
        let begun = self.next.take().unwrap_or_else(|| begin(s));
        let upsert = build(s, group.batch);
        self.writing
            .push_back(Writing::start(first, group.last, upsert, begun));
        if self.behind > 0 {
            self.next = Some(begin(s));
        }
        while self.writing.len() > self.behind {
            if let Some(oldest) = self.writing.pop_front() {
                oldest.commit(s, progress).await?;
            }
        }
        Ok(())
    }

    /// Commits the groups being written, oldest first, and rolls back the one begun for
    /// the next group: before waiting for eMAG, so that nothing stays open while the run
    /// waits, and at the end.
    pub(super) async fn settle(
        &mut self,
        s: &Session<'_>,
        progress: &mut Progress,
    ) -> Result<(), JobError> {
        self.next = None;
        while let Some(oldest) = self.writing.pop_front() {
            oldest.commit(s, progress).await?;
        }
        Ok(())
    }
}

/// A group being written: its rows upserted in a task of its own, in a transaction begun
/// for it; committed, with the checkpoint past it, only after the group before it
/// (`commit`). Dropped, it stops and its transaction rolls back.
struct Writing {
    first: u32,
    last: u32,
    write: Spawned<Result<(DatabaseTransaction, PageOutcome), JobError>>,
}

impl Writing {
    fn start(first: u32, last: u32, upsert: Built, begun: Begun) -> Writing {
        Writing {
            first,
            last,
            write: Spawned::new(async move {
                let txn = begun.await.map_err(|e| {
                    JobError::transient(format!("beginning a write stopped: {e}"))
                })??;
                let upsert = upsert
                    .await
                    .map_err(|e| JobError::transient(format!("building a write stopped: {e}")))??;
                let outcome = upsert.save(&txn).await?;
                Ok((txn, outcome))
            }),
        }
    }

    /// Waits for the rows, then records the pages and commits them with the checkpoint.
    async fn commit(self, s: &Session<'_>, progress: &mut Progress) -> Result<(), JobError> {
        let (txn, outcome) = self
            .write
            .await
            .map_err(|e| JobError::transient(format!("writing offers stopped: {e}")))??;
        s.record(progress, &outcome);
        for _ in self.first..=self.last {
            progress.page_done();
        }
        progress.set_checkpoint(json!({ "page": self.last + 1 }));
        progress.flush_with(&txn).await?;
        txn.commit().await?;
        progress.track_emag(s.client.stats());
        progress.tick().await?;
        Ok(())
    }
}
