//! A long eMAG outage: a run waits (paused, no attempt used) until
//! `MAGFLOW_EMAG_MAX_PAUSE`, then fails with `emag_unavailable` and its subscribers are
//! told; the status report says since when eMAG has been failing for the account, until
//! a retry finds eMAG back and the outage is over.

use std::time::Duration;

use jobs::emag::sim::Faults;
use serde_json::json;
use tests::{Backend, Options, TestApp, sim_admin};

use super::{finish, simulator, start_sync};

both!(
    a_long_outage_fails_the_run_and_says_since_when,
    a_long_outage_fails_the_run_and_says_since_when
);

async fn unreachable_since(app: &TestApp) -> serde_json::Value {
    let (status, report) = app
        .client
        .get("/api/v1/status?account=main", Some(&app.viewer))
        .await;
    assert_eq!(status, 200, "{report}");
    report["accounts"][0]["emag_unreachable_since"].clone()
}

async fn a_long_outage_fails_the_run_and_says_since_when(backend: Backend) {
    let opts = Options {
        emag_max_pause: Duration::from_secs(4),
        breaker_cooldown_secs: 1,
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, opts).await;
    let sim = simulator(30, 0, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let (status, sub) = app
        .client
        .post(
            "/api/v1/notifications",
            Some(&app.admin),
            &json!({ "recipients": ["ops@example.com"], "kinds": "all", "on": "failure" }),
        )
        .await;
    assert_eq!(status, 201, "{sub}");
    assert!(unreachable_since(&app).await.is_null());

    sim_admin(
        &sim,
        "outage",
        &json!({ "login": "main", "seconds": 3600.0 }),
    )
    .await;
    let run = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    let failed = finish(&app, run).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(
        failed["error"]["category"], "emag_unavailable",
        "{failed:#}"
    );
    let message = failed["error"]["message"].as_str().expect("message");
    assert!(message.contains("MAGFLOW_EMAG_MAX_PAUSE (4s)"), "{message}");
    assert_eq!(failed["attempt"], 1, "pauses used no attempt: {failed:#}");
    let since = unreachable_since(&app).await;
    assert!(since.is_string(), "{since}");
    // The notification is queued just after the end is recorded, not with it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, notes) = app
            .client
            .get("/api/v1/runs?kind=notification", Some(&app.viewer))
            .await;
        let queued = notes["items"].as_array().map(Vec::len);
        if queued == Some(1) {
            break;
        }
        assert!(
            queued == Some(0) && std::time::Instant::now() < deadline,
            "the subscriber is told once: {notes}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // eMAG is back: a retry completes, and the outage is over.
    sim_admin(&sim, "outage", &json!({ "login": "main", "seconds": 0.0 })).await;
    let (status, _) = app
        .client
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let done = finish(&app, run).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    // The report is cached for 2 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !unreachable_since(&app).await.is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "the outage never ended"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.shutdown().await;
}
