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
        let slots = slots(accounts, target);
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

/// Each (account, resource) the benchmark syncs.
fn slots(accounts: &[String], target: usize) -> Vec<(String, &'static str)> {
    accounts
        .iter()
        .flat_map(|a| [(a.clone(), "offers"), (a.clone(), "orders")])
        .take(target)
        .collect()
}

/// One sync of each slot, run to its end: the history both phases read (finished syncs
/// in the list and their detail, synced offers and orders), so that the phases differ by
/// the writes alone. Their ids.
pub(super) async fn history(
    ctx: &jobs::JobContext,
    accounts: &[String],
    target: usize,
) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for (account, resource) in slots(accounts, target) {
        ids.push(start_sync(ctx, &account, resource).await?);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    for id in &ids {
        loop {
            let run = job_run::Entity::find_by_id(*id).one(&ctx.db).await?;
            match run {
                Some(run) if run.status == job_run::RunStatus::Succeeded => break,
                Some(run) if run.status.is_terminal() => {
                    anyhow::bail!("history sync {id} ended {}", run.status.as_str())
                }
                _ => {}
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "history syncs not done in 600 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(ids)
}

async fn start_sync(ctx: &jobs::JobContext, account: &str, resource: &str) -> anyhow::Result<Uuid> {
    start(
        ctx,
        JobKind::Sync,
        json!({ "accounts": [account], "resource": resource }),
    )
    .await
}
