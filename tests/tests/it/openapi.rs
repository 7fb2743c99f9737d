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
