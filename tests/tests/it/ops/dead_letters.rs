//! Dead runs are listed with their error, retried from their checkpoint with a fresh set
//! of attempts (one, or many by filter), or discarded.

use std::time::Duration;

use entity::{job_run::ErrorCategory, run_event::AttemptOutcome};
use serde_json::json;
use tests::TestApp;
use uuid::Uuid;

/// A ping run that dies on its first attempt and would succeed on the second.
async fn dead_ping(app: &TestApp) -> Uuid {
    let id = app
        .start_run(
            json!({ "kind": "ping", "params": { "steps": 3, "fail_at": 2, "fail_times": 1 }, "max_attempts": 1 }),
        )
        .await;
    app.wait_status(id, &["dead"], Duration::from_secs(30))
        .await;
    id
}

async fn open_dead_letters(app: &TestApp) -> Vec<String> {
    let (status, page) = app
        .client
        .get(
            "/api/v1/runs?status=dead&discarded=false&kind=ping",
            Some(&app.viewer),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

both!(
    dead_letters_retry_and_discard,
    dead_letters_retry_and_discard
);

async fn dead_letters_retry_and_discard(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let first = dead_ping(&app).await;
    let (_, run) = app
        .client
        .get(&format!("/api/v1/runs/{first}"), Some(&app.viewer))
        .await;
    assert_eq!(run["error"]["category"], "transient", "{run}");
    assert!(open_dead_letters(&app).await.contains(&first.to_string()));

    // Retried: the same run, queued again with attempts to spare; it succeeds.
    let (status, retried) = app
        .client
        .post(
            &format!("/api/v1/runs/{first}/retry"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{retried}");
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["max_attempts"], 4, "one used + the kind's 3");
    let done = app
        .wait_status(first, &["succeeded"], Duration::from_secs(30))
        .await;
    assert_eq!(done["attempt"], 2);
    assert_eq!(done["progress"]["processed"], 3);
    // Both attempts are in its history, each with how it ended and why.
    let attempts: Vec<_> = jobs::runs::attempts(&app.ctx.db, first)
        .await
        .expect("attempts")
        .into_iter()
        .map(|a| {
            (
                a.number,
                a.outcome,
                a.error_category,
                a.started_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        vec![
            (
                1,
                Some(AttemptOutcome::Dead),
                Some(ErrorCategory::Transient),
                true
            ),
            (2, Some(AttemptOutcome::Succeeded), None, true),
        ]
    );
    // Only ended, unsuccessful runs can be retried.
    let (status, answer) = app
        .client
        .post(
            &format!("/api/v1/runs/{first}/retry"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("conflict")),
        "{answer}"
    );
    let (status, _) = app
        .client
        .post(
            &format!("/api/v1/runs/{first}/retry"),
            Some(&app.viewer),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // Discarded: off the open list, still dead.
    let second = dead_ping(&app).await;
    let (status, discarded) = app
        .client
        .post(
            &format!("/api/v1/runs/{second}/discard"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{discarded}");
    assert_eq!(discarded["status"], "dead");
    assert!(discarded["discarded_at"].is_string(), "{discarded}");
    assert!(!open_dead_letters(&app).await.contains(&second.to_string()));
    let (status, _) = app
        .client
        .post(
            &format!("/api/v1/runs/{first}/discard"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "a succeeded run is no dead letter");

    // Many by filter: every open dead ping, not the discarded one.
    let (a, b) = (dead_ping(&app).await, dead_ping(&app).await);
    let (status, many) = app
        .client
        .post(
            "/api/v1/runs/retry",
            Some(&app.admin),
            &json!({ "kind": "ping", "error_category": "transient" }),
        )
        .await;
    assert_eq!(status, 200, "{many}");
    let mut retried: Vec<&str> = many["retried"]
        .as_array()
        .expect("retried")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    retried.sort_unstable();
    let mut want = [a.to_string(), b.to_string()];
    want.sort();
    assert_eq!(retried, want);
    for id in [a, b] {
        app.wait_status(id, &["succeeded"], Duration::from_secs(30))
            .await;
    }
    let (status, answer) = app
        .client
        .post(
            "/api/v1/runs/retry",
            Some(&app.admin),
            &json!({ "status": "running" }),
        )
        .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (422, Some("status")),
        "{answer}"
    );
    app.shutdown().await;
}
