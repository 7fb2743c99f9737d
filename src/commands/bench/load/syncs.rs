//! Keeps S syncs running for the measured phase.

use std::time::Duration;

use entity::job_run;
use jobs::JobKind;
use sea_orm::EntityTrait;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Shared, lock, start};

/// Keeps `target` syncs running: each (account, resource) is started again when it ends.
pub(super) struct SyncKeeper {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Kept>,
}

#[derive(Default)]
pub(super) struct Kept {
    pub(super) fewest_running: usize,
    pub(super) completed: u64,
    pub(super) items: i64,
    pub(super) errors: Vec<String>,
}

impl SyncKeeper {
    pub(super) async fn start(
        ctx: jobs::JobContext,
        accounts: &[String],
        target: usize,
        followed: Shared<Vec<Uuid>>,
    ) -> anyhow::Result<SyncKeeper> {
        let slots: Vec<(String, &str)> = accounts
            .iter()
            .flat_map(|a| [(a.clone(), "offers"), (a.clone(), "orders")])
            .take(target)
            .collect();
        let mut running = Vec::new();
        for (account, resource) in &slots {
            running.push(start_sync(&ctx, account, resource).await?);
        }
        lock(&followed).extend(running.iter().copied());
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut kept = Kept {
                fewest_running: slots.len(),
                ..Kept::default()
            };
            while !token.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let mut active = 0;
                for (slot, (account, resource)) in slots.iter().enumerate() {
                    let run = match job_run::Entity::find_by_id(running[slot])
                        .one(&ctx.db)
                        .await
                    {
                        Ok(Some(run)) => run,
                        Ok(None) => continue,
                        Err(e) => {
                            kept.errors
                                .push(format!("reading sync {}: {e}", running[slot]));
                            continue;
                        }
                    };
                    if !run.status.is_terminal() {
                        active += 1;
                        continue;
                    }
                    if run.status != job_run::RunStatus::Succeeded {
                        kept.errors.push(format!(
                            "sync {} ({account} {resource}) ended {}: {:?}",
                            run.id,
                            run.status.as_str(),
                            run.error_message
                        ));
                    }
                    kept.completed += 1;
                    kept.items += run.processed;
                    match start_sync(&ctx, account, resource).await {
                        Ok(id) => {
                            running[slot] = id;
                            lock(&followed).push(id);
                            active += 1;
                        }
                        Err(e) => kept.errors.push(format!("starting a sync: {e}")),
                    }
                }
                kept.fewest_running = kept.fewest_running.min(active);
            }
            kept
        });
        Ok(SyncKeeper { stop, task })
    }

    pub(super) async fn stop(self) -> Kept {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

async fn start_sync(ctx: &jobs::JobContext, account: &str, resource: &str) -> anyhow::Result<Uuid> {
    start(
        ctx,
        JobKind::Sync,
        json!({ "accounts": [account], "resource": resource }),
    )
    .await
}
