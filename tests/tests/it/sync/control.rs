//! Control over running syncs: a killed worker process, a cancelled parent.

use std::time::Duration;

use entity::offer;
use jobs::emag::sim::Faults;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tests::{Backend, TestApp, sim_dump};

use super::{children, finish, id_of, simulator, start_sync};

/// A worker OS process killed (-9) mid-sync: another process takes the run over and
/// resumes after the last committed page; the data ends exact, with no duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_resumes_sync_from_its_checkpoint() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        tests::Options {
            worker: false,
            lease_secs: 3,
            ..tests::Options::default()
        },
    )
    .await;
    // 60 pages at eMAG's 3 requests/s: about 20 s, time enough to kill it half-way.
    let sim = simulator(6_000, 10, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let env = app.process_env();
    let mut doomed = tests::process::spawn(&["worker"], &env);
    let run = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    app.wait_run(run, Duration::from_secs(60), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    doomed.kill().await.expect("kill -9");

    let mut survivor = tests::process::spawn(&["worker"], &env);
    let done = finish(&app, run).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["attempt"], 2, "{done:#}");
    let events = app.events(run).await;
    let resumed_at: u32 = events
        .iter()
        .find_map(|e| e.strip_prefix("resuming offers at page "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume line: {events:#?}"));
    assert!(resumed_at > 5, "resumed at page {resumed_at}");
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
    let stored = offer::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(stored, 6_000);
    let want = sim_dump(&sim, "main", "offers").await;
    let have = offer::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("offers");
    let want_ids: std::collections::BTreeSet<i64> = want.iter().map(id_of).collect();
    let have_ids: std::collections::BTreeSet<i64> = have.iter().map(|o| o.emag_id).collect();
    assert_eq!(want_ids, have_ids);

    tests::process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
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
