//! Failure drills with real processes: servers restarted and workers killed under load.

mod killed_bulk;
mod killed_orders;
mod restarts;

use std::time::Duration;

use entity::job_run;
use sea_orm::EntityTrait;
use tests::TestApp;

/// Waits for the run to end; if it does not, names every run's state before failing, so a
/// stall says which run stopped where and who held it.
pub(super) async fn wait_ended(
    app: &TestApp,
    id: uuid::Uuid,
    deadline: Duration,
) -> serde_json::Value {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let run = app.run(id).await;
        if ["succeeded", "failed", "dead", "cancelled"]
            .contains(&run["status"].as_str().unwrap_or(""))
        {
            return run;
        }
        if tokio::time::Instant::now() > until {
            let runs = job_run::Entity::find()
                .all(&app.ctx.db)
                .await
                .expect("runs");
            for r in runs {
                eprintln!(
                    "run {} {:?} attempt {} worker {:?} heartbeat {:?} updated {} processed {} error {:?}",
                    r.id,
                    r.status,
                    r.attempt,
                    r.worker_id,
                    r.heartbeat_at,
                    r.updated_at,
                    r.processed,
                    r.error_message
                );
            }
            panic!("run {id} did not end in {deadline:?}: {run:#}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
