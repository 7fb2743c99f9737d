//! Queue controls and figures per job kind, from the `job_runs` rows (the truth; apalis'
//! own queues only carry run ids). A paused queue keeps accepting runs; its workers hold
//! them, without starting them or using an attempt, until it is resumed.

use chrono::{DateTime, Utc};
use entity::{
    job_run::{self, RunStatus},
    queue_control,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};

use crate::{
    error::RunsError,
    kind::JobKind,
    queue::Queue,
    runs::{dispatch, is_parent},
};
use sea_orm::sea_query::ExprTrait;
use uuid::Uuid;

/// One queue as an operator sees it.
#[derive(Clone, Debug)]
pub struct QueueStats {
    pub kind: JobKind,
    pub paused: bool,
    /// Runs waiting (queued and due, or held by a pause).
    pub depth: u64,
    /// Queued runs waiting for a retry's backoff.
    pub scheduled: u64,
    pub running: u64,
    /// Age of the run that has waited longest, since it was due.
    pub oldest_waiting_s: Option<f64>,
}

pub async fn is_paused(db: &DatabaseConnection, kind: JobKind) -> Result<bool, DbErr> {
    Ok(queue_control::Entity::find_by_id(kind.as_str())
        .one(db)
        .await?
        .is_some_and(|c| c.paused))
}

/// Pauses or resumes `kind`'s queue. Resuming gives every held run its task back.
pub async fn set_paused(
    db: &DatabaseConnection,
    queue: &Queue,
    kind: JobKind,
    paused: bool,
    actor: &str,
) -> Result<usize, RunsError> {
    queue_control::Entity::insert(queue_control::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        paused: Set(paused),
        changed_by: Set(actor.to_owned()),
        changed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(queue_control::Column::Kind)
            .update_columns([
                queue_control::Column::Paused,
                queue_control::Column::ChangedBy,
                queue_control::Column::ChangedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if paused {
        return Ok(0);
    }
    release_held(db, queue, kind).await
}

/// Dispatches the queued runs of `kind` that have no queue task (held by a pause);
/// how many.
pub async fn release_held(
    db: &DatabaseConnection,
    queue: &Queue,
    kind: JobKind,
) -> Result<usize, RunsError> {
    release(db, queue, kind, None).await
}

/// Dispatches queued runs of running queues that have had no task since before
/// `cutoff`: their task was never pushed (a crash between insert and push) or a hold
/// raced with a resume. The reaper calls it.
pub async fn release_orphans(
    db: &DatabaseConnection,
    queue: &Queue,
    cutoff: DateTime<Utc>,
) -> Result<usize, RunsError> {
    let mut released = 0;
    for kind in JobKind::ALL {
        if !is_paused(db, kind).await? {
            released += release(db, queue, kind, Some(cutoff)).await?;
        }
    }
    Ok(released)
}

/// Dispatches again queued runs that are due, held by nobody and untouched since
/// `cutoff` (two lease periods), whatever their task id says: their task was lost (a
/// queue restarted without persistence, a task deleted by hand). Claims are idempotent,
/// so a task that was only slow costs one no-op claim. At most 100 a call, oldest first,
/// so a long backlog is not pushed again all at once.
pub async fn release_stranded(
    db: &DatabaseConnection,
    queue: &Queue,
    cutoff: DateTime<Utc>,
) -> Result<usize, RunsError> {
    let now = Utc::now();
    let stranded = job_run::Entity::find()
        .filter(job_run::Column::Status.eq(RunStatus::Queued))
        .filter(job_run::Column::WorkerId.is_null())
        .filter(job_run::Column::QueueJobId.is_not_null())
        .filter(job_run::Column::UpdatedAt.lt(cutoff))
        .filter(
            sea_orm::Condition::any()
                .add(job_run::Column::NextAttemptAt.is_null())
                .add(job_run::Column::NextAttemptAt.lte(now)),
        )
        .filter(is_parent().not())
        .order_by_asc(job_run::Column::UpdatedAt)
        .limit(100)
        .all(db)
        .await?;
    if stranded.is_empty() {
        return Ok(0);
    }
    let mut paused = Vec::new();
    for kind in JobKind::ALL {
        if is_paused(db, kind).await? {
            paused.push(kind);
        }
    }
    let mut released = 0;
    for run in stranded {
        let kind = run.kind;
        // A paused queue's runs wait on purpose.
        if paused.contains(&kind) {
            continue;
        }
        dispatch(db, queue, run, std::time::Duration::ZERO).await?;
        released += 1;
    }
    Ok(released)
}

async fn release(
    db: &DatabaseConnection,
    queue: &Queue,
    kind: JobKind,
    cutoff: Option<DateTime<Utc>>,
) -> Result<usize, RunsError> {
    const PAGE: u64 = 1000;
    let mut released = 0;
    // Every held run, a page at a time in id order (a dispatched run leaves the filter,
    // and the page moves on by id). A parent has no task of its own: its runs do.
    let mut after = Uuid::nil();
    loop {
        let mut q = job_run::Entity::find()
            .filter(job_run::Column::Kind.eq(kind))
            .filter(job_run::Column::Status.eq(RunStatus::Queued))
            .filter(job_run::Column::QueueJobId.is_null())
            .filter(is_parent().not())
            .filter(job_run::Column::Id.gt(after));
        if let Some(cutoff) = cutoff {
            q = q.filter(job_run::Column::UpdatedAt.lt(cutoff));
        }
        let held = q
            .order_by_asc(job_run::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let full = held.len() as u64 == PAGE;
        for run in held {
            after = run.id;
            dispatch(db, queue, run, std::time::Duration::ZERO).await?;
            released += 1;
        }
        if !full {
            return Ok(released);
        }
    }
}

/// Marks a queued run as held (no task): called by a worker that got its task while the
/// queue is paused. Conditional on the task being the one it holds.
pub async fn hold(db: &DatabaseConnection, run: &job_run::Model) -> Result<bool, DbErr> {
    let mut q = job_run::Entity::update_many()
        .col_expr(
            job_run::Column::QueueJobId,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(job_run::Column::Id.eq(run.id))
        .filter(job_run::Column::Status.eq(RunStatus::Queued));
    q = match &run.queue_job_id {
        Some(task) => q.filter(job_run::Column::QueueJobId.eq(task.as_str())),
        None => q.filter(job_run::Column::QueueJobId.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// kind, status, next attempt due, created.
type WaitingRow = (String, RunStatus, Option<DateTime<Utc>>, DateTime<Utc>);

/// Every kind's queue figures at `now`.
pub async fn stats(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<QueueStats>, DbErr> {
    let controls = queue_control::Entity::find().all(db).await?;
    // Parents have no task and never wait themselves.
    let rows: Vec<WaitingRow> = job_run::Entity::find()
        .select_only()
        .column(job_run::Column::Kind)
        .column(job_run::Column::Status)
        .column(job_run::Column::NextAttemptAt)
        .column(job_run::Column::CreatedAt)
        .filter(job_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .filter(is_parent().not())
        .into_tuple()
        .all(db)
        .await?;
    Ok(JobKind::ALL
        .into_iter()
        .map(|kind| {
            let mut s = QueueStats {
                kind,
                paused: controls.iter().any(|c| c.kind == kind.as_str() && c.paused),
                depth: 0,
                scheduled: 0,
                running: 0,
                oldest_waiting_s: None,
            };
            for (k, status, next, created) in &rows {
                if k != kind.as_str() {
                    continue;
                }
                if *status == RunStatus::Running {
                    s.running += 1;
                    continue;
                }
                let due = next.unwrap_or(*created);
                if due > now {
                    s.scheduled += 1;
                    continue;
                }
                s.depth += 1;
                let waited = (now - due).num_milliseconds() as f64 / 1000.0;
                s.oldest_waiting_s =
                    Some(s.oldest_waiting_s.map_or(waited, |o: f64| o.max(waited)));
            }
            s
        })
        .collect())
}
