//! What submission shares across kinds: the runs a request became, and putting them on
//! their queues. What a kind does at submission is its own (`crate::job::Job`).

use entity::job_run;
use sea_orm::DatabaseConnection;

use crate::{items::PlannedItem, queue::Queue, runs};

pub use crate::error::SubmitError;

/// What a request to `POST /api/v1/runs` became.
#[derive(Debug)]
pub enum Submitted {
    /// The run to report: the parent when there are several.
    Queued(Box<job_run::Model>),
    /// A dry run: what each item would change; nothing was stored or sent.
    Preview(Vec<PlannedItem>),
}

impl Submitted {
    /// The run, unless this was a dry run.
    pub fn into_run(self) -> Option<job_run::Model> {
        match self {
            Submitted::Queued(run) => Some(*run),
            Submitted::Preview(_) => None,
        }
    }
}

/// Runs inserted by a kind's `insert_runs`, not yet on the queue.
#[derive(Debug)]
pub struct Created {
    /// The run to report: the parent when there are several.
    pub report: job_run::Model,
    /// The runs that get a queue task (not a parent).
    pub to_dispatch: Vec<job_run::Model>,
}

/// Gives every inserted run its queue task. A push the queue refuses leaves that run
/// queued without a task, for the reaper to dispatch once the queue answers
/// ([`runs::dispatch`]); the others still get theirs.
pub async fn dispatch_all(
    db: &DatabaseConnection,
    queue: &Queue,
    created: Created,
) -> Result<job_run::Model, SubmitError> {
    dispatch_all_after(db, queue, created, std::time::Duration::ZERO).await
}

/// [`dispatch_all`], each task due after `delay` (a schedule's start jitter).
pub async fn dispatch_all_after(
    db: &DatabaseConnection,
    queue: &Queue,
    created: Created,
    delay: std::time::Duration,
) -> Result<job_run::Model, SubmitError> {
    let Created {
        report,
        to_dispatch,
    } = created;
    // A report run that gets no task of its own is a parent: it sums up its runs.
    let parent = !to_dispatch.iter().any(|r| r.id == report.id);
    let mut first_error = None;
    for run in to_dispatch {
        if let Err(e) = runs::dispatch(db, queue, run, delay).await {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        if parent {
            runs::refresh_parent(db, report.id).await?;
        }
        return Err(e.into());
    }
    Ok(report)
}
