//! Outbound eMAG requests: no redirects followed, response bodies capped, no remote body
//! echoed, base URLs without user info, query or fragment, plain HTTP only for listed
//! hosts.

use std::time::Duration;

use poem::{
    EndpointExt, Response, Route, Server, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
};
use serde_json::json;
use tests::{Backend, Options, TestApp};

/// What answers at an account's URL when it is not eMAG.
#[handler]
fn answer_redirect() -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", "http://127.0.0.1:1/steal")
        .finish()
}

#[handler]
fn answer_huge() -> Response {
    Response::builder()
        .content_type("application/json")
        .body(vec![b' '; 33 * 1024 * 1024])
}

#[handler]
fn answer_page() -> Response {
    Response::builder()
        .content_type("text/html")
        .body("<html>REMOTE-PAGE-TEXT</html>")
}

async fn not_emag() -> String {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("tcp");
    let app = Route::new()
        .nest("/redirect", Route::new().at("/*path", answer_redirect))
        .nest("/huge", Route::new().at("/*path", answer_huge))
        .nest("/page", Route::new().at("/*path", answer_page))
        .map_to_response();
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}")
}

async fn add(app: &TestApp, name: &str, base_url: &str) -> (u16, serde_json::Value) {
    app.client
        .post(
            "/api/v1/accounts",
            Some(&app.admin),
            &json!({ "name": name, "kind": "main", "base_url": base_url, "username": "u", "password": "secret-password" }),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_large_bodies_and_remote_text_stay_out() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let base = not_emag().await;
    for name in ["redirect", "huge", "page"] {
        let (s, a) = add(&app, name, &format!("{base}/{name}/api-3")).await;
        assert_eq!(s, 201, "{a}");
    }
    let redirected = app.check_account("redirect").await;
    assert!(
        redirected["message"]
            .as_str()
            .is_some_and(|m| m.contains("redirect")),
        "{redirected}"
    );
    let huge = app.check_account("huge").await;
    assert!(
        huge["message"]
            .as_str()
            .is_some_and(|m| m.contains("32 MiB")),
        "{huge}"
    );
    let page = app.check_account("page").await;
    assert_eq!(page["status"], "error", "{page}");
    assert!(!page.to_string().contains("REMOTE-PAGE-TEXT"), "{page}");

    let run = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["redirect"], "resource": "offers" } }),
        )
        .await;
    let run = app
        .wait_status(run, &["failed", "dead"], Duration::from_secs(30))
        .await;
    assert_eq!(run["error"]["category"], "unexpected_redirect", "{run:#}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_urls_are_plain_https_urls() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            worker: false,
            emag_http_hosts: Some(vec!["emag-sim".into()]),
            ..Options::default()
        },
    )
    .await;
    for (url, says) in [
        ("https://user:pw@marketplace-api.emag.ro/api-3", "user name"),
        ("https://marketplace-api.emag.ro/api-3?x=1", "query"),
        ("https://marketplace-api.emag.ro/api-3#top", "fragment"),
        // Loopback is no exception: it must be listed like any other host.
        ("http://127.0.0.1:9/api-3", "MAGFLOW_EMAG_HTTP_HOSTS"),
        ("http://localhost:9/api-3", "MAGFLOW_EMAG_HTTP_HOSTS"),
    ] {
        let (s, err) = add(&app, "shop", url).await;
        assert_eq!(
            (s, err["field"].as_str()),
            (422, Some("base_url")),
            "{url}: {err}"
        );
        assert!(
            err["message"].as_str().is_some_and(|m| m.contains(says)),
            "{url}: {err}"
        );
    }
    let (s, a) = add(&app, "shop", "http://emag-sim:8081/api-3").await;
    assert_eq!(s, 201, "a listed host: {a}");
    app.shutdown().await;
}
