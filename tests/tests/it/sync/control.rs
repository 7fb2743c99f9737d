//! Control over running syncs: a killed worker process, a cancelled parent.

use std::time::Duration;

use entity::offer;
use jobs::emag::sim::Faults;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, TestApp, sim_dump};

use super::{
    children, finish, id_of, killed_and_resumed, offer_ids, simulator, start_sync, without_worker,
};

/// A worker OS process killed (-9) mid-sync: another process takes the run over and
/// resumes after the last committed page; the data ends exact, with no duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_resumes_sync_from_its_checkpoint() {
    let app = without_worker().await;
    // 60 pages at eMAG's 3 requests/s: about 20 s, time enough to kill it half-way.
    let sim = simulator(6_000, 10, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    // 37 offers stored by an earlier sync and deleted at eMAG since.
    let deleted = stored_but_deleted(&app, 37).await;
    let (done, mut survivor) = killed_and_resumed(&app, &app.process_env(), 5).await;
    // Pages of the killed attempt were not read again: one read per page, plus at most
    // the page in flight when the worker died.
    assert!(
        done["progress"]["pages_done"].as_i64().unwrap_or(0) <= 61,
        "{done:#}"
    );
    assert_eq!(
        done["progress"]["created"], 6_000,
        "each offer created once: {done:#}"
    );
    // The read of every page spans both attempts: exactly the 37 are removed, none of
    // the pages the killed attempt wrote.
    assert_eq!(offer_ids(&app, Some(true)).await, deleted);
    let stored = offer::Entity::find()
        .filter(offer::Column::RemovedAt.is_null())
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(stored, 6_000);
    let want = sim_dump(&sim, "main", "offers").await;
    let want_ids: std::collections::BTreeSet<i64> = want.iter().map(id_of).collect();
    assert_eq!(want_ids, offer_ids(&app, Some(false)).await);

    tests::process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}

/// `n` offers of account `main` as an earlier sync stored them, with ids eMAG does not
/// list (the simulator's start far above).
async fn stored_but_deleted(app: &TestApp, n: i64) -> std::collections::BTreeSet<i64> {
    let now = chrono::Utc::now() - chrono::Duration::days(1);
    let ids: std::collections::BTreeSet<i64> = (900_000_001..=900_000_000 + n).collect();
    let rows = ids.iter().map(|&id| offer::ActiveModel {
        account: Set("main".into()),
        emag_id: Set(id),
        part_number: Set(Some(format!("gone-{id}"))),
        part_number_key: Set(None),
        ean: Set(None),
        name: Set(Some("deleted at eMAG".into())),
        brand: Set(None),
        category_id: Set(None),
        sale_price: Set(None),
        recommended_price: Set(None),
        min_sale_price: Set(None),
        max_sale_price: Set(None),
        currency: Set(None),
        vat_id: Set(None),
        status: Set(Some(1)),
        validation_status: Set(None),
        offer_validation_status: Set(None),
        stock: Set(None),
        general_stock: Set(Some(1)),
        estimated_stock: Set(None),
        raw: Set(json!({})),
        content_hash: Set("old".into()),
        first_seen_at: Set(now),
        last_synced_at: Set(now),
        updated_at: Set(now),
        removed_at: Set(None),
        last_seen_run: Set(Some(uuid::Uuid::now_v7())),
    });
    offer::Entity::insert_many(rows)
        .exec(&app.ctx.db)
        .await
        .expect("earlier offers");
    ids
}

both!(
    cancelling_a_parent_stops_its_runs,
    cancelling_a_parent_stops_its_runs
);

/// Cancelling a multi-account sync cancels each of its runs, which stop at the next page
/// keeping what they wrote; the lock is free again at once.
async fn cancelling_a_parent_stops_its_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 40 pages per account at eMAG's 3 requests/s: long enough to cancel mid-way.
    let sim = simulator(4_000, 20, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("fbe", &sim, "fbe", "fbe-secret").await;
    let parent = start_sync(&app, json!({ "accounts": "all", "resource": "offers" })).await;
    app.wait_run(parent, Duration::from_secs(60), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= 4
    })
    .await;
    let (status, body) = app
        .client
        .post(
            &format!("/api/v1/runs/{parent}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let done = finish(&app, parent).await;
    assert_eq!(done["status"], "cancelled", "{done:#}");
    let children = children(&app, parent).await;
    for child in &children {
        assert_eq!(child["status"], "cancelled", "{child:#}");
    }
    let kept = offer::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert!(
        kept > 0 && kept < 8_000,
        "pages written before the cancel stay: {kept}"
    );
    // No sync is active any more: a new one is accepted.
    let again = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    assert_ne!(again, parent);
    app.shutdown().await;
}
