//! E-mail notifications through a real SMTP server process: a subscription gets an HTML
//! and a plain-text part with the run's figures, in its language; an address the server
//! refuses for good is recorded and not tried again; bad subscriptions are refused.

use std::time::Duration;

use entity::email_suppression;
use mailparse::{MailHeaderMap, ParsedMail};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::{Options, TestApp, smtp::SmtpSink};
use uuid::Uuid;

async fn app_with(sink: &SmtpSink, backend: tests::Backend) -> TestApp {
    let opts = Options {
        smtp_url: Some(sink.url()),
        ..Options::default()
    };
    TestApp::spawn_with(backend, opts).await
}

async fn subscribe(app: &TestApp, body: Value) -> Value {
    let (status, sub) = app
        .client
        .post("/api/v1/notifications", Some(&app.admin), &body)
        .await;
    assert_eq!(status, 201, "{sub}");
    sub
}

/// The notification runs, once `n` of them have ended.
async fn notification_runs(app: &TestApp, n: usize) -> Vec<Value> {
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, page) = app
            .client
            .get("/api/v1/runs?kind=notification", Some(&app.viewer))
            .await;
        let runs = page["items"].as_array().cloned().unwrap_or_default();
        let ended = runs
            .iter()
            .filter(|r| {
                ["succeeded", "failed", "dead"].contains(&r["status"].as_str().unwrap_or(""))
            })
            .count();
        if ended >= n {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{ended} of {n} notification runs ended: {runs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn parts(mail: &ParsedMail<'_>) -> (String, String) {
    let mut text = String::new();
    let mut html = String::new();
    for part in &mail.subparts {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().expect("text body"),
            "text/html" => html = part.get_body().expect("html body"),
            _ => {}
        }
    }
    (text, html)
}

both!(
    subscribers_get_the_runs_figures,
    subscribers_get_the_runs_figures
);

async fn subscribers_get_the_runs_figures(backend: tests::Backend) {
    let sink = SmtpSink::start();
    let app = app_with(&sink, backend).await;
    subscribe(
        &app,
        json!({ "recipients": ["ops@shop.ro", "bounce@shop.ro"], "kinds": ["ping"], "on": "both", "locale": "en" }),
    )
    .await;
    subscribe(
        &app,
        json!({ "recipients": ["sef@shop.ro"], "on": "success" }),
    )
    .await;
    // Not matching: failures only.
    subscribe(
        &app,
        json!({ "recipients": ["never@shop.ro"], "on": "failure" }),
    )
    .await;

    let run_id = app.start_ping(json!({ "steps": 7, "step_ms": 5 })).await;
    let run = app
        .wait_status(run_id, &["succeeded"], Duration::from_secs(30))
        .await;
    assert_eq!(run["progress"]["processed"], 7);

    let runs = notification_runs(&app, 2).await;
    assert_eq!(runs.len(), 2, "one per matching subscription: {runs:#?}");
    let mail = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(mail.len(), 2);
    let mut to: Vec<&str> = mail
        .iter()
        .flat_map(|m| m.rcpt_to.iter().map(String::as_str))
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["ops@shop.ro", "sef@shop.ro"]);
    for m in &mail {
        let parsed = mailparse::parse_mail(&m.raw).expect("a MIME message");
        let subject = parsed.headers.get_first_value("Subject").expect("subject");
        let (text, html) = parts(&parsed);
        assert!(text.contains(&run_id.to_string()), "{text}");
        assert!(html.contains(&run_id.to_string()), "{html}");
        let link = format!("https://magflow.example.ro/api/v1/runs/{run_id}");
        assert!(text.contains(&link), "{text}");
        // minijinja escapes '/' in HTML; a browser reads the entity back.
        assert!(
            html.replace("&#x2f;", "/")
                .contains(&format!("href=\"{link}\"")),
            "{html}"
        );
        if m.rcpt_to == ["ops@shop.ro"] {
            assert_eq!(subject, "[magflow] ping succeeded (all accounts): 7 items");
            assert!(text.contains("Items:     7 of 7"), "{text}");
            assert!(html.contains("Items</th><td>7 of 7</td>"), "{html}");
        } else {
            assert_eq!(subject, "[magflow] ping reușită (toate conturile): 7");
            assert!(text.contains("Elemente:     7 din 7"), "{text}");
            assert!(html.contains("Rezultat</th><td>reușită"), "{html}");
        }
    }

    // bounce@ was refused for good: recorded, and its run still delivered to ops@.
    let suppressed = email_suppression::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("suppressions");
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0].address, "bounce@shop.ro");
    assert!(
        suppressed[0].reason.contains("550"),
        "{}",
        suppressed[0].reason
    );
    let en = runs
        .iter()
        .find(|r| r["params"]["locale"] == "en")
        .expect("the English notification");
    assert_eq!(en["status"], "succeeded", "{en}");
    assert_eq!(en["progress"]["created"], 1, "delivered");
    assert_eq!(en["progress"]["failed"], 1, "refused");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_addresses_are_not_tried_again_and_bad_subscriptions_are_refused() {
    let sink = SmtpSink::start();
    let app = app_with(&sink, tests::Backend::Sqlite).await;
    for (body, field) in [
        (json!({ "recipients": ["not an address"] }), "recipients[0]"),
        (json!({ "recipients": [] }), "recipients"),
        (
            json!({ "recipients": ["a@b.ro"], "kinds": ["syncs"] }),
            "kinds[0]",
        ),
        (json!({ "recipients": ["a@b.ro"], "on": "sometimes" }), "on"),
        (
            json!({ "recipients": ["a@b.ro"], "locale": "fr" }),
            "locale",
        ),
    ] {
        let (status, answer) = app
            .client
            .post("/api/v1/notifications", Some(&app.admin), &body)
            .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (status, _) = app
        .client
        .post(
            "/api/v1/notifications",
            Some(&app.viewer),
            &json!({ "recipients": ["a@b.ro"] }),
        )
        .await;
    assert_eq!(status, 403, "viewers do not subscribe");

    let sub = subscribe(
        &app,
        json!({ "recipients": ["bounce@shop.ro"], "kinds": "all" }),
    )
    .await;
    let first = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(first, &["succeeded"], Duration::from_secs(30))
        .await;
    let runs = notification_runs(&app, 1).await;
    assert_eq!(runs[0]["status"], "failed", "{:#?}", runs[0]);
    assert_eq!(runs[0]["error"]["category"], "email_rejected");
    assert_eq!(runs[0]["attempt"], 1, "a refusal for good is not retried");

    // The next notification skips the recorded address without asking the server.
    let second = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(second, &["succeeded"], Duration::from_secs(30))
        .await;
    let runs = notification_runs(&app, 2).await;
    let latest = &runs[0];
    assert_eq!(latest["params"]["run_id"], second.to_string());
    let events = app
        .events(
            latest["id"]
                .as_str()
                .expect("id")
                .parse::<Uuid>()
                .expect("uuid"),
        )
        .await;
    assert!(
        events.iter().any(|e| e.contains("refused before")),
        "{events:?}"
    );
    assert!(sink.messages().is_empty());

    let (status, _) = app
        .client
        .delete(
            &format!("/api/v1/notifications/{}", sub["id"].as_str().expect("id")),
            Some(&app.admin),
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = app
        .client
        .get("/api/v1/notifications", Some(&app.viewer))
        .await;
    assert_eq!(list, json!([]));
    app.shutdown().await;
}

both!(
    an_end_whose_announcement_was_lost_is_announced_once,
    an_end_whose_announcement_was_lost_is_announced_once
);

/// A process that dies between writing a run's end and announcing it leaves the run ended
/// and unannounced: the state is written here as that crash leaves it. A worker announces
/// it once a lease has passed, once. Not announced: an end older than a day, and one from
/// before the subscription existed.
async fn an_end_whose_announcement_was_lost_is_announced_once(backend: tests::Backend) {
    let sink = SmtpSink::start();
    let app = app_with(&sink, backend).await;
    subscribe(
        &app,
        json!({ "recipients": ["ops@shop.ro"], "kinds": ["ping"], "on": "both", "locale": "en" }),
    )
    .await;
    let db = &app.ctx.db;
    let stale = ended_unannounced(db, chrono::Duration::hours(48)).await;
    let unwanted = ended_unannounced(db, chrono::Duration::hours(1)).await;
    let lost = ended_unannounced(db, chrono::Duration::zero()).await;

    let mail = sink.wait_for(1, Duration::from_secs(30)).await;
    let runs = notification_runs(&app, 1).await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["params"]["run_id"], lost.to_string());
    assert_eq!(mail[0].rcpt_to, vec!["ops@shop.ro".to_owned()]);
    assert!(stored(db, lost).await.announced);
    // Two days old: older than any look reaches. An hour old: looked at, before the
    // subscription, so nobody's.
    assert!(!stored(db, stale).await.announced);
    assert!(!stored(db, unwanted).await.announced);
    app.shutdown().await;
}

/// A ping run that ended `ago`, as a crash right after its end was written leaves it.
async fn ended_unannounced(db: &sea_orm::DatabaseConnection, ago: chrono::Duration) -> Uuid {
    use entity::job_run::RunStatus;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    let txn = jobs::db::begin_write(db).await.expect("transaction");
    let new = jobs::runs::NewRun {
        kind: jobs::JobKind::Ping,
        params: json!({ "steps": 1 }),
        account: None,
        max_attempts: 1,
        parent_id: None,
        lock_key: None,
    };
    let run = jobs::runs::insert(&txn, new).await.expect("run");
    let at = chrono::Utc::now() - ago;
    let mut ended = run.into_active_model();
    ended.status = Set(RunStatus::Succeeded);
    ended.attempt = Set(1);
    ended.processed = Set(1);
    ended.started_at = Set(Some(at));
    ended.finished_at = Set(Some(at));
    ended.updated_at = Set(at);
    let ended = ended.update(&txn).await.expect("ended");
    txn.commit().await.expect("commit");
    assert!(!ended.announced);
    ended.id
}

async fn stored(db: &sea_orm::DatabaseConnection, id: Uuid) -> entity::job_run::Model {
    entity::job_run::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("run")
}
