//! The document tells the truth: an optional field is optional, not nullable, so `null`
//! is refused with 422 naming it (schemathesis' coverage phase, run by `api_fuzz`, found
//! `{"account": null}` accepted by `POST /api/v1/runs/retry`).

use serde_json::json;
use tests::{Backend, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_is_not_an_absent_field() {
    let app = TestApp::spawn_with(Backend::Sqlite, Options::no_worker()).await;
    for (path, body, field) in [
        ("/api/v1/runs/retry", json!({ "account": null }), "account"),
        ("/api/v1/runs/retry", json!({ "limit": null }), "limit"),
        (
            "/api/v1/runs",
            json!({ "kind": "ping", "max_attempts": null }),
            "max_attempts",
        ),
        (
            "/api/v1/keys",
            json!({ "name": "k", "role": "viewer", "expires_at": null }),
            "expires_at",
        ),
    ] {
        let (s, err) = app.client.post(path, Some(&app.admin), &body).await;
        assert_eq!(
            (s, err["field"].as_str()),
            (422, Some(field)),
            "{path} {body}: {err}"
        );
    }
    // Absent stays fine.
    let (s, answer) = app
        .client
        .post("/api/v1/runs/retry", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(s, 200, "{answer}");
    app.shutdown().await;
}
