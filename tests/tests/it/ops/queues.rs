//! A paused queue accepts runs and holds them, without using an attempt, until resumed;
//! `/api/v1/queues` shows its depth and the oldest wait.

use std::time::Duration;

use serde_json::{Value, json};
use tests::TestApp;

async fn ping_queue(app: &TestApp) -> Value {
    let (status, list) = app.client.get("/api/v1/queues", Some(&app.viewer)).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|q| q["name"] == "ping")
        .cloned()
        .expect("ping queue")
}

both!(
    paused_queue_holds_runs_until_resumed,
    paused_queue_holds_runs_until_resumed
);

async fn paused_queue_holds_runs_until_resumed(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, paused) = app
        .client
        .post("/api/v1/queues/ping/pause", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);

    let ids = [
        app.start_ping(json!({ "steps": 2 })).await,
        app.start_ping(json!({ "steps": 2 })).await,
    ];
    // The worker gets their tasks and holds them: they stay queued, unstarted, and the
    // queue reports them waiting. (A wait is the only way to see nothing happen.)
    let until = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < until {
        for id in ids {
            let run = app.run(id).await;
            assert_eq!(run["status"], "queued", "{run}");
            assert_eq!(run["attempt"], 0, "{run}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let q = ping_queue(&app).await;
    assert_eq!(q["paused"], true);
    assert_eq!(q["depth"], 2, "{q}");
    assert!(
        q["oldest_waiting_seconds"].as_f64().expect("age") >= 1.0,
        "{q}"
    );

    let (status, _) = app
        .client
        .post("/api/v1/queues/ping/resume", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(status, 200);
    for id in ids {
        let run = app
            .wait_status(id, &["succeeded"], Duration::from_secs(30))
            .await;
        assert_eq!(run["attempt"], 1, "a held run used no attempt: {run}");
    }
    let q = ping_queue(&app).await;
    assert_eq!(
        (q["paused"].clone(), q["depth"].clone()),
        (json!(false), json!(0)),
        "{q}"
    );

    let (status, answer) = app
        .client
        .post("/api/v1/queues/nope/pause", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(status, 404, "{answer}");
    let (status, _) = app
        .client
        .post("/api/v1/queues/ping/pause", Some(&app.viewer), &json!({}))
        .await;
    assert_eq!(status, 403);
    app.shutdown().await;
}
