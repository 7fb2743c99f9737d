//! Deleting an account stops its running sync at the next checkpoint (cancelled,
//! `account_deleted`) and takes its synced data with it: the same name created again
//! starts empty.

use std::time::Duration;

use entity::{offer, order, sync_state};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, TestApp};

both!(
    a_deleted_account_takes_its_runs_and_data,
    a_deleted_account_takes_its_runs_and_data
);

async fn rows(app: &TestApp) -> (u64, u64, u64) {
    let db = &app.ctx.db;
    (
        offer::Entity::find()
            .filter(offer::Column::Account.eq("main"))
            .count(db)
            .await
            .expect("offers"),
        order::Entity::find()
            .filter(order::Column::Account.eq("main"))
            .count(db)
            .await
            .expect("orders"),
        sync_state::Entity::find()
            .filter(sync_state::Column::Account.eq("main"))
            .count(db)
            .await
            .expect("bookmarks"),
    )
}

async fn a_deleted_account_takes_its_runs_and_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(3000, 200).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let first = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "orders" } }),
        )
        .await;
    app.wait_status(first, &["succeeded"], Duration::from_secs(60))
        .await;
    // Slow pages: the offers sync is still running when the account goes.
    tests::sim_admin(&sim, "faults", &json!({ "latency_ms": [150, 200] })).await;
    let run = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "offers" } }),
        )
        .await;
    app.wait_run(run, Duration::from_secs(60), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) > 0
    })
    .await;
    let (s, _) = app
        .client
        .delete("/api/v1/accounts/main", Some(&app.admin))
        .await;
    assert_eq!(s, 204);
    let ended = app.wait_ended(run, Duration::from_secs(60)).await;
    assert_eq!(ended["status"], "cancelled", "{ended:#}");
    assert_eq!(ended["error"]["category"], "account_deleted", "{ended:#}");
    assert_eq!(
        rows(&app).await,
        (0, 0, 0),
        "nothing of the account is left"
    );

    // Created again under the same name: it starts empty.
    app.add_account("main", &sim, "main", "main-secret").await;
    assert_eq!(rows(&app).await, (0, 0, 0));
    let (_, status) = app
        .client
        .get("/api/v1/status?account=main", Some(&app.viewer))
        .await;
    assert_eq!(status["accounts"][0]["offers"]["total"], 0, "{status}");
    app.shutdown().await;
}
