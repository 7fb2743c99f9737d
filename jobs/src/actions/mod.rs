//! What an operator does to a run, from the API or the console alike: the change, its
//! audit row with the operator as actor, and what follows (a cancelled run's
//! notifications). Both front ends map [`ActionError`] to their own answers.
//! [`accounts`]: the same for eMAG accounts; [`bulk`]: a bulk update accepted;
//! [`notifications`]: subscriptions and suppressed addresses; [`admin`]: API keys and
//! console users; [`callback`]: what eMAG calling back about an order starts; [`batch`]:
//! many runs submitted at once.

pub mod accounts;
pub mod admin;
pub mod batch;
pub mod bulk;
pub mod callback;
pub mod notifications;
pub mod users;

use entity::job_run;
use sea_orm::DbErr;
use uuid::Uuid;

use crate::{
    JobContext, audit,
    error::RunsError,
    lifecycle::{self, CancelOutcome, DeadFilter, RetriedMany, RetryOutcome},
    registry,
};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("run not found")]
    NotFound,
    /// The run is not in a state the action applies to; the message says why.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Runs(#[from] RunsError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Cancels a queued run at once, or asks a running one to stop at its next checkpoint.
pub async fn cancel(
    ctx: &JobContext,
    id: Uuid,
    actor: &str,
) -> Result<job_run::Model, ActionError> {
    let run = match lifecycle::cancel(&ctx.db, id).await? {
        CancelOutcome::Cancelled(run) | CancelOutcome::Requested(run) => run,
        CancelOutcome::AlreadyFinished(run) => {
            return Err(ActionError::Conflict(format!(
                "run already ended with status {}",
                run.status.as_str()
            )));
        }
        CancelOutcome::NotFound => return Err(ActionError::NotFound),
    };
    if run.status.is_terminal()
        && let Err(e) = crate::notification::announce(&ctx.db, &ctx.queue, run.id).await
    {
        tracing::warn!(run.id = %run.id, error = %e, "could not queue notifications");
    }
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunCancel,
        &format!("run:{}", run.id),
        None,
    )
    .await?;
    Ok(run)
}

/// Puts a dead, failed or cancelled run back on its queue with fresh attempts.
pub async fn retry(ctx: &JobContext, id: Uuid, actor: &str) -> Result<job_run::Model, ActionError> {
    let run = match lifecycle::retry(&ctx.db, &ctx.queue, id, registry::retry_policy).await? {
        RetryOutcome::Retried(run) => run,
        RetryOutcome::NotRetryable(run) => {
            return Err(ActionError::Conflict(format!(
                "only dead, failed or cancelled runs can be retried; this one is {}",
                run.status.as_str()
            )));
        }
        RetryOutcome::Locked(run) => {
            return Err(ActionError::Conflict(format!(
                "a sync of {} is active; retry when it ends",
                run.account.as_deref().unwrap_or("this account")
            )));
        }
        RetryOutcome::NotFound => return Err(ActionError::NotFound),
    };
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunRetry,
        &format!("run:{}", run.id),
        None,
    )
    .await?;
    Ok(run)
}

/// Takes a dead or failed run off the dead-letter list; it keeps its status and history.
pub async fn discard(
    ctx: &JobContext,
    id: Uuid,
    actor: &str,
) -> Result<job_run::Model, ActionError> {
    let done = lifecycle::discard(&ctx.db, id).await?;
    let Some(run) = crate::runs::find(&ctx.db, id).await? else {
        return Err(ActionError::NotFound);
    };
    if !done {
        return Err(ActionError::Conflict(format!(
            "only dead or failed runs can be discarded; this one is {}",
            run.status.as_str()
        )));
    }
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunDiscard,
        &format!("run:{id}"),
        None,
    )
    .await?;
    Ok(run)
}

/// How a filter of dead letters reads in an audit row.
fn filter_details(filter: &DeadFilter) -> serde_json::Value {
    serde_json::json!({
        "kind": filter.kind.map(|k| k.as_str()),
        "account": filter.account,
        "error_category": filter.error_category.map(|c| c.as_str()),
        "status": filter.status.map(|s| s.as_str()),
    })
}

/// Retries up to `limit` dead letters matching `filter`, oldest first.
pub async fn retry_many(
    ctx: &JobContext,
    filter: &DeadFilter,
    limit: u64,
    actor: &str,
) -> Result<RetriedMany, ActionError> {
    let done =
        lifecycle::retry_many(&ctx.db, &ctx.queue, filter, limit, registry::retry_policy).await?;
    let details = serde_json::json!({
        "filter": filter_details(filter),
        "retried": done.retried.len(),
    });
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunRetryMany,
        "runs",
        Some(details),
    )
    .await?;
    Ok(done)
}

/// Discards up to `limit` dead letters matching `filter`, oldest first; their ids.
pub async fn discard_many(
    ctx: &JobContext,
    filter: &DeadFilter,
    limit: u64,
    actor: &str,
) -> Result<Vec<Uuid>, ActionError> {
    let done = lifecycle::discard_many(&ctx.db, filter, limit).await?;
    let details = serde_json::json!({
        "filter": filter_details(filter),
        "discarded": done.len(),
    });
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunDiscardMany,
        "runs",
        Some(details),
    )
    .await?;
    Ok(done)
}

/// Pauses or resumes the queue of `kind`.
pub async fn set_queue_paused(
    ctx: &JobContext,
    kind: crate::JobKind,
    paused: bool,
    actor: &str,
) -> Result<(), ActionError> {
    crate::queues::set_paused(&ctx.db, &ctx.queue, kind, paused, actor).await?;
    let action = if paused {
        audit::Action::QueuePause
    } else {
        audit::Action::QueueResume
    };
    let target = format!("queue:{}", kind.as_str());
    audit::record(&ctx.db, actor, action, &target, None).await?;
    Ok(())
}

/// Starts a run of `kind` (or, for a dry run, plans it), as `POST /api/v1/runs` does;
/// a queued run is audited with the operator as actor.
pub async fn submit(
    ctx: &JobContext,
    kind: crate::JobKind,
    params: crate::params::RawParams<'_>,
    max_attempts: Option<u32>,
    actor: &str,
) -> Result<crate::submit::Submitted, crate::submit::SubmitError> {
    let submitted = registry::submit(kind, &ctx.db, &ctx.queue, params, max_attempts).await?;
    if let crate::submit::Submitted::Queued(run) = &submitted {
        let details = serde_json::json!({ "kind": kind.as_str() });
        audit_created(ctx, actor, run.id, details).await?;
    }
    Ok(submitted)
}

/// The audit row of a run created by `actor`.
pub(crate) async fn audit_created(
    ctx: &JobContext,
    actor: &str,
    run: Uuid,
    details: serde_json::Value,
) -> Result<(), DbErr> {
    let target = format!("run:{run}");
    audit::record(
        &ctx.db,
        actor,
        audit::Action::RunCreate,
        &target,
        Some(details),
    )
    .await
}
