//! The dead-letter page: a dead run retried from its row succeeds; of four failed runs,
//! one ticked and discarded, then "discard all matching" (its confirmation states how
//! many) empties the filtered list. Then the queues page pauses and resumes a queue.

use std::time::Duration;

use jobs::{JobKind, api_keys::Role};
use serde_json::json;
use tests::{Backend, TestApp, browser::Browser};
use uuid::Uuid;

use super::{PASSWORD, user};

both!(dead_letters_and_queues, dead_letters_and_queues);

async fn ended(app: &TestApp, params: serde_json::Value, status: &str) -> Uuid {
    let id = app
        .start_run(json!({ "kind": "ping", "params": params, "max_attempts": 1 }))
        .await;
    app.wait_status(id, &[status], Duration::from_secs(30))
        .await;
    id
}

async fn dead_letters_and_queues(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Dies on its only attempt; a retry succeeds.
    let dead = ended(
        &app,
        json!({ "steps": 2, "fail_at": 1, "fail_times": 1 }),
        "dead",
    )
    .await;
    let mut failed = Vec::new();
    for _ in 0..4 {
        let params = json!({ "steps": 2, "fail_at": 1, "fail_permanent": true });
        failed.push(ended(&app, params, "failed").await);
    }
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/dead-letters']").await;
    let count =
        |n: u64| format!("return document.querySelector('[data-count]')?.dataset.count === '{n}';");
    browser
        .until("one dead letter", &count(1), Duration::from_secs(10))
        .await;

    // One row's retry button.
    browser
        .click(&format!(
            "tr[data-run='{dead}'] button[data-action='retry']"
        ))
        .await;
    browser.find("[data-notice='done_retried']").await;
    app.wait_status(dead, &["succeeded"], Duration::from_secs(30))
        .await;
    // Its page lists both attempts: the one that died, with why, and the one that
    // succeeded.
    browser.goto(&format!("{base}/runs/{dead}")).await;
    let attempts = browser
        .eval(
            "return [...document.querySelectorAll('tr[data-attempt]')]\
             .map(r => r.dataset.attempt + ':' + r.dataset.outcome + ':' + r.cells[3].textContent.trim());",
        )
        .await;
    assert_eq!(
        attempts,
        json!([
            "1:dead:Eșuată, fără alte încercări Temporară",
            "2:succeeded:Reușită"
        ]),
        "{attempts}"
    );
    browser.goto(&format!("{base}/dead-letters")).await;
    browser
        .screenshot(&format!("dead-letters-{backend:?}"))
        .await;

    // The failed ones, by status and category.
    for (select, value) in [("f-status", "failed"), ("f-category", "permanent")] {
        browser
            .click(&format!("#{select} option[value='{value}']"))
            .await;
    }
    browser.click("form.filters button").await;
    browser
        .until("four failed runs", &count(4), Duration::from_secs(10))
        .await;
    browser
        .click(&format!("input[name='sel_{}']", failed[0]))
        .await;
    browser
        .click("button[data-action='discard-selected']")
        .await;
    browser
        .until("three left", &count(3), Duration::from_secs(10))
        .await;
    browser.click("summary[data-action='discard-all']").await;
    let confirm = browser
        .find("summary[data-action='discard-all'] + form p")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        confirm.contains('3'),
        "the confirmation states how many: {confirm}"
    );
    browser.click("button[data-confirm='discard-all']").await;
    browser
        .until("an empty list", &count(0), Duration::from_secs(10))
        .await;
    assert!(browser.has("[data-empty]").await);
    assert!(
        browser
            .eval("return location.search;")
            .await
            .as_str()
            .unwrap_or_default()
            .contains("category=permanent"),
        "the filter stays"
    );
    for id in &failed {
        let run = jobs::runs::find(&app.ctx.db, *id)
            .await
            .expect("db")
            .expect("run");
        assert!(run.discarded_at.is_some(), "{id} discarded");
    }
    let (_, audit) = app
        .client
        .get("/api/v1/audit?action=run.discard_many", Some(&app.admin))
        .await;
    assert_eq!(audit["items"][0]["actor"], "user:ana", "{audit}");
    assert_eq!(audit["items"][0]["details"]["discarded"], 3, "{audit}");

    // Queues: pause the ping queue, then resume it.
    browser.click("a[href='/queues']").await;
    browser
        .click("tr[data-queue='ping'] button[data-action='pause']")
        .await;
    browser
        .find("tr[data-queue='ping'][data-paused='true']")
        .await;
    assert!(
        jobs::queues::is_paused(&app.ctx.db, JobKind::Ping)
            .await
            .expect("db")
    );
    browser.screenshot(&format!("queues-{backend:?}")).await;
    browser
        .click("tr[data-queue='ping'] button[data-action='resume']")
        .await;
    browser
        .find("tr[data-queue='ping'][data-paused='false']")
        .await;
    assert!(
        !jobs::queues::is_paused(&app.ctx.db, JobKind::Ping)
            .await
            .expect("db")
    );
    browser.close().await;
    app.shutdown().await;
}
