//! Creating, queueing and reading runs, and a parent's sums. Every change of a run's
//! status after it is created is in [`crate::lifecycle`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    job_run::{self, RunStatus},
    run_event,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, IdenStatic, Iterable, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{counters::Counters, error::RunsError, kind::JobKind, queue::Queue, task::RunTask};

mod attempts;
mod parents;

pub use attempts::{Attempt, attempts, paused_since};
pub use parents::{children, is_parent, refresh_parent, stuck_parents};

/// A run to create. `params` must already be validated (the kind's `Job::validate`).
#[derive(Clone, Debug)]
pub struct NewRun {
    pub kind: JobKind,
    pub params: Value,
    pub account: Option<String>,
    /// The kind's retry policy, or what the request asked for (clamped to 1 to 100).
    pub max_attempts: u32,
    pub parent_id: Option<Uuid>,
    /// At most one active run per key (`sync:ACCOUNT:RESOURCE`); see `crate::submit`.
    pub lock_key: Option<String>,
}

/// Inserts the run as `queued`, then puts its task on the queue. If the queue refuses,
/// the run is marked failed so it never waits for a task that does not exist.
pub async fn enqueue(
    db: &DatabaseConnection,
    queue: &Queue,
    new: NewRun,
) -> Result<job_run::Model, RunsError> {
    // The task id goes in with the row: one write, not two. A crash before the push
    // leaves the run stranded with a task id, which the reaper dispatches again.
    let task_id = Queue::new_task_id();
    let run = insert_with_task(db, new, Some(task_id.clone())).await?;
    push(db, queue, run, Duration::ZERO, task_id).await
}

/// Inserts the run as `queued` without a queue task ([`dispatch`] gives it one).
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewRun) -> Result<job_run::Model, DbErr> {
    insert_with_task(db, new, None).await
}

async fn insert_with_task<C: ConnectionTrait>(
    db: &C,
    new: NewRun,
    task_id: Option<String>,
) -> Result<job_run::Model, DbErr> {
    new_row(new, task_id, Utc::now()).insert(db).await
}

/// Rows bound per statement: SQLite takes at most 32,766 values, a run has 40-odd columns.
const ROWS_PER_INSERT: usize = 500;

/// Inserts runs as `queued`, each with its queue task id, in one statement per 500.
pub async fn insert_all_with_tasks<C: ConnectionTrait>(
    db: &C,
    runs: Vec<(NewRun, String)>,
) -> Result<Vec<job_run::Model>, DbErr> {
    let now = Utc::now();
    let mut rows = runs
        .into_iter()
        .map(|(new, task)| new_row(new, Some(task), now))
        .peekable();
    let mut inserted = Vec::new();
    while rows.peek().is_some() {
        let chunk: Vec<job_run::ActiveModel> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        inserted.extend(
            job_run::Entity::insert_many(chunk)
                .exec_with_returning(db)
                .await?,
        );
    }
    Ok(inserted)
}

/// A new run's row, `queued`, due now.
fn new_row(new: NewRun, task_id: Option<String>, now: DateTime<Utc>) -> job_run::ActiveModel {
    let max_attempts = new.max_attempts.clamp(1, 100);
    let mut run = job_run::ActiveModel {
        // v7: time-ordered, so "newest first" and cursors are an index scan on the key.
        id: Set(Uuid::now_v7()),
        parent_id: Set(new.parent_id),
        kind: Set(new.kind),
        queue_job_id: Set(task_id),
        account: Set(new.account),
        params: Set(new.params),
        status: Set(RunStatus::Queued),
        attempt: Set(0),
        max_attempts: Set(i32::try_from(max_attempts).unwrap_or(100)),
        lock_key: Set(new.lock_key),
        checkpoint: Set(None),
        throughput: Set(None),
        eta_seconds: Set(None),
        error_category: Set(None),
        error_message: Set(None),
        cancel_requested: Set(false),
        worker_id: Set(None),
        heartbeat_at: Set(None),
        next_attempt_at: Set(Some(now)),
        revision: Set(0),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        updated_at: Set(now),
        result: Set(None),
        announced: Set(false),
        schedule_id: Set(None),
        scheduled_for: Set(None),
        discarded_at: Set(None),
        ..Default::default()
    };
    Counters::default().set_on(&mut run);
    run
}

/// Puts a task for an existing queued run on its queue and records the task id. If the
/// queue cannot take it (Redis restarting), the run stays queued without a task and the
/// reaper dispatches it once the queue answers: accepted work is never dropped.
///
/// The task id is written before the push: an idle worker takes the task within
/// milliseconds, and its claim is conditional on the row's revision, so the row must not
/// change after the push. A crash between the two leaves a run whose task never came;
/// the reaper dispatches it again ([`crate::queues::release_stranded`]).
pub async fn dispatch(
    db: &DatabaseConnection,
    queue: &Queue,
    run: job_run::Model,
    delay: Duration,
) -> Result<job_run::Model, RunsError> {
    let task_id = Queue::new_task_id();
    set_task(db, run.id, Some(&task_id), None).await?;
    push(db, queue, run, delay, task_id).await
}

/// Pushes the task `task_id` (already recorded on the row) for `run`; if the queue
/// refuses, takes the id off the row again so the reaper dispatches the run.
async fn push(
    db: &DatabaseConnection,
    queue: &Queue,
    run: job_run::Model,
    delay: Duration,
    task_id: String,
) -> Result<job_run::Model, RunsError> {
    match queue
        .push_as(run.kind, RunTask::new(run.id), delay, &task_id)
        .await
    {
        Ok(()) => Ok(job_run::Model {
            queue_job_id: Some(task_id),
            ..run
        }),
        Err(e) => {
            tracing::warn!(run.id = %run.id, error = %e, "queue unavailable; the run waits for the reaper to dispatch it");
            set_task(db, run.id, None, Some(&task_id)).await?;
            Ok(job_run::Model {
                queue_job_id: None,
                ..run
            })
        }
    }
}

/// Records each run's queue task in one statement (inside the transaction that inserted
/// the runs, so a run is never seen without the task it will get).
pub async fn set_tasks<C: ConnectionTrait>(db: &C, tasks: &[(Uuid, String)]) -> Result<(), DbErr> {
    use sea_orm::sea_query::CaseStatement;
    if tasks.is_empty() {
        return Ok(());
    }
    let mut case = CaseStatement::new();
    for (run, task) in tasks {
        case = case.case(job_run::Column::Id.eq(*run), Expr::value(task.clone()));
    }
    job_run::Entity::update_many()
        .col_expr(job_run::Column::QueueJobId, case.into())
        .filter(job_run::Column::Id.is_in(tasks.iter().map(|(run, _)| *run)))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the task ids the queue refused off their runs (those still holding them), so the
/// reaper dispatches the runs once the queue answers.
pub async fn untask(db: &DatabaseConnection, tasks: &[(Uuid, String)]) -> Result<(), DbErr> {
    for (run, task) in tasks {
        set_task(db, *run, None, Some(task)).await?;
    }
    Ok(())
}

/// Records `task` as the run's queue task, if its task is still `was` (when given).
async fn set_task(
    db: &DatabaseConnection,
    run_id: Uuid,
    task: Option<&str>,
    was: Option<&str>,
) -> Result<(), DbErr> {
    let mut update = job_run::Entity::update_many()
        .col_expr(
            job_run::Column::QueueJobId,
            Expr::value(task.map(str::to_owned)),
        )
        // A retry's due time stays; the reaper's cutoff counts from this write.
        .col_expr(job_run::Column::UpdatedAt, Expr::value(Utc::now()))
        // Stream clients tell a new state from one seen by the revision.
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Id.eq(run_id));
    if let Some(was) = was {
        update = update.filter(job_run::Column::QueueJobId.eq(was));
    }
    update.exec(db).await?;
    Ok(())
}

/// `revision + 1`: every write to a run bumps it, so stream readers can tell new from seen.
pub fn next_revision() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::ExprTrait;
    Expr::col(job_run::Column::Revision).add(1)
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<job_run::Model>, DbErr> {
    job_run::Entity::find_by_id(id).one(db).await
}

/// Filters of the run list; every field optional.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub kind: Option<JobKind>,
    pub status: Option<RunStatus>,
    pub account: Option<String>,
    pub parent_id: Option<Uuid>,
    /// Only runs started by this schedule.
    pub schedule_id: Option<Uuid>,
    pub error_category: Option<crate::error::ErrorCategory>,
    /// `Some(false)`: only runs not discarded (the open dead letters).
    pub discarded: Option<bool>,
}

/// Newest first. `before` is the id of the last run of the previous page.
///
/// A list is a summary: each run comes without its `checkpoint`, which only a resumed
/// attempt needs and which an orders sync fills with its plan of date windows
/// (kilobytes). [`find`] reads it.
pub async fn list(
    db: &DatabaseConnection,
    filter: &RunFilter,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<job_run::Model>, DbErr> {
    let mut q = job_run::Entity::find()
        .select_only()
        .columns(job_run::Column::iter().filter(|c| !matches!(c, job_run::Column::Checkpoint)))
        .expr_as(Expr::cust("NULL"), job_run::Column::Checkpoint.as_str());
    if let Some(kind) = filter.kind {
        q = q.filter(job_run::Column::Kind.eq(kind));
    }
    if let Some(status) = filter.status {
        q = q.filter(job_run::Column::Status.eq(status));
    }
    if let Some(account) = &filter.account {
        q = q.filter(job_run::Column::Account.eq(account.as_str()));
    }
    if let Some(parent) = filter.parent_id {
        q = q.filter(job_run::Column::ParentId.eq(parent));
    }
    if let Some(schedule) = filter.schedule_id {
        q = q.filter(job_run::Column::ScheduleId.eq(schedule));
    }
    if let Some(category) = filter.error_category {
        q = q.filter(job_run::Column::ErrorCategory.eq(category));
    }
    match filter.discarded {
        Some(true) => q = q.filter(job_run::Column::DiscardedAt.is_not_null()),
        Some(false) => q = q.filter(job_run::Column::DiscardedAt.is_null()),
        None => {}
    }
    if let Some(before) = before {
        q = q.filter(job_run::Column::Id.lt(before));
    }
    q.order_by_desc(job_run::Column::Id)
        .limit(limit)
        .into_model::<job_run::Model>()
        .all(db)
        .await
}

/// Log lines of one run after event id `after`, oldest first.
pub async fn events(
    db: &DatabaseConnection,
    run_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<run_event::Model>, DbErr> {
    run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .filter(run_event::Column::Id.gt(after))
        .order_by_asc(run_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The run's last `n` log lines, oldest first.
pub async fn recent_events(
    db: &DatabaseConnection,
    run_id: Uuid,
    n: u64,
) -> Result<Vec<run_event::Model>, DbErr> {
    let mut events = run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .order_by_desc(run_event::Column::Id)
        .limit(n)
        .all(db)
        .await?;
    events.reverse();
    Ok(events)
}

/// Runs changed after `(updated_at, id)`, in that order: one page of a catch-up.
pub async fn changed_after(
    db: &DatabaseConnection,
    after: (DateTime<Utc>, Uuid),
    limit: u64,
) -> Result<Vec<job_run::Model>, DbErr> {
    job_run::Entity::find()
        .filter(
            Condition::any()
                .add(job_run::Column::UpdatedAt.gt(after.0))
                .add(
                    Condition::all()
                        .add(job_run::Column::UpdatedAt.eq(after.0))
                        .add(job_run::Column::Id.gt(after.1)),
                ),
        )
        .order_by_asc(job_run::Column::UpdatedAt)
        .order_by_asc(job_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
