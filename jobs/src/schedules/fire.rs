//! The scheduler's step, run by every worker process: fire each due tick of each active
//! schedule exactly once across all processes. The claim is a `schedule_fires` row keyed
//! on (schedule, fire time), inserted in the same transaction as the run(s) it starts and
//! the schedule's next fire time: whoever commits first fires the tick; the others insert
//! nothing and move on. A crash before the commit leaves the tick unclaimed, so another
//! process fires it.

use std::time::Duration;

use rand::Rng;

use chrono::{DateTime, Utc};
use entity::{
    job_run::{self, RunStatus},
    schedule::{self, Misfire, Overlap},
    schedule_fire::{self, FireOutcome},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::spec::{next_fires, parse_cron, parse_timezone};
use crate::{
    JobKind, Queue, registry,
    submit::{self, SubmitError},
};

/// A tick claimed later than this after its time counts as missed (all workers were
/// down); the misfire policy decides what happens to it.
pub const MISFIRE_GRACE: Duration = Duration::from_secs(30);

/// What became of one tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fired {
    /// Another process claimed it first, or the schedule changed since it was read.
    Taken,
    Enqueued(Uuid),
    /// The previous run was still active (overlap `skip`).
    SkippedOverlap,
    /// A run of an earlier tick is still waiting in its queue: a schedule never has more
    /// than one, whatever its overlap policy (a stopped worker fleet must not come back
    /// to a pile of runs).
    SkippedBacklog,
    /// Missed while nothing ran (misfire `skip`).
    Missed,
    /// The template no longer makes a valid run (say its account was deleted): the tick
    /// is used up, recorded `invalid`, and the message logged.
    Invalid(String),
    /// The database failed; the tick is left for the next step.
    Failed(String),
}

impl Fired {
    /// The `schedule_fires.outcome` of a claimed tick.
    /// `None` for what is not a claimed tick (taken by another, or not claimed).
    fn outcome(&self) -> Option<FireOutcome> {
        match self {
            Fired::Enqueued(_) => Some(FireOutcome::Enqueued),
            Fired::SkippedOverlap => Some(FireOutcome::SkippedOverlap),
            Fired::SkippedBacklog => Some(FireOutcome::SkippedBacklog),
            Fired::Missed => Some(FireOutcome::Missed),
            Fired::Invalid(_) => Some(FireOutcome::Invalid),
            Fired::Taken | Fired::Failed(_) => None,
        }
    }
}

/// Fires every due tick at `now`; what became of each. One schedule's failure never
/// holds up the others.
pub async fn fire_due(
    db: &DatabaseConnection,
    queue: &Queue,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Fired)>, DbErr> {
    let due = schedule::Entity::find()
        .filter(schedule::Column::Paused.eq(false))
        .filter(schedule::Column::NextFireAt.lte(now))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for s in due {
        let fired = match fire_one(db, queue, &s, now).await {
            Ok(fired) => fired,
            Err(e @ (SubmitError::Invalid(_) | SubmitError::Items(_))) => {
                // A schedule whose expression no longer parses stops (no next tick).
                let fire_at = s.next_fire_at.unwrap_or(now);
                let next = next_tick(&s, fire_at, now).ok().flatten();
                let invalid = Fired::Invalid(e.to_string());
                claim_only(db, &s, fire_at, next, invalid)
                    .await
                    .unwrap_or_else(|e| Fired::Failed(e.to_string()))
            }
            Err(e) => Fired::Failed(e.to_string()),
        };
        out.push((s.id, fired));
    }
    Ok(out)
}

/// The tick to move to after `fire_at`; an error when the schedule's expression or time
/// zone no longer parses.
fn next_tick(
    s: &schedule::Model,
    fire_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, crate::params::ParamError> {
    let cron = parse_cron(&s.cron)?;
    let tz = parse_timezone(&s.timezone)?;
    // A tick that is merely late (a busy machine) is followed by the one after it, so
    // every tick fires in turn; after real downtime the schedule jumps to the future.
    let next_from = if missed(fire_at, now) { now } else { fire_at };
    Ok(next_fires(&cron, tz, next_from, 1).first().copied())
}

fn missed(fire_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (now - fire_at).to_std().unwrap_or_default() > MISFIRE_GRACE
}

/// The schedule's job: its kind and parameters (checked when its runs are inserted, as
/// `POST /api/v1/runs` checks them).
fn template(s: &schedule::Model) -> Result<(JobKind, Value), SubmitError> {
    let kind = JobKind::parse(s.template["kind"].as_str().unwrap_or_default())
        .ok_or_else(|| crate::params::ParamError::new("template.kind", "unknown kind"))?;
    let params = s.template.get("params").cloned().unwrap_or(Value::Null);
    Ok((kind, params))
}

async fn fire_one(
    db: &DatabaseConnection,
    queue: &Queue,
    s: &schedule::Model,
    now: DateTime<Utc>,
) -> Result<Fired, SubmitError> {
    let Some(fire_at) = s.next_fire_at else {
        return Ok(Fired::Taken);
    };
    let next = next_tick(s, fire_at, now)?;
    if missed(fire_at, now) && s.misfire == Misfire::Skip {
        return Ok(claim_only(db, s, fire_at, next, Fired::Missed).await?);
    }
    if s.overlap == Overlap::Skip
        && active_run(db, s.id, &[RunStatus::Queued, RunStatus::Running]).await?
    {
        return Ok(claim_only(db, s, fire_at, next, Fired::SkippedOverlap).await?);
    }
    if active_run(db, s.id, &[RunStatus::Queued]).await? {
        return Ok(claim_only(db, s, fire_at, next, Fired::SkippedBacklog).await?);
    }
    let (kind, params) = template(s)?;

    let txn = crate::db::begin_write(db).await?;
    if !claim(&txn, s, fire_at, next, FireOutcome::Enqueued).await? {
        return Ok(Fired::Taken);
    }
    let created = match registry::insert_runs(kind, &txn, db, &params, None).await {
        Ok(c) => c,
        // A sync of the same account and resource is active (the database's lock):
        // as with overlap `skip`, this tick starts nothing.
        Err(SubmitError::Conflict { .. }) => {
            drop(txn);
            return Ok(claim_only(db, s, fire_at, next, Fired::SkippedOverlap).await?);
        }
        Err(e) => return Err(e),
    };
    link_runs(&txn, s.id, fire_at, &created).await?;
    let run_id = created.report.id;
    schedule_fire::Entity::update_many()
        .col_expr(schedule_fire::Column::RunId, Expr::value(run_id))
        .filter(schedule_fire::Column::ScheduleId.eq(s.id))
        .filter(schedule_fire::Column::FireAt.eq(fire_at))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    // eMAG asks clients not to arrive at round times: each fire starts a little late.
    let jitter = if s.jitter_s > 0 {
        Duration::from_millis(
            rand::rng().random_range(0..=u64::from(s.jitter_s.unsigned_abs()) * 1000),
        )
    } else {
        Duration::ZERO
    };
    submit::dispatch_all_after(db, queue, created, jitter).await?;
    Ok(Fired::Enqueued(run_id))
}

/// Starts the schedule's job now (`POST /api/v1/schedules/{id}/trigger`), outside its
/// ticks: no claim, the overlap policy does not apply.
pub async fn trigger(
    db: &DatabaseConnection,
    queue: &Queue,
    s: &schedule::Model,
) -> Result<job_run::Model, SubmitError> {
    let (kind, params) = template(s)?;
    let txn = crate::db::begin_write(db).await?;
    let created = registry::insert_runs(kind, &txn, db, &params, None).await?;
    link_runs(&txn, s.id, Utc::now(), &created).await?;
    txn.commit().await?;
    submit::dispatch_all(db, queue, created).await
}

/// Marks the runs as the schedule's (for `GET /api/v1/runs?schedule_id=`) and the
/// report run as the schedule's last.
async fn link_runs<C: ConnectionTrait>(
    txn: &C,
    schedule_id: Uuid,
    fire_at: DateTime<Utc>,
    created: &submit::Created,
) -> Result<(), SubmitError> {
    let ids: Vec<Uuid> = std::iter::once(created.report.id)
        .chain(created.to_dispatch.iter().map(|r| r.id))
        .collect();
    job_run::Entity::update_many()
        .col_expr(job_run::Column::ScheduleId, Expr::value(schedule_id))
        .col_expr(job_run::Column::ScheduledFor, Expr::value(fire_at))
        .filter(job_run::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    schedule::Entity::update_many()
        .col_expr(schedule::Column::LastRunId, Expr::value(created.report.id))
        .filter(schedule::Column::Id.eq(schedule_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Claims the tick without starting a run; `fired` says why.
async fn claim_only(
    db: &DatabaseConnection,
    s: &schedule::Model,
    fire_at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    fired: Fired,
) -> Result<Fired, DbErr> {
    let Some(outcome) = fired.outcome() else {
        return Ok(fired);
    };
    let txn = crate::db::begin_write(db).await?;
    if !claim(&txn, s, fire_at, next, outcome).await? {
        return Ok(Fired::Taken);
    }
    txn.commit().await?;
    Ok(fired)
}

/// Inserts the (schedule, fire time) row and moves the schedule to its next tick; false
/// when another process already holds the tick or the schedule changed since it was read
/// (the caller then drops the transaction, which undoes the insert).
async fn claim<C: ConnectionTrait>(
    txn: &C,
    s: &schedule::Model,
    fire_at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    outcome: FireOutcome,
) -> Result<bool, DbErr> {
    let inserted = schedule_fire::Entity::insert(schedule_fire::ActiveModel {
        schedule_id: sea_orm::ActiveValue::Set(s.id),
        fire_at: sea_orm::ActiveValue::Set(fire_at),
        run_id: sea_orm::ActiveValue::Set(None),
        outcome: sea_orm::ActiveValue::Set(outcome),
        claimed_at: sea_orm::ActiveValue::Set(Utc::now()),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            schedule_fire::Column::ScheduleId,
            schedule_fire::Column::FireAt,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    // An edit, pause or delete committed since `s` was read wins: the caller rolls the
    // claim back, and the next step reads the schedule as it is now.
    let moved = schedule::Entity::update_many()
        .col_expr(schedule::Column::NextFireAt, Expr::value(next))
        .col_expr(schedule::Column::LastFireAt, Expr::value(fire_at))
        .filter(schedule::Column::Id.eq(s.id))
        .filter(schedule::Column::NextFireAt.eq(fire_at))
        .filter(schedule::Column::Revision.eq(s.revision))
        .filter(schedule::Column::Paused.eq(false))
        .exec(txn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Whether a run started by the schedule is still queued or running.
/// Whether the schedule has a top-level run in one of `statuses`.
async fn active_run(
    db: &DatabaseConnection,
    schedule_id: Uuid,
    statuses: &[RunStatus],
) -> Result<bool, SubmitError> {
    let found: Option<Uuid> = job_run::Entity::find()
        .select_only()
        .column(job_run::Column::Id)
        .filter(job_run::Column::ScheduleId.eq(schedule_id))
        .filter(job_run::Column::ParentId.is_null())
        .filter(job_run::Column::Status.is_in(statuses.iter().copied()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}
