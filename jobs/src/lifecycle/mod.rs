//! A run's life: every write that moves a run from one status to another, or renews the
//! hold a worker has on it, is in this module and nowhere else.
//!
//! The table below is the state machine. Each [`Event`] has the statuses it may start
//! from and the one it leads to (`=` keeps the status); its write is conditional on the
//! row being in one of those statuses, so an event the table forbids changes nothing.
//! The unit test reads this table, checks [`Event::from`] and [`Event::to`] against it,
//! and performs every event on a run in every status.
//!
//! | event         | from                    | to        | written by                                   |
//! |---------------|-------------------------|-----------|----------------------------------------------|
//! | claim         | queued                  | running   | [`claim`], [`claim_ready`]                   |
//! | heartbeat     | running                 | =         | [`heartbeat`], [`flush`]                     |
//! | succeed       | running                 | succeeded | [`end_attempt`]                              |
//! | stop          | running                 | cancelled | [`end_attempt`] (the handler saw a cancel)   |
//! | fail          | running                 | failed    | [`end_attempt`] (not worth another attempt)  |
//! | die           | running                 | dead      | [`end_attempt`] (its attempts are used up)   |
//! | requeue       | running                 | queued    | [`end_attempt`] (retry, hand-back, pause)    |
//! | take_over     | running                 | queued    | [`take_over`] (heartbeat older than a lease) |
//! | bury          | queued, running         | dead      | [`bury_lost`] (every attempt lost a worker)  |
//! | unstartable   | queued, running         | failed    | [`fail_unstartable`]                         |
//! | cancel        | queued                  | cancelled | [`cancel`]                                   |
//! | ask_to_cancel | running                 | =         | [`cancel`] (the handler stops at a check)    |
//! | retry         | failed, dead, cancelled | queued    | [`retry`]                                    |
//! | discard       | failed, dead            | =         | [`discard`] (off the dead-letter list)       |
//!
//! Beyond the status, writes by a worker are conditional on its hold (worker id and
//! attempt, see [`Holder`]) and writes after a read on the revision it read, so two
//! workers never both hold a run and a worker whose lease ran out cannot clobber the one
//! that took over. A parent's status is not an event: it is derived from its runs'
//! (`runs::refresh_parent`).

use entity::job_run::{self, RunStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, UpdateMany, sea_query::Expr};
use uuid::Uuid;

mod attempt;
mod cancel;
mod claim;
mod end_all;
mod events;
mod reap;
mod retry;

pub use attempt::{
    End, Ending, Flush, Holder, end_attempt, end_attempts, fail_unstartable, flush, heartbeat,
    holds,
};
pub use cancel::{CancelOutcome, cancel};
pub use claim::{Claim, claim, claim_ready, claim_unready};
pub use events::{AttemptEnd, attempt_end_line, log, log_attempt_end, log_lines};
pub use reap::{bury_lost, stale_runs, take_over};
pub use retry::{
    DeadFilter, Policy, RetriedMany, RetryOutcome, count_dead, discard, discard_many, retry,
    retry_many,
};

/// What can happen to a run; see the table in this module's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Claim,
    Heartbeat,
    Succeed,
    Stop,
    Fail,
    Die,
    Requeue,
    TakeOver,
    Bury,
    Unstartable,
    Cancel,
    AskToCancel,
    Retry,
    Discard,
}

impl Event {
    pub const ALL: [Event; 14] = [
        Event::Claim,
        Event::Heartbeat,
        Event::Succeed,
        Event::Stop,
        Event::Fail,
        Event::Die,
        Event::Requeue,
        Event::TakeOver,
        Event::Bury,
        Event::Unstartable,
        Event::Cancel,
        Event::AskToCancel,
        Event::Retry,
        Event::Discard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::Claim => "claim",
            Event::Heartbeat => "heartbeat",
            Event::Succeed => "succeed",
            Event::Stop => "stop",
            Event::Fail => "fail",
            Event::Die => "die",
            Event::Requeue => "requeue",
            Event::TakeOver => "take_over",
            Event::Bury => "bury",
            Event::Unstartable => "unstartable",
            Event::Cancel => "cancel",
            Event::AskToCancel => "ask_to_cancel",
            Event::Retry => "retry",
            Event::Discard => "discard",
        }
    }

    /// The statuses this event may start from.
    pub fn from(self) -> &'static [RunStatus] {
        use RunStatus::*;
        match self {
            Event::Claim | Event::Cancel => &[Queued],
            Event::Heartbeat
            | Event::Succeed
            | Event::Stop
            | Event::Fail
            | Event::Die
            | Event::Requeue
            | Event::TakeOver
            | Event::AskToCancel => &[Running],
            Event::Bury | Event::Unstartable => &[Queued, Running],
            Event::Retry => &[Failed, Dead, Cancelled],
            Event::Discard => &[Failed, Dead],
        }
    }

    /// The status it leads to; `None` keeps the status it started from.
    pub fn to(self) -> Option<RunStatus> {
        match self {
            Event::Claim => Some(RunStatus::Running),
            Event::Succeed => Some(RunStatus::Succeeded),
            Event::Stop | Event::Cancel => Some(RunStatus::Cancelled),
            Event::Fail | Event::Unstartable => Some(RunStatus::Failed),
            Event::Die | Event::Bury => Some(RunStatus::Dead),
            Event::Requeue | Event::TakeOver | Event::Retry => Some(RunStatus::Queued),
            Event::Heartbeat | Event::AskToCancel | Event::Discard => None,
        }
    }

    /// Where this event takes a run in `status`; `None` when the table forbids it.
    pub fn next(self, status: RunStatus) -> Option<RunStatus> {
        self.from()
            .contains(&status)
            .then(|| self.to().unwrap_or(status))
    }
}

/// The update of run `id` that `event` makes: the new status (if it changes) and the
/// condition that the run is in a status the event starts from. The caller adds the
/// columns and conditions of its own.
fn change(event: Event, id: Uuid) -> UpdateMany<job_run::Entity> {
    let mut update = job_run::Entity::update_many()
        .filter(job_run::Column::Id.eq(id))
        .filter(job_run::Column::Status.is_in(event.from().iter().copied()));
    if let Some(to) = event.to() {
        update = update.col_expr(job_run::Column::Status, Expr::value(to));
    }
    update
}

#[cfg(test)]
mod tests;
