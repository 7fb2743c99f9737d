//! Client mistakes get 400/422 with the JSON error shape naming the field; never a 500.

use serde_json::{Value, json};
use tests::{Backend, Options, TestApp};

both!(client_mistakes, client_mistakes);

fn assert_error(status: u16, body: &Value, want_status: u16, want_field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "error shape: {body}"
    );
    if let Some(field) = want_field {
        assert_eq!(body["field"], field, "{body}");
    }
}

async fn client_mistakes(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let c = &app.client;
    let key = Some(app.admin.as_str());

    let (s, b) = c
        .post_raw("/api/v1/runs", key, "application/json", "{not json")
        .await;
    assert_error(s, &b, 400, None);
    let (s, b) = c
        .post_raw("/api/v1/runs", key, "application/json", "{}")
        .await;
    assert_error(s, &b, 422, Some("kind"));
    let (s, b) = c.post("/api/v1/runs", key, &json!({ "kind": 5 })).await;
    assert_error(s, &b, 422, Some("kind"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "priority": 5 }),
        )
        .await;
    assert_error(s, &b, 422, None);
    let (s, b) = c
        .post("/api/v1/runs", key, &json!({ "kind": "teleport" }))
        .await;
    assert_error(s, &b, 422, Some("kind"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "params": { "steps": "many" } }),
        )
        .await;
    assert_error(s, &b, 422, Some("params.steps"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "params": { "steps": 0 } }),
        )
        .await;
    assert_error(s, &b, 422, Some("params.steps"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "params": { "stpes": 3 } }),
        )
        .await;
    assert_error(s, &b, 422, Some("params.stpes"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "params": [1, 2] }),
        )
        .await;
    assert_error(s, &b, 422, Some("params"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "ping", "max_attempts": 0 }),
        )
        .await;
    assert_error(s, &b, 422, Some("max_attempts"));
    let (s, b) = c
        .post(
            "/api/v1/runs",
            key,
            &json!({ "kind": "sync", "params": { "accounts": [] } }),
        )
        .await;
    assert_error(s, &b, 422, Some("params.accounts"));
    let (s, b) = c
        .post("/api/v1/runs", key, &json!({ "kind": "sync" }))
        .await;
    assert_error(s, &b, 422, Some("params.accounts"));
    let (s, b) = c
        .post_raw("/api/v1/runs", key, "text/plain", "kind=ping")
        .await;
    assert!(s == 400 || s == 415, "{s} {b}");
    assert!(b["code"].is_string(), "{b}");

    let (s, b) = c.get("/api/v1/runs?status=finished", key).await;
    assert_error(s, &b, 422, Some("status"));
    let (s, b) = c.get("/api/v1/runs?limit=1000", key).await;
    assert_error(s, &b, 422, Some("limit"));
    let (s, b) = c.get("/api/v1/runs?limit=ten", key).await;
    assert_error(s, &b, 400, Some("limit"));
    let (s, b) = c.get("/api/v1/runs?cursor=zzz", key).await;
    assert_error(s, &b, 422, Some("cursor"));
    let (s, b) = c.get("/api/v1/runs/not-a-uuid", key).await;
    assert_error(s, &b, 400, Some("id"));
    let (s, b) = c
        .get(&format!("/api/v1/runs/{}", uuid::Uuid::now_v7()), key)
        .await;
    assert_error(s, &b, 404, None);
    let (s, b) = c.get("/api/v1/nothing-here", key).await;
    assert_error(s, &b, 404, None);

    // Nothing above created a run.
    let (s, page) = c.get("/api/v1/runs", key).await;
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(0), "{page}");
    app.shutdown().await;
}
