//! API keys: networks that do not parse deny, failed authentications are throttled per
//! address, the last admin key survives concurrent revocations, and a restart never mints
//! a fresh admin key for a database whose keys were all revoked.

use std::{process::Stdio, time::Duration};

use entity::api_key;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use tests::{Backend, Options, TestApp, process::magflow_in};

async fn create_key(app: &TestApp, by: &str, body: Value) -> (String, String) {
    let (s, created) = app.client.post("/api/v1/keys", Some(by), &body).await;
    assert_eq!(s, 201, "{created}");
    (
        created["key"].as_str().expect("key").to_owned(),
        created["id"].as_str().expect("id").to_owned(),
    )
}

async fn status_with(app: &TestApp, key: &str) -> u16 {
    app.client.get("/api/v1/runs", Some(key)).await.0
}

both!(unreadable_networks_deny, unreadable_networks_deny);
both!(last_admin_survives_races, last_admin_survives_races);

async fn unreadable_networks_deny(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let (key, id) = create_key(
        &app,
        &app.admin,
        json!({ "name": "dash", "role": "viewer", "allowed_cidrs": ["127.0.0.1"] }),
    )
    .await;
    assert_eq!(status_with(&app, &key).await, 200);
    api_key::Entity::update_many()
        .col_expr(
            api_key::Column::AllowedCidrs,
            Expr::value(json!(["not a network"])),
        )
        .filter(api_key::Column::Id.eq(uuid::Uuid::parse_str(&id).expect("id")))
        .exec(&app.ctx.db)
        .await
        .expect("update");
    // The API caches a working key for up to 2 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status_with(&app, &key).await != 401 {
        assert!(tokio::time::Instant::now() < deadline, "still accepted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.shutdown().await;
}

async fn last_admin_survives_races(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let admin = json!({ "name": "ops", "role": "admin" });
    let (mut a, mut a_id) = create_key(&app, &app.admin, admin.clone()).await;
    let setup_id = api_key::Entity::find()
        .filter(api_key::Column::Name.eq("test-admin"))
        .one(&app.ctx.db)
        .await
        .expect("read")
        .expect("test admin")
        .id;
    let (s, v) = app
        .client
        .post(
            &format!("/api/v1/keys/{setup_id}/revoke"),
            Some(&a),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for round in 0..10 {
        let (b, b_id) = create_key(&app, &a, admin.clone()).await;
        // Each revokes the other at the same moment: one of them must remain.
        let revoke = |by: &str, id: &str| {
            let (path, by) = (format!("/api/v1/keys/{id}/revoke"), by.to_owned());
            let client = &app.client;
            async move { client.post(&path, Some(&by), &json!({})).await.0 }
        };
        let (x, y) = tokio::join!(revoke(&a, &b_id), revoke(&b, &a_id));
        let now = chrono::Utc::now();
        let working = api_key::Entity::find()
            .filter(api_key::Column::Role.eq("admin"))
            .all(&app.ctx.db)
            .await
            .expect("keys")
            .iter()
            .filter(|k| jobs::api_keys::is_active(k, now))
            .count();
        assert_eq!(working, 1, "round {round}: answers {x} and {y}");
        assert!([x, y].contains(&200), "round {round}: {x} {y}");
        if x != 200 {
            (a, a_id) = (b, b_id);
        }
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_throttled_per_address() {
    let app = TestApp::spawn_with(Backend::Sqlite, Options::no_worker()).await;
    for i in 0..20 {
        let (s, _) = app
            .client
            .get("/api/v1/runs", Some(&format!("mf_guess{i:04}_wrong")))
            .await;
        assert_eq!(s, 401);
    }
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/runs", app.client.base))
        .bearer_auth("mf_guess9999_wrong")
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "too_many_requests", "{body}");
    // Even a good key waits out the minute from that address.
    assert_eq!(status_with(&app, &app.viewer).await, 429);
    let (_, metrics) = app.client.get_text("/metrics", None).await;
    assert!(
        metrics.contains(r#"magflow_api_auth_failures_total{outcome="refused"}"#),
        "{metrics}"
    );
    app.shutdown().await;
}

/// `magflow run` makes an admin key on the very first start only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_makes_no_key_when_all_were_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = || {
        magflow_in(dir.path())
            .arg("run")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let mut first = start();
    let startup = tests::process::read_startup(&mut first).await;
    assert!(startup.key.is_some(), "{}", startup.output);
    assert!(tests::process::stop(&mut first).await.success());

    let db = Database::connect(format!(
        "sqlite://{}/magflow-data/magflow.db",
        dir.path().display()
    ))
    .await
    .expect("open the database");
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .exec(&db)
        .await
        .expect("revoke all");
    db.close().await.expect("close");

    let mut second = start();
    let startup = tests::process::read_startup(&mut second).await;
    assert_eq!(startup.key, None, "{}", startup.output);
    assert!(
        startup.output.contains("magflow api-key create"),
        "{}",
        startup.output
    );
    assert!(tests::process::stop(&mut second).await.success());
}
