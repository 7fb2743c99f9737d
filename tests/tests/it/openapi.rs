//! The OpenAPI document is part of the contract: any change shows up as a snapshot diff.

use tests::{Backend, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_snapshot() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let (status, served) = app.client.get("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    let (status, docs) = app.client.get_text("/docs", None).await;
    assert_eq!(status, 200);
    assert!(docs.contains("swagger"), "Swagger UI is served");
    let pretty = serde_json::to_string_pretty(&served).expect("json");
    insta::assert_snapshot!("openapi", pretty);
    app.shutdown().await;
}

/// Swagger UI, rendered by a real browser (headless Chromium): the operations appear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_renders_in_a_browser() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let profile = tempfile::tempdir().expect("profile dir");
    let out = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{}/docs", app.client.base))
        .output()
        .await
        .expect("chromium is installed (bash .ci/run installs it)");
    let dom = String::from_utf8_lossy(&out.stdout);
    for path in [
        "/api/v1/runs",
        "/api/v1/runs/{id}/events",
        "/api/v1/accounts",
    ] {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "Swagger UI shows {path}"
        );
    }
    app.shutdown().await;
}
