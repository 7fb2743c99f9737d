//! The `report` job: a PDF whose text (read back by poppler's `pdftotext`) carries the
//! key figures the analytics API gives for the same days, with Romanian diacritics;
//! downloadable as `application/pdf`; scheduled, it fires once and arrives at a real
//! SMTP server with the PDF attached.

use std::{process::Command, time::Duration};

use chrono::{Duration as Days, Utc};
use mailparse::{DispositionType, ParsedMail};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tests::{Options, TestApp, smtp::SmtpSink};

/// `amount` as the report writes it: two decimals, thousands separated.
fn money(amount: &str, thousands: char, decimal: char) -> String {
    let d: Decimal = amount.parse().expect("an amount");
    let fixed = format!("{:.2}", d.round_dp(2));
    let (whole, cents) = fixed.split_once('.').expect("two decimals");
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            out.push(thousands);
        }
        out.push(c);
    }
    format!("{out}{decimal}{cents}")
}

/// The PDF's text, as `pdftotext` reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext is installed (.ci/run installs poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn report(app: &TestApp, params: Value) -> Vec<u8> {
    let id = app
        .start_run(json!({ "kind": "report", "params": params }))
        .await;
    let run = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["result"]["format"], "pdf", "{run}");
    app.client
        .download(&format!("/api/v1/runs/{id}/result"), &app.viewer)
        .await
        .attachment("application/pdf", "pdf")
}

both!(
    the_report_says_what_the_api_says,
    the_report_says_what_the_api_says
);

async fn the_report_says_what_the_api_says(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(30, 300).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let id = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"] } }))
        .await;
    app.wait_status(id, &["succeeded"], Duration::from_secs(60))
        .await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .date_naive();
    let (from, to) = (today - Days::days(29), today);
    let period = json!({ "from": from, "to": to });
    let (_, sales) = app
        .client
        .get(
            &format!("/api/v1/analytics/sales?account=main&from={from}&to={to}"),
            Some(&app.viewer),
        )
        .await;
    let totals = &sales["current"]["totals"];

    let pdf = report(&app, json!({ "account": "main", "period": period })).await;
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let kept = tests::browser::screenshot_dir().join(format!("report-{backend:?}.pdf"));
    std::fs::write(kept, &pdf).expect("keep the PDF");
    let text = pdf_text(&pdf);
    for words in [
        "Raport de management",
        "Cifre cheie",
        "Vânzări",
        "Unități vândute",
        "Variație",
        "rulări eșuate",
        "Starea sincronizărilor",
    ] {
        assert!(text.contains(words), "{words:?} in:\n{text}");
    }
    let revenue = money(totals["revenue"].as_str().expect("revenue"), '.', ',');
    assert!(
        text.contains(&format!("{revenue} RON")),
        "{revenue} in:\n{text}"
    );
    let before = money(
        sales["compared"]["totals"]["revenue"]
            .as_str()
            .expect("revenue"),
        '.',
        ',',
    );
    assert!(
        text.contains(&format!("{before} RON")),
        "{before} in:\n{text}"
    );
    let days = format!("{} – {}", from.format("%d.%m.%Y"), to.format("%d.%m.%Y"));
    assert!(text.contains(&days), "{days} in:\n{text}");
    let top = &sales["current"]["totals"]["finalised_orders"];
    assert!(text.contains(&top.to_string()), "{top} in:\n{text}");

    // In English, for every account (one here), with the same revenue.
    let pdf = report(&app, json!({ "period": period, "locale": "en" })).await;
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Management report") && text.contains("All accounts"),
        "{text}"
    );
    let revenue = money(totals["revenue"].as_str().expect("revenue"), ',', '.');
    assert!(
        text.contains(&format!("{revenue} RON")),
        "{revenue} in:\n{text}"
    );

    // An unknown account or period is refused at the door, naming the field.
    for (params, field) in [
        (json!({ "account": "nobody" }), "params.account"),
        (json!({ "period": "yesterday" }), "params.period"),
        (
            json!({ "period": { "from": to, "to": from } }),
            "params.period.from",
        ),
        (json!({ "locale": "de" }), "params.locale"),
    ] {
        let (status, body) = app
            .client
            .post(
                "/api/v1/runs",
                Some(&app.admin),
                &json!({ "kind": "report", "params": params }),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    app.shutdown().await;
}

fn attachments<'a>(mail: &'a ParsedMail<'a>) -> Vec<&'a ParsedMail<'a>> {
    mail.subparts
        .iter()
        .filter(|p| p.get_content_disposition().disposition == DispositionType::Attachment)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_report_is_mailed_with_its_pdf() {
    let sink = SmtpSink::start();
    let opts = Options {
        smtp_url: Some(sink.url()),
        ..Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let sim = tests::quick_simulator(20, 100).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let run = crate::schedules::create_and_trigger(
        &app,
        json!({
            "name": "monday-report",
            "cron": "0 8 * * 1",
            "timezone": "Europe/Bucharest",
            "template": { "kind": "report", "params": { "period": "last_week", "locale": "ro" } },
            "notify": ["board@shop.ro"],
        }),
    )
    .await;
    let id = run["id"].as_str().expect("run id").to_owned();
    let mail = sink.wait_for(1, Duration::from_secs(60)).await;
    assert_eq!(mail[0].rcpt_to, ["board@shop.ro"]);
    let parsed = mailparse::parse_mail(&mail[0].raw).expect("mail");
    let attached = attachments(&parsed);
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].ctype.mimetype, "application/pdf");
    let pdf = attached[0].get_body_raw().expect("attachment");
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await
        .attachment("application/pdf", "pdf");
    assert_eq!(pdf, file, "the attachment is the report's file");
    assert!(pdf_text(&pdf).contains("Raport de management"));
    // One trigger, one run: the schedule's runs list has exactly it.
    let (_, runs) = app
        .client
        .get("/api/v1/runs?kind=report", Some(&app.viewer))
        .await;
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1), "{runs}");
    app.shutdown().await;
}
