//! Many runs submitted in one request (`POST /api/v1/runs/batch`): each checked on its
//! own, the accepted ones inserted in one transaction with their task ids and audit rows,
//! then put on their queues with one push per kind. Producers that start thousands of
//! runs pay one round trip for a batch instead of one per run.

use std::collections::BTreeMap;

use entity::job_run;
use sea_orm::TransactionTrait;
use serde_json::json;
use uuid::Uuid;

use crate::{
    JobContext, JobKind, audit,
    params::{ParamError, RawParams},
    queue::Queue,
    registry,
    runs::{self, NewRun},
    submit::{Created, SubmitError},
};

/// The most runs one batch may hold.
pub const MAX_RUNS: usize = 1_000;

/// One run asked for, as `POST /api/v1/runs` takes it.
pub struct BatchItem<'a> {
    pub kind: JobKind,
    pub params: RawParams<'a>,
    pub max_attempts: Option<u32>,
}

/// What became of each item, in the order given: the run to report (the parent when it
/// has several), or why it was refused. A refused item changes nothing; the others are
/// accepted all the same.
pub type BatchOutcome = Vec<Result<job_run::Model, SubmitError>>;

/// Inserts the items that pass their checks in one transaction, then queues them. Runs of
/// plain kinds ([`crate::job::Job::PLAIN`]: one row, no lock) go in with their task ids in
/// one statement per 500; the others each in a savepoint, so one that fails inside the
/// database (a lock held) leaves the rest. An error is the batch's own (the database
/// unreachable): nothing was stored.
pub async fn submit_batch(
    ctx: &JobContext,
    items: Vec<BatchItem<'_>>,
    actor: &str,
) -> Result<BatchOutcome, SubmitError> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut outcome: Vec<Option<Result<job_run::Model, SubmitError>>> = Vec::new();
    let mut accepted: Vec<Created> = Vec::new();
    let mut plain: Vec<(usize, NewRun, String)> = Vec::new();
    for item in items {
        let index = outcome.len();
        outcome.push(None);
        let (kind, max_attempts) = (item.kind, item.max_attempts);
        if let Some(why) = registry::unschedulable(kind) {
            let why = format!("{} is not accepted in a batch: {why}", kind.as_str());
            outcome[index] = Some(Err(ParamError::new("kind", why).into()));
            continue;
        }
        match registry::plain_run(kind, &ctx.db, item.params, max_attempts).await {
            Some(Ok(new)) => plain.push((index, new, Queue::new_task_id())),
            Some(Err(e)) => outcome[index] = Some(Err(e)),
            None => {
                let (result, created) = in_savepoint(ctx, &txn, item).await?;
                accepted.extend(created);
                outcome[index] = Some(result);
            }
        }
    }
    let mut tasks: Vec<(Uuid, JobKind, String)> = accepted
        .iter()
        .flat_map(|c| &c.to_dispatch)
        .map(|run| (run.id, run.kind, Queue::new_task_id()))
        .collect();
    let recorded: Vec<(Uuid, String)> = tasks.iter().map(|(r, _, t)| (*r, t.clone())).collect();
    runs::set_tasks(&txn, &recorded).await?;
    let positions: Vec<usize> = plain.iter().map(|(index, ..)| *index).collect();
    let rows = plain
        .into_iter()
        .map(|(_, new, task)| (new, task))
        .collect();
    let inserted = runs::insert_all_with_tasks(&txn, rows).await?;
    let mut reported: Vec<&job_run::Model> = accepted.iter().map(|c| &c.report).collect();
    reported.extend(&inserted);
    let audit_rows = reported
        .iter()
        .map(|run| {
            let details = json!({ "kind": run.kind.as_str(), "batch": true });
            (format!("run:{}", run.id), Some(details))
        })
        .collect();
    audit::record_all(&txn, actor, audit::Action::RunCreate, audit_rows).await?;
    txn.commit().await?;
    for (index, run) in positions.into_iter().zip(inserted) {
        if let Some(task) = run.queue_job_id.clone() {
            tasks.push((run.id, run.kind, task));
        }
        outcome[index] = Some(Ok(run));
    }
    push(ctx, &accepted, tasks).await?;
    Ok(outcome.into_iter().flatten().collect())
}

/// A run of a kind that is not plain, inserted in a savepoint of `txn`: the item's result,
/// and what it created when accepted.
async fn in_savepoint(
    ctx: &JobContext,
    txn: &sea_orm::DatabaseTransaction,
    item: BatchItem<'_>,
) -> Result<(Result<job_run::Model, SubmitError>, Option<Created>), SubmitError> {
    #[allow(
        clippy::disallowed_methods,
        reason = "a savepoint inside the write transaction begun by begin_write"
    )]
    let savepoint = txn.begin().await?;
    let inserted = registry::insert_checked(
        item.kind,
        &savepoint,
        &ctx.db,
        item.params,
        item.max_attempts,
    )
    .await;
    match inserted {
        Ok(created) => {
            savepoint.commit().await?;
            Ok((Ok(created.report.clone()), Some(created)))
        }
        Err(e) => {
            savepoint.rollback().await?;
            Ok((Err(e), None))
        }
    }
}

/// Runs and the task ids recorded for them.
type Tasks = Vec<(Uuid, String)>;

/// One push per kind. A push the queue refuses takes those task ids off their runs, so the
/// reaper dispatches them once the queue answers, as for a single run.
async fn push(
    ctx: &JobContext,
    accepted: &[Created],
    tasks: Vec<(Uuid, JobKind, String)>,
) -> Result<(), SubmitError> {
    let mut by_kind: BTreeMap<&'static str, (JobKind, Tasks)> = BTreeMap::new();
    for (run, kind, task) in tasks {
        by_kind
            .entry(kind.as_str())
            .or_insert_with(|| (kind, Vec::new()))
            .1
            .push((run, task));
    }
    for (kind, tasks) in by_kind.into_values() {
        if let Err(e) = ctx.queue.push_all_now(kind, &tasks).await {
            tracing::warn!(kind = kind.as_str(), runs = tasks.len(), error = %e, "queue unavailable; the batch's runs wait for the reaper to dispatch them");
            runs::untask(&ctx.db, &tasks).await?;
            for created in accepted {
                let parent = !created
                    .to_dispatch
                    .iter()
                    .any(|r| r.id == created.report.id);
                if parent {
                    runs::refresh_parent(&ctx.db, created.report.id).await?;
                }
            }
        }
    }
    Ok(())
}
