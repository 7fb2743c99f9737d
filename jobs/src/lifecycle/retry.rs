//! Dead letters: runs that ended without success, retried or discarded by an operator.
//! A retry puts the same run back on its queue with a fresh set of attempts; it keeps
//! its checkpoint, so a sync resumes at its page and a bulk update sends only the items
//! without a recorded answer.

use chrono::Utc;
use entity::job_run::{self, RunStatus};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{Event, change};
use crate::{
    error::RunsError,
    kind::{JobKind, RetryPolicy},
    queue::Queue,
    runs::{children, dispatch, find, next_revision, refresh_parent},
};

/// Whether a run in `status` can be retried.
fn retryable(status: RunStatus) -> bool {
    Event::Retry.from().contains(&status)
}

#[derive(Debug)]
pub enum RetryOutcome {
    /// Back on its queue (a parent: its ended runs are).
    Retried(job_run::Model),
    /// It has not ended, or it succeeded: nothing to retry.
    NotRetryable(job_run::Model),
    /// A sync of the same account and resource is active; retry once it ends.
    Locked(job_run::Model),
    NotFound,
}

/// A kind's retry policy: a retried run gets its kind's attempts afresh
/// (`jobs::registry::retry_policy`).
pub type Policy = fn(JobKind) -> RetryPolicy;

/// Re-queues run `id` (or every unsuccessful run of parent `id`).
pub async fn retry(
    db: &DatabaseConnection,
    queue: &Queue,
    id: Uuid,
    policy: Policy,
) -> Result<RetryOutcome, RunsError> {
    let Some(run) = find(db, id).await? else {
        return Ok(RetryOutcome::NotFound);
    };
    if !retryable(run.status) {
        return Ok(RetryOutcome::NotRetryable(run));
    }
    let kids = children(db, id).await?;
    if kids.is_empty() {
        return retry_one(db, queue, run, policy).await;
    }
    let mut locked = None;
    for child in kids.into_iter().filter(|c| retryable(c.status)) {
        if let RetryOutcome::Locked(c) = retry_one(db, queue, child, policy).await? {
            locked.get_or_insert(c);
        }
    }
    refresh_parent(db, id).await?;
    let parent = find(db, id)
        .await?
        .ok_or(DbErr::RecordNotFound(id.to_string()))?;
    Ok(match locked {
        Some(_) if retryable(parent.status) => RetryOutcome::Locked(parent),
        _ => RetryOutcome::Retried(parent),
    })
}

async fn retry_one(
    db: &DatabaseConnection,
    queue: &Queue,
    run: job_run::Model,
    policy: Policy,
) -> Result<RetryOutcome, RunsError> {
    let budget = policy(run.kind).max_attempts;
    let max_attempts = run.attempt + i32::try_from(budget).unwrap_or(3);
    let now = Utc::now();
    let none_time = Option::<chrono::DateTime<Utc>>::None;
    let updated = change(Event::Retry, run.id)
        .col_expr(job_run::Column::MaxAttempts, Expr::value(max_attempts))
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            job_run::Column::ErrorMessage,
            Expr::value(Option::<String>::None),
        )
        .col_expr(job_run::Column::CancelRequested, Expr::value(false))
        .col_expr(job_run::Column::Announced, Expr::value(false))
        .col_expr(job_run::Column::FinishedAt, Expr::value(none_time))
        .col_expr(job_run::Column::NextAttemptAt, Expr::value(none_time))
        .col_expr(job_run::Column::DiscardedAt, Expr::value(none_time))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Revision.eq(run.revision))
        .exec(db)
        .await;
    match updated {
        Ok(r) if r.rows_affected == 1 => {}
        Ok(_) => {
            let now = find(db, run.id).await?.unwrap_or(run);
            return Ok(RetryOutcome::NotRetryable(now));
        }
        // The partial unique index on active lock keys: a sync of the same account and
        // resource is queued or running.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(RetryOutcome::Locked(run));
        }
        Err(e) => return Err(e.into()),
    }
    let queued = find(db, run.id)
        .await?
        .ok_or(DbErr::RecordNotFound(run.id.to_string()))?;
    let dispatched = dispatch(db, queue, queued, std::time::Duration::ZERO).await?;
    if let Some(parent) = dispatched.parent_id {
        // The parent is what subscribers hear about: it will end again.
        job_run::Entity::update_many()
            .col_expr(job_run::Column::Announced, Expr::value(false))
            .filter(job_run::Column::Id.eq(parent))
            .exec(db)
            .await?;
        refresh_parent(db, parent).await?;
    }
    Ok(RetryOutcome::Retried(dispatched))
}

/// Takes a dead or failed run off the dead-letter list; false if it is not one.
pub async fn discard(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    let r = change(Event::Discard, id)
        .col_expr(job_run::Column::DiscardedAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Which dead letters a bulk retry takes.
#[derive(Clone, Debug, Default)]
pub struct DeadFilter {
    pub kind: Option<JobKind>,
    pub account: Option<String>,
    pub error_category: Option<crate::error::ErrorCategory>,
    /// `dead` (default) or `failed`.
    pub status: Option<RunStatus>,
}

/// What a bulk retry did.
#[derive(Debug, Default)]
pub struct RetriedMany {
    pub retried: Vec<Uuid>,
    /// Syncs whose account and resource have another sync active.
    pub locked: Vec<Uuid>,
}

impl DeadFilter {
    /// The open dead letters (not discarded) this filter takes.
    pub fn select(&self) -> sea_orm::Select<job_run::Entity> {
        let mut q = job_run::Entity::find()
            .filter(job_run::Column::Status.eq(self.status.unwrap_or(RunStatus::Dead)))
            .filter(job_run::Column::DiscardedAt.is_null());
        if let Some(kind) = self.kind {
            q = q.filter(job_run::Column::Kind.eq(kind));
        }
        if let Some(account) = &self.account {
            q = q.filter(job_run::Column::Account.eq(account.as_str()));
        }
        if let Some(category) = self.error_category {
            q = q.filter(job_run::Column::ErrorCategory.eq(category));
        }
        q
    }
}

/// How many open dead letters match `filter`.
pub async fn count_dead(db: &DatabaseConnection, filter: &DeadFilter) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    filter.select().count(db).await
}

/// The ids of up to `limit` open dead letters matching `filter`, oldest first.
async fn dead_ids(
    db: &DatabaseConnection,
    filter: &DeadFilter,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    filter
        .select()
        .select_only()
        .column(job_run::Column::Id)
        .order_by_asc(job_run::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Retries up to `limit` dead letters matching `filter`, oldest first; a discarded run
/// is not taken.
pub async fn retry_many(
    db: &DatabaseConnection,
    queue: &Queue,
    filter: &DeadFilter,
    limit: u64,
    policy: Policy,
) -> Result<RetriedMany, RunsError> {
    let mut out = RetriedMany::default();
    for id in dead_ids(db, filter, limit).await? {
        match retry(db, queue, id, policy).await? {
            RetryOutcome::Retried(_) => out.retried.push(id),
            RetryOutcome::Locked(_) => out.locked.push(id),
            RetryOutcome::NotRetryable(_) | RetryOutcome::NotFound => {}
        }
    }
    Ok(out)
}

/// Discards up to `limit` dead letters matching `filter`, oldest first; returns their ids.
pub async fn discard_many(
    db: &DatabaseConnection,
    filter: &DeadFilter,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let mut out = Vec::new();
    for id in dead_ids(db, filter, limit).await? {
        // One conditional update each: a run retried meanwhile is left alone.
        if discard(db, id).await? {
            out.push(id);
        }
    }
    Ok(out)
}
