//! eMAG accounts: CRUD with roles and validation, sealed passwords, the credential check,
//! and the start-up rule for the sealing key.

use std::time::Duration;

use entity::emag_account;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{Backend, Options, TestApp, process};

both!(crud_and_check, crud_and_check);

async fn crud_and_check(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let sim = tests::quick_simulator(5, 5).await;
    let c = &app.client;
    let body = json!({ "name": "main", "kind": "main", "base_url": sim.base_url, "username": "main", "password": "main-secret" });

    let (s, _) = c.post("/api/v1/accounts", Some(&app.viewer), &body).await;
    assert_eq!(s, 403);
    let (s, created) = c.post("/api/v1/accounts", Some(&app.admin), &body).await;
    assert_eq!(s, 201, "{created}");
    assert!(created.get("password").is_none() && !created.to_string().contains("main-secret"));
    let (s, dup) = c.post("/api/v1/accounts", Some(&app.admin), &body).await;
    assert_eq!(s, 409, "{dup}");

    for (patch, field) in [
        (
            json!({ "base_url": "http://marketplace.example.com/api-3" }),
            "base_url",
        ),
        (json!({ "base_url": "ftp://127.0.0.1/x" }), "base_url"),
        (json!({ "platform": "de" }), "platform"),
        (json!({ "kind": "both" }), "kind"),
        (json!({ "name": "Main Account" }), "name"),
        (json!({ "password": "" }), "password"),
    ] {
        let mut bad = body.clone();
        bad["name"] = json!("other");
        for (k, v) in patch.as_object().expect("object") {
            bad[k] = v.clone();
        }
        let (s, err) = c.post("/api/v1/accounts", Some(&app.admin), &bad).await;
        assert_eq!(s, 422, "{patch}: {err}");
        assert_eq!(err["field"], field, "{err}");
    }
    let (s, err) = c
        .post(
            "/api/v1/accounts",
            Some(&app.admin),
            &json!({ "name": "x", "kind": "main", "username": "u", "password": "p" }),
        )
        .await;
    assert_eq!((s, err["field"].as_str()), (422, Some("platform")), "{err}");
    let mut ro = body.clone();
    ro["name"] = json!("ro-shop");
    ro.as_object_mut().expect("object").remove("base_url");
    ro["platform"] = json!("ro");
    let (s, ro_account) = c.post("/api/v1/accounts", Some(&app.admin), &ro).await;
    assert_eq!(s, 201);
    assert_eq!(
        ro_account["base_url"],
        "https://marketplace-api.emag.ro/api-3"
    );

    // Stored sealed.
    let rows = emag_account::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("rows");
    assert!(rows.iter().all(
        |r| r.password_sealed.starts_with("v2:") && !r.password_sealed.contains("main-secret")
    ));

    let (s, list) = c.get("/api/v1/accounts", Some(&app.viewer)).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(app.check_account("main").await["status"], "ok");
    let (s, _) = c
        .post("/api/v1/accounts/main/check", Some(&app.viewer), &json!({}))
        .await;
    assert_eq!(s, 403);

    let (s, updated) = app
        .client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "password": "wrong" }),
        )
        .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(app.check_account("main").await["status"], "bad_credentials");
    app.client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "password": "main-secret" }),
        )
        .await;
    tests::sim_admin(
        &sim,
        "ip-block",
        &json!({ "login": "main", "blocked": true }),
    )
    .await;
    assert_eq!(
        app.check_account("main").await["status"],
        "ip_not_whitelisted"
    );
    app.client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "base_url": "http://127.0.0.1:1/api-3", "password": "main-secret" }),
        )
        .await;
    assert_eq!(app.check_account("main").await["status"], "unreachable");

    let (s, _) = app
        .client
        .delete("/api/v1/accounts/main", Some(&app.viewer))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .client
        .delete("/api/v1/accounts/main", Some(&app.admin))
        .await;
    assert_eq!(s, 204);
    let (s, _) = c.get("/api/v1/accounts/main", Some(&app.viewer)).await;
    assert_eq!(s, 404);
    app.shutdown().await;
}

/// Sealed passwords exist ⇒ start-up needs the key that sealed them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_needs_the_right_key() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let body = json!({ "name": "main", "kind": "main", "platform": "ro", "username": "u", "password": "hunter2-password" });
    let (s, _) = app
        .client
        .post("/api/v1/accounts", Some(&app.admin), &body)
        .await;
    assert_eq!(s, 201);
    let mut env = app.process_env();
    env.push(("MAGFLOW_BIND".into(), "127.0.0.1:0".into()));
    for (key, expected) in [
        (None, "MAGFLOW_SECRET_KEY: not set"),
        (
            Some(jobs::secrets::SecretKey::generate_hex()),
            "MAGFLOW_SECRET_KEY: does not open",
        ),
    ] {
        let mut cmd = tokio::process::Command::new(process::magflow_bin());
        cmd.arg("run")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("MAGFLOW_SECRET_KEY");
        if let Some(k) = &key {
            cmd.env("MAGFLOW_SECRET_KEY", k);
        }
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("fails fast")
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(expected), "{stderr}");
        if let Some(k) = key {
            assert!(!stderr.contains(&k), "the key never appears");
        }
        assert!(!stderr.contains("hunter2-password"));
    }
    app.shutdown().await;
}
