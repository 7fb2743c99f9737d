//! Cancelling queued and running runs.

use std::time::Duration;

use serde_json::json;
use tests::{Backend, Options, TestApp};

both!(cancel_running_and_queued, cancel_running_and_queued);

async fn cancel_running_and_queued(backend: Backend) {
    // No worker at first, so the run stays queued.
    let mut app = TestApp::spawn_with(
        backend,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let queued = app.start_ping(json!({ "steps": 3 })).await;
    let (status, body) = app
        .client
        .post(
            &format!("/api/v1/runs/{queued}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "cancelled");

    app.worker = Some(tests::WorkerHandle::start(app.ctx.clone()));
    let running = app.start_ping(json!({ "steps": 200, "step_ms": 50 })).await;
    app.wait_run(running, Duration::from_secs(20), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    let (status, body) = app
        .client
        .post(
            &format!("/api/v1/runs/{running}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["cancel_requested"], true);
    let run = app
        .wait_status(
            running,
            &["cancelled", "succeeded"],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(run["status"], "cancelled");
    let processed = run["progress"]["processed"].as_i64().unwrap_or(0);
    assert!(processed < 200, "stopped early, at {processed}");
    assert!(
        run["checkpoint"]["step"].as_i64().is_some(),
        "kept its checkpoint: {run}"
    );
    // The list is a summary: the run is in it, without the checkpoint.
    let (status, listed) = app
        .client
        .get("/api/v1/runs?kind=ping&limit=200", Some(&app.viewer))
        .await;
    assert_eq!(status, 200, "{listed}");
    let item = listed["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["id"] == run["id"]))
        .unwrap_or_else(|| panic!("run listed: {listed}"));
    assert_eq!(item["status"], "cancelled");
    assert!(item.get("checkpoint").is_none(), "{item}");

    // The cancelled queued run never ran, even with a worker now present.
    let still = app.run(queued).await;
    assert_eq!(still["status"], "cancelled");
    assert_eq!(still["attempt"], 0);

    // Cancelling an ended run is a conflict, an unknown one is 404.
    let (status, body) = app
        .client
        .post(
            &format!("/api/v1/runs/{running}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    let unknown = uuid::Uuid::now_v7();
    let (status, _) = app
        .client
        .post(
            &format!("/api/v1/runs/{unknown}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    app.shutdown().await;
}
