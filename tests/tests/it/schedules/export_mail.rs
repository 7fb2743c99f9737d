//! A scheduled export's notify list gets its file: attached to the e-mail, or linked when
//! it is over `MAGFLOW_MAIL_ATTACHMENT_MAX_BYTES`. Through a real SMTP server process.

use std::time::Duration;

use mailparse::{DispositionType, MailHeaderMap, ParsedMail};
use serde_json::json;
use tests::{Options, TestApp, smtp::SmtpSink};

/// An app with 30 synced offers and a schedule that exports them to `planner@shop.ro`,
/// triggered once; the mail it sent, and the export's file as downloaded.
async fn scheduled_export(backend: tests::Backend, max: Option<u64>) -> (Vec<u8>, Vec<u8>) {
    let sink = SmtpSink::start();
    let opts = Options {
        smtp_url: Some(sink.url()),
        mail_attachment_max_bytes: max,
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, opts).await;
    let sim = tests::quick_simulator(30, 0).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.sync_offers("main").await;
    let run = super::create_and_trigger(
        &app,
        json!({
            "name": "monday-offers",
            "cron": "0 8 * * 1",
            "template": { "kind": "export", "params": { "resource": "offers", "columns": ["id", "name"] } },
            "notify": ["planner@shop.ro"],
        }),
    )
    .await;
    let run_id = run["id"].as_str().expect("run id").to_owned();
    let mail = sink.wait_for(1, Duration::from_secs(60)).await;
    assert_eq!(mail[0].rcpt_to, ["planner@shop.ro"]);
    let file = app
        .client
        .download(&format!("/api/v1/exports/{run_id}/file"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    app.shutdown().await;
    (mail[0].raw.clone(), file)
}

fn text_part(mail: &ParsedMail<'_>) -> String {
    if mail.ctype.mimetype == "text/plain" {
        return mail.get_body().expect("body");
    }
    mail.subparts.iter().map(text_part).collect()
}

both!(the_file_goes_with_the_mail, the_file_goes_with_the_mail);

async fn the_file_goes_with_the_mail(backend: tests::Backend) {
    let (raw, file) = scheduled_export(backend, None).await;
    let mail = mailparse::parse_mail(&raw).expect("mail");
    assert_eq!(mail.ctype.mimetype, "multipart/mixed");
    let attached: Vec<&ParsedMail<'_>> = mail
        .subparts
        .iter()
        .filter(|p| p.get_content_disposition().disposition == DispositionType::Attachment)
        .collect();
    assert_eq!(attached.len(), 1);
    let part = attached[0];
    assert!(
        part.ctype.mimetype.starts_with("text/csv"),
        "{:?}",
        part.ctype
    );
    let name = part
        .get_content_disposition()
        .params
        .get("filename")
        .cloned()
        .unwrap_or_default();
    assert!(
        name.starts_with("magflow-offers-") && name.ends_with(".csv"),
        "{name}"
    );
    assert_eq!(part.get_body_raw().expect("attachment"), file);
    assert!(file.starts_with(b"id,name"), "the chosen columns");
    let text = text_part(&mail);
    assert!(text.contains("monday-offers"), "{text}");
    assert!(
        text.contains(&format!("Fișierul {name} este atașat")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_linked() {
    let (raw, file) = scheduled_export(tests::Backend::Sqlite, Some(64)).await;
    assert!(file.len() > 64);
    let mail = mailparse::parse_mail(&raw).expect("mail");
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    assert!(mail.headers.get_first_value("Subject").is_some());
    let text = text_part(&mail);
    assert!(text.contains("depășește limita"), "{text}");
    assert!(
        text.contains("https://magflow.example.ro/api/v1/exports/"),
        "{text}"
    );
}
