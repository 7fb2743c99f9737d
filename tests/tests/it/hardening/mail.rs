//! SMTP: only the server's refusal of a recipient's mailbox suppresses that address; a
//! refused login or sender fails the run as `smtp_config` and suppresses no one. Admins
//! list and remove suppressions.

use std::time::Duration;

use serde_json::{Value, json};
use tests::{Backend, Options, TestApp, smtp::SmtpSink};

async fn notify(app: &TestApp, recipients: &[&str]) -> Value {
    let about = app.start_ping(json!({})).await;
    app.wait_status(about, &["succeeded"], Duration::from_secs(30))
        .await;
    let id = app
        .start_run(json!({ "kind": "notification", "params": { "recipients": recipients, "run_id": about } }))
        .await;
    app.wait_status(
        id,
        &["succeeded", "failed", "dead"],
        Duration::from_secs(60),
    )
    .await
}

async fn suppressions(app: &TestApp) -> Vec<Value> {
    let (s, list) = app
        .client
        .get("/api/v1/notifications/suppressions", Some(&app.admin))
        .await;
    assert_eq!(s, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_or_sender_blames_the_settings_not_the_recipient() {
    let sink = SmtpSink::start_with(&["--auth-fails"]);
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            smtp_url: Some(format!(
                "smtp://magflow:wrong-password@127.0.0.1:{}",
                sink.port
            )),
            ..Options::default()
        },
    )
    .await;
    let run = notify(&app, &["ops@example.ro"]).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["error"]["category"], "smtp_config", "{run:#}");
    assert!(
        run["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("535")),
        "{run:#}"
    );
    assert!(!run.to_string().contains("wrong-password"), "{run:#}");
    assert!(suppressions(&app).await.is_empty());
    app.shutdown().await;

    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            smtp_url: Some(sink.url()),
            smtp_from: Some("magflow <refused@test.invalid>".into()),
            ..Options::default()
        },
    )
    .await;
    let run = notify(&app, &["ops@example.ro", "team@example.ro"]).await;
    assert_eq!(run["error"]["category"], "smtp_config", "{run:#}");
    assert!(suppressions(&app).await.is_empty());
    assert!(sink.messages().is_empty());
    app.shutdown().await;
}

both!(
    refused_mailboxes_are_suppressed_and_can_be_removed,
    refused_mailboxes_are_suppressed_and_can_be_removed
);

async fn refused_mailboxes_are_suppressed_and_can_be_removed(backend: Backend) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(
        backend,
        Options {
            smtp_url: Some(sink.url()),
            ..Options::default()
        },
    )
    .await;
    let run = notify(&app, &["bounce@example.ro", "ops@example.ro"]).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let list = suppressions(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["address"], "bounce@example.ro");
    assert!(
        list[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("550")),
        "{list:?}"
    );

    let path = "/api/v1/notifications/suppressions/bounce@example.ro";
    let (s, _) = app
        .client
        .get("/api/v1/notifications/suppressions", Some(&app.viewer))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app.client.delete(path, Some(&app.viewer)).await;
    assert_eq!(s, 403);
    let (s, _) = app.client.delete(path, Some(&app.admin)).await;
    assert_eq!(s, 204);
    assert!(suppressions(&app).await.is_empty());
    let (s, _) = app.client.delete(path, Some(&app.admin)).await;
    assert_eq!(s, 404);
    let (_, audit) = app.client.get("/api/v1/audit", Some(&app.admin)).await;
    assert!(
        audit.to_string().contains("notification.unsuppress"),
        "{audit}"
    );
    app.shutdown().await;
}
