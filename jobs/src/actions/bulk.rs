//! A bulk update accepted from the API or the console alike: checked, stored with its
//! run, queued, and audited with the operator as actor.

use entity::job_run;

use crate::{
    JobContext,
    bulk_update::{self, RawItem},
    error::SubmitError,
};

/// Checks `items` (every problem at once), stores them with a new run and queues it.
pub async fn accept(
    ctx: &JobContext,
    items: &[RawItem],
    source: &str,
    max_attempts: Option<u32>,
    actor: &str,
) -> Result<job_run::Model, SubmitError> {
    let run = bulk_update::accept(&ctx.db, &ctx.queue, items, max_attempts).await?;
    let details = serde_json::json!({
        "kind": "bulk_update",
        "source": source,
        "items": items.len(),
    });
    super::audit_created(ctx, actor, run.id, details).await?;
    Ok(run)
}
