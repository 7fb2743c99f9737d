//! API keys: created with an expiry and client networks, listed with their last use,
//! rotated with a grace period, revoked; the audit log lists every change.

use serde_json::{Value, json};
use tests::TestApp;

async fn create(app: &TestApp, body: Value) -> (u16, Value) {
    app.client
        .post("/api/v1/keys", Some(&app.admin), &body)
        .await
}

async fn works(app: &TestApp, key: &str) -> bool {
    let (status, _) = app.client.get("/api/v1/runs?limit=1", Some(key)).await;
    assert!(status == 200 || status == 401, "{status}");
    status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_rotate_revoke_and_are_audited() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    for (body, field) in [
        (json!({"name": "x", "role": "owner"}), "role"),
        (json!({"name": "", "role": "viewer"}), "name"),
        (
            json!({"name": "x", "role": "viewer", "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "role": "viewer", "allowed_cidrs": ["10.0.0.0/8", "nonsense"]}),
            "allowed_cidrs[1]",
        ),
    ] {
        let (status, answer) = create(&app, body).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (422, Some(field)),
            "{answer}"
        );
    }

    // Networks: a key for 10.0.0.0/8 is refused from 127.0.0.1; one for 127.0.0.1 works.
    let (_, far) = create(
        &app,
        json!({"name": "office", "role": "viewer", "allowed_cidrs": ["10.0.0.0/8"]}),
    )
    .await;
    assert!(!works(&app, far["key"].as_str().expect("key")).await);
    let (status, near) = create(
        &app,
        json!({"name": "dashboard", "role": "viewer", "allowed_cidrs": ["127.0.0.1"]}),
    )
    .await;
    assert_eq!(status, 201, "{near}");
    let near_key = near["key"].as_str().expect("key").to_owned();
    assert!(works(&app, &near_key).await);

    // Rotation: the new key works, and so does the old one during its grace.
    let id = near["id"].as_str().expect("id").to_owned();
    let (status, rotated) = app
        .client
        .post(
            &format!("/api/v1/keys/{id}/rotate"),
            Some(&app.admin),
            &json!({"grace_seconds": 3600}),
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    let new_key = rotated["key"].as_str().expect("key").to_owned();
    assert_ne!(new_key, near_key);
    assert_eq!(rotated["allowed_cidrs"], json!(["127.0.0.1/32"]));
    assert!(works(&app, &new_key).await && works(&app, &near_key).await);
    // Without grace the old key stops at once.
    let new_id = rotated["id"].as_str().expect("id").to_owned();
    let (_, again) = app
        .client
        .post(
            &format!("/api/v1/keys/{new_id}/rotate"),
            Some(&app.admin),
            &json!({"grace_seconds": 0}),
        )
        .await;
    assert!(!works(&app, &new_key).await, "rotated with no grace");
    let newest = again["key"].as_str().expect("key").to_owned();
    assert!(works(&app, &newest).await);

    // Revoked: stops at once in this process.
    let newest_id = again["id"].as_str().expect("id").to_owned();
    let (status, revoked) = app
        .client
        .post(
            &format!("/api/v1/keys/{newest_id}/revoke"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["state"], "revoked");
    assert!(!works(&app, &newest).await);

    // The listing shows states and last use, never a key or its hash.
    let (status, list) = app.client.get("/api/v1/keys", Some(&app.admin)).await;
    assert_eq!(status, 200);
    let text = list.to_string();
    assert!(!text.contains(&newest) && !text.contains("hash"), "{text}");
    let by_id = |id: &str| {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|k| k["id"] == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_id(&id)["state"], "active", "in its grace");
    assert!(by_id(&id)["last_used_at"].is_string());
    assert_eq!(by_id(&new_id)["state"], "expired");
    let (status, _) = app.client.get("/api/v1/keys", Some(&app.viewer)).await;
    assert_eq!(status, 403);

    // The last working admin key cannot be revoked.
    let admins: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|k| k["role"] == "admin" && k["state"] == "active")
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(admins.len(), 1, "{list}");
    let (status, answer) = app
        .client
        .post(
            &format!("/api/v1/keys/{}/revoke", admins[0]),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{answer}");

    // The audit log, filtered by action prefix.
    let (status, audit) = app
        .client
        .get("/api/v1/audit?action=api_key.&limit=50", Some(&app.admin))
        .await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for want in ["api_key.create", "api_key.rotate", "api_key.revoke"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    assert!(
        actions.iter().all(|a| a.starts_with("api_key.")),
        "{actions:?}"
    );
    let (status, _) = app.client.get("/api/v1/audit", Some(&app.viewer)).await;
    assert_eq!(status, 403);
    let (status, answer) = app
        .client
        .get("/api/v1/audit?limit=0", Some(&app.admin))
        .await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("limit")));
    // The actions are a fixed set: a name outside it is a mistake, not an empty page.
    for unknown in ["api_key.burn", "nothing."] {
        let (status, answer) = app
            .client
            .get(&format!("/api/v1/audit?action={unknown}"), Some(&app.admin))
            .await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (422, Some("action")),
            "{unknown}"
        );
    }
    app.shutdown().await;
}
