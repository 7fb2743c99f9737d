//! Request body limits per route (declared or chunked) and the CORS allowlist.

use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a chunked POST over a raw socket (no Content-Length); the status line's code.
async fn chunked_post(app: &TestApp, path: &str, body_len: usize) -> u16 {
    let addr = app.client.base.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.admin
    );
    sock.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b' '; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        let sent = sock
            .write_all(format!("{n:x}\r\n").as_bytes())
            .await
            .and(sock.write_all(&chunk[..n]).await)
            .and(sock.write_all(b"\r\n").await);
        if sent.is_err() {
            break; // the server answered and closed early
        }
        left -= n;
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = sock.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line")
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
