//! What an eMAG callback starts: a sync run that reads the one order it names, and
//! acknowledges it when the account has `auto_acknowledge` and the order is new.

use std::time::Duration;

use entity::{emag_account, job_run};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::{JobContext, error::SubmitError, kind::JobKind, registry, submit};

/// Queues the read of order `order_id` of `account`, to start after `delay`: the run.
pub async fn order_called(
    ctx: &JobContext,
    account: &emag_account::Model,
    order_id: u64,
    delay: Duration,
) -> Result<Uuid, SubmitError> {
    let params = json!({
        "accounts": [account.name],
        "resource": "orders",
        "order_ids": [order_id],
        "acknowledge": account.auto_acknowledge,
    });
    let created = registry::insert_runs(JobKind::Sync, &ctx.db, &ctx.db, &params, None).await?;
    let run = submit::dispatch_all_after(&ctx.db, &ctx.queue, created, delay).await?;
    Ok(run.id)
}

/// Whether the run has not started yet: a read that will still see eMAG's latest.
pub async fn not_started(db: &DatabaseConnection, run: Uuid) -> Result<bool, DbErr> {
    Ok(job_run::Entity::find_by_id(run)
        .one(db)
        .await?
        .is_some_and(|r| r.status == job_run::RunStatus::Queued && r.started_at.is_none()))
}
