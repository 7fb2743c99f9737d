//! Graceful shutdown with a job in flight: it completes within the grace period, or it
//! checkpoints, goes back to the queue and is resumed by the next worker. Never lost.

use std::time::Duration;

use serde_json::json;
use tests::{Backend, Options, TestApp, WorkerHandle};

both!(
    in_flight_job_is_handed_back_and_resumed,
    handed_back_and_resumed
);
both!(in_flight_job_completes_within_grace, completes_within_grace);

async fn handed_back_and_resumed(backend: Backend) {
    let mut app = TestApp::spawn_with(
        backend,
        Options {
            shutdown_grace_secs: 0,
            ..Options::default()
        },
    )
    .await;
    let id = app.start_ping(json!({ "steps": 60, "step_ms": 100 })).await;
    app.wait_run(id, Duration::from_secs(20), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) >= 5
    })
    .await;

    app.worker
        .take()
        .expect("worker")
        .shutdown()
        .await
        .expect("worker exits cleanly");
    let handed_back = app.run(id).await;
    assert_eq!(handed_back["status"], "queued", "{handed_back}");
    let step = handed_back["checkpoint"]["step"]
        .as_i64()
        .expect("checkpoint saved");
    assert!((5..60).contains(&step), "checkpoint {step}");

    app.worker = Some(WorkerHandle::start(app.ctx.clone()));
    let run = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["progress"]["processed"], 60);
    // A hand-back does not use up an attempt.
    assert_eq!(run["attempt"], 1);
    let events = app.events(id).await;
    assert!(
        events.iter().any(|e| e.contains("handed back")),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| e.starts_with("resuming after step")),
        "{events:#?}"
    );
    app.shutdown().await;
}

async fn completes_within_grace(backend: Backend) {
    let mut app = TestApp::spawn_with(
        backend,
        Options {
            shutdown_grace_secs: 30,
            ..Options::default()
        },
    )
    .await;
    let id = app.start_ping(json!({ "steps": 10, "step_ms": 100 })).await;
    app.wait_run(id, Duration::from_secs(20), |r| r["status"] == "running")
        .await;
    app.worker
        .take()
        .expect("worker")
        .shutdown()
        .await
        .expect("worker exits cleanly");
    // The worker returned only after the job finished.
    let run = app.run(id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["progress"]["processed"], 10);
    app.shutdown().await;
}
