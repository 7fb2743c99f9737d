//! Request body limits per route (declared or chunked) and the CORS allowlist.

use tests::TestApp;

/// A chunked POST as admin; the status code.
async fn chunked_post(app: &TestApp, path: &str, body_len: usize) -> u16 {
    tests::http::chunked_post(&app.client.base, path, Some(&app.admin), body_len).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limits_per_route() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    let two_mib = " ".repeat(2 * 1024 * 1024) + "{}";
    // 1 MiB for ordinary routes, declared or chunked.
    let (status, answer) = app
        .client
        .post_raw(
            "/api/v1/schedules",
            Some(&app.admin),
            "application/json",
            &two_mib,
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (413, Some("payload_too_large")),
        "{answer}"
    );
    // The rest of that body is never read, so the connection is not kept for another
    // request: the answer says so (a client reusing it would see its next request cut).
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/schedules", app.client.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body(two_mib.clone())
        .send()
        .await
        .expect("refused at once");
    assert_eq!(refused.status().as_u16(), 413);
    assert_eq!(
        refused.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    assert_eq!(
        chunked_post(&app, "/api/v1/schedules", 2 * 1024 * 1024).await,
        413
    );
    // Small chunked bodies go through to the handler (400: blanks are no JSON).
    assert_eq!(chunked_post(&app, "/api/v1/schedules", 10).await, 400);
    // 64 MiB where bulk updates arrive: 2 MiB reaches the handler.
    let (status, answer) = app
        .client
        .post_raw(
            "/api/v1/runs",
            Some(&app.admin),
            "application/json",
            &two_mib,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_configured_origins() {
    let preflight = |app: &TestApp, origin: &str| {
        let url = format!("{}/api/v1/runs", app.client.base);
        let origin = origin.to_owned();
        async move {
            let resp = reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, url)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization, content-type",
                )
                .send()
                .await
                .expect("preflight");
            resp.headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        }
    };
    // None configured: no browser origin is allowed.
    let closed = TestApp::spawn(tests::Backend::Sqlite).await;
    assert_eq!(preflight(&closed, "https://admin.shop.ro").await, None);
    closed.shutdown().await;

    let opts = tests::Options {
        cors_origins: vec!["https://admin.shop.ro".into()],
        ..tests::Options::default()
    };
    let open = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    assert_eq!(
        preflight(&open, "https://admin.shop.ro").await.as_deref(),
        Some("https://admin.shop.ro")
    );
    assert_eq!(preflight(&open, "https://evil.example").await, None);
    // Same-origin and non-browser clients are unaffected.
    let (status, _) = open.client.get("/api/v1/runs", Some(&open.viewer)).await;
    assert_eq!(status, 200);
    open.shutdown().await;
}
