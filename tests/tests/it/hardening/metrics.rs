//! `/metrics` carries no eMAG login, and with `MAGFLOW_METRICS_TOKEN` it wants the token,
//! on the API and on a worker process.

use std::time::Duration;

use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use serde_json::json;
use tests::{Backend, Options, TestApp};

async fn scrape(url: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut req = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.ok()?;
    Some((
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_want_the_token_and_name_no_login() {
    const TOKEN: &str = "0000000000";
    const LOGIN: &str = "login-q7x2";
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            metrics_token: Some(TOKEN.into()),
            ..Options::default()
        },
    )
    .await;
    let sim = Simulator::start(
        SimConfig {
            offers: 5,
            orders: 5,
            limits: LimitMode::Off,
            logins: vec![jobs::emag::sim::SimLogin {
                username: LOGIN.into(),
                password: "main-secret".into(),
                fbe: false,
            }],
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    // magflow's name for the account is "shop"; eMAG's login is LOGIN.
    app.add_account("shop", &sim, LOGIN, "main-secret").await;
    let (s, checked) = app
        .client
        .post("/api/v1/accounts/shop/check", Some(&app.admin), &json!({}))
        .await;
    assert_eq!((s, &checked["status"]), (200, &json!("ok")), "{checked}");

    let url = format!("{}/metrics", app.client.base);
    assert_eq!(scrape(&url, None).await.map(|r| r.0), Some(401));
    assert_eq!(
        scrape(&url, Some("0000000001")).await.map(|r| r.0),
        Some(401)
    );
    assert_eq!(scrape(&url, Some(&app.admin)).await.map(|r| r.0), Some(401));
    let (status, text) = scrape(&url, Some(TOKEN)).await.expect("scrape");
    assert_eq!(status, 200);
    assert!(text.contains(r#"account="shop""#), "{text}");
    assert!(!text.contains(LOGIN), "the eMAG login is a label: {text}");

    // A worker process's own /metrics wants the same token.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut env = app.process_env();
    env.push(("MAGFLOW_METRICS_BIND".into(), format!("127.0.0.1:{port}")));
    env.push(("MAGFLOW_METRICS_TOKEN".into(), TOKEN.into()));
    let mut worker = tests::process::spawn(&["worker"], &env);
    let worker_url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let refused = loop {
        if let Some((status, _)) = scrape(&worker_url, None).await {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker serves /metrics"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refused, 401);
    assert_eq!(
        scrape(&worker_url, Some(TOKEN)).await.map(|r| r.0),
        Some(200)
    );
    assert!(tests::process::stop(&mut worker).await.success());
    app.shutdown().await;
}
