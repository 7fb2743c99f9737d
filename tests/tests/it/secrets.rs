//! Secrets never leave: a whole account scenario against a real `magflow run` process,
//! then every API response and every log line it wrote are searched for the eMAG password
//! and the sealing key.

use std::{process::Stdio, time::Duration};

use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use serde_json::json;
use tests::{Client, process::magflow_bin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_keys_never_appear_in_responses_or_logs() {
    tests::install_tls_provider();
    let password = "Parola-Foarte-Secreta-731";
    let key = jobs::secrets::SecretKey::generate_hex();
    let sim = Simulator::start(
        SimConfig {
            offers: 5,
            orders: 5,
            limits: LimitMode::Off,
            logins: vec![jobs::emag::sim::SimLogin {
                username: "shop".into(),
                password: password.into(),
                fbe: false,
            }],
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("dir");
    let log_path = dir.path().join("magflow.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let mut child = tokio::process::Command::new(magflow_bin())
        .arg("run")
        .current_dir(dir.path())
        .env("MAGFLOW_BIND", "127.0.0.1:0")
        .env("MAGFLOW_SECRET_KEY", &key)
        .env("MAGFLOW_LOG", "debug")
        .env("MAGFLOW_EMAG_HTTP_HOSTS", r#"["127.0.0.1"]"#)
        .env_remove("MAGFLOW_DATABASE_URL")
        .env_remove("MAGFLOW_QUEUE_URL")
        .stdout(Stdio::piped())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let startup = tests::process::read_startup(&mut child).await;
    let stdout_text = startup.output;
    let (c, admin) = (Client::new(startup.base), startup.key.expect("key"));
    let key_ref = Some(admin.as_str());

    let mut bodies = Vec::new();
    let account = json!({ "name": "shop", "kind": "main", "base_url": sim.base_url, "username": "shop", "password": password });
    for (path, body) in [
        ("/api/v1/accounts", account.clone()),
        ("/api/v1/accounts", account.clone()),
        ("/api/v1/accounts/shop/check", json!({})),
        (
            "/api/v1/accounts",
            json!({ "name": "bad", "kind": "main", "base_url": "http://example.com", "username": "u", "password": password }),
        ),
        (
            "/api/v1/accounts",
            json!({ "name": "bad", "kind": "main", "base_url": sim.base_url, "username": "u", "password": password, "extra": password }),
        ),
    ] {
        bodies.push(c.post(path, key_ref, &body).await.1.to_string());
    }
    bodies.push(
        c.post_raw(
            "/api/v1/accounts",
            key_ref,
            "application/json",
            &format!("{{\"password\": \"{password}\""),
        )
        .await
        .1
        .to_string(),
    );
    bodies.push(
        c.put(
            "/api/v1/accounts/shop",
            key_ref,
            &json!({ "password": format!("{password}-wrong") }),
        )
        .await
        .1
        .to_string(),
    );
    bodies.push(
        c.post("/api/v1/accounts/shop/check", key_ref, &json!({}))
            .await
            .1
            .to_string(),
    );
    for path in [
        "/api/v1/accounts",
        "/api/v1/accounts/shop",
        "/metrics",
        "/api/openapi.json",
        "/api/v1/runs",
    ] {
        bodies.push(c.get_text(path, key_ref).await.1);
    }
    assert!(bodies[2].contains("\"ok\""), "check passed: {}", bodies[2]);
    assert!(
        bodies.iter().any(|b| b.contains("bad_credentials")),
        "check failed after the change"
    );

    tests::process::terminate(&child);
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    assert!(logs.contains("eMAG call"), "debug logs were captured");
    for (what, text) in bodies
        .iter()
        .map(|b| ("response", b.as_str()))
        .chain([("log", logs.as_str()), ("stdout", stdout_text.as_str())])
    {
        assert!(!text.contains(password), "password in a {what}: {text}");
        assert!(!text.contains(&key), "key in a {what}");
    }
}
