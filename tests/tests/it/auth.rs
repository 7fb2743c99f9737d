//! Keys and roles: 401 without a valid key, 403 for a viewer that tries to change things,
//! viewers read and stream; every mutation is audited.

use std::time::Duration;

use entity::audit_log;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{Backend, TestApp};

both!(keys_and_roles, keys_and_roles);

async fn keys_and_roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = &app.client;
    let body = json!({ "kind": "ping", "params": { "steps": 1 } });

    let (status, err) = c.get("/api/v1/runs", None).await;
    assert_eq!(status, 401);
    assert_eq!(err["code"], "unauthorized", "{err}");
    let (status, err) = c.get("/api/v1/runs", Some("mf_nope_notakey")).await;
    assert_eq!(status, 401);
    assert_eq!(err["code"], "unauthorized");
    let (status, _) = c.get("/api/v1/runs", Some("garbage")).await;
    assert_eq!(status, 401);
    let (status, _) = c.post("/api/v1/runs", None, &body).await;
    assert_eq!(status, 401);

    let (status, err) = c.post("/api/v1/runs", Some(&app.viewer), &body).await;
    assert_eq!(status, 403);
    assert_eq!(err["code"], "forbidden");

    let id = app.start_run(body.clone()).await;
    let (status, _) = c
        .get(&format!("/api/v1/runs/{id}"), Some(&app.viewer))
        .await;
    assert_eq!(status, 200);
    let (status, _) = c
        .post(
            &format!("/api/v1/runs/{id}/cancel"),
            Some(&app.viewer),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // Streams need a key too; a viewer's is enough.
    let (status, _) = c
        .sse(
            &format!("/api/v1/runs/{id}/events"),
            "mf_bad_key",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(status, 401);
    app.wait_status(id, &["succeeded"], Duration::from_secs(20))
        .await;
    let (status, events) = c
        .sse(
            &format!("/api/v1/runs/{id}/events"),
            &app.viewer,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(events.last().map(|(k, _)| k.as_str()), Some("end"));

    // Health needs no key.
    let (status, _) = c.get("/health", None).await;
    assert_eq!(status, 200);
    let (status, ready) = c.get("/ready", None).await;
    assert_eq!(status, 200, "{ready}");

    let audit = audit_log::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("audit rows");
    assert!(audit.iter().any(|a| a.action.as_str() == "run.create"
        && a.actor == "key:test-admin"
        && a.target == format!("run:{id}")));
    app.shutdown().await;
}
