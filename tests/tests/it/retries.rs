//! magflow's retry policy: transient failures retried with backoff, then `dead`;
//! permanent failures and panics fail at once; timeouts count as attempts.

use std::time::Duration;

use serde_json::json;
use tests::{Backend, Options, TestApp};

both!(retried_then_dead, retried_then_dead);
both!(retried_then_succeeds, retried_then_succeeds);
both!(permanent_is_not_retried, permanent_is_not_retried);
both!(panic_fails_only_its_run, panic_fails_only_its_run);
both!(timeout_is_an_attempt, timeout_is_an_attempt);

async fn retried_then_dead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .start_run(
            json!({ "kind": "ping", "params": { "steps": 3, "fail_at": 2 }, "max_attempts": 3 }),
        )
        .await;
    let run = app
        .wait_status(id, &["dead"], Duration::from_secs(40))
        .await;
    // Exactly the policy's attempts (apalis alone would retry 25 times, docs/stack-notes.md §5.2).
    assert_eq!(run["attempt"], 3);
    assert_eq!(run["error"]["category"], "transient");
    assert!(
        run["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("step 2")
    );
    let events = app.events(id).await;
    assert_eq!(
        events.iter().filter(|e| e.contains("retrying in")).count(),
        2,
        "{events:#?}"
    );
    assert_eq!(
        events.iter().filter(|e| e.contains("started on")).count(),
        3,
        "{events:#?}"
    );
    // And it stays dead: no fourth attempt turns up.
    let still = app.run(id).await;
    assert_eq!(still["attempt"], 3);
    app.shutdown().await;
}

async fn retried_then_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .start_ping(json!({ "steps": 2, "fail_at": 1, "fail_times": 1 }))
        .await;
    let run = app
        .wait_status(
            id,
            &["succeeded", "dead", "failed"],
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["attempt"], 2);
    app.shutdown().await;
}

async fn permanent_is_not_retried(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app
        .start_ping(json!({ "steps": 2, "fail_at": 1, "fail_permanent": true }))
        .await;
    let run = app
        .wait_status(
            id,
            &["failed", "dead", "succeeded"],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["attempt"], 1);
    assert_eq!(run["error"]["category"], "permanent");
    app.shutdown().await;
}

async fn panic_fails_only_its_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bad = app.start_ping(json!({ "steps": 2, "panic_at": 1 })).await;
    let run = app
        .wait_status(
            bad,
            &["failed", "dead", "succeeded"],
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["error"]["category"], "panic");
    // The worker survived and keeps working.
    let good = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(good, &["succeeded"], Duration::from_secs(20))
        .await;
    app.shutdown().await;
}

async fn timeout_is_an_attempt(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            attempt_timeout_secs: Some(1),
            ..Options::default()
        },
    )
    .await;
    let id = app
        .start_run(
            json!({ "kind": "ping", "params": { "steps": 5, "step_ms": 1000 }, "max_attempts": 2 }),
        )
        .await;
    // apalis would leave a timed-out job "Running" in its dead set (docs/stack-notes.md §5.3); the run
    // row must end instead, and never stay running.
    let run = app
        .wait_status(
            id,
            &["dead", "succeeded", "failed"],
            Duration::from_secs(40),
        )
        .await;
    assert_eq!(run["status"], "dead");
    assert_eq!(run["attempt"], 2);
    assert_eq!(run["error"]["category"], "timeout");
    app.shutdown().await;
}
