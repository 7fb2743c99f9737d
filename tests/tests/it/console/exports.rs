//! An export started from the console: a bad filter and an unknown column are refused
//! beside their fields; then offers as CSV with two chosen columns, listed, followed to
//! its end without a reload, and downloaded.

use std::time::Duration;

use jobs::api_keys::Role;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(export_offers_and_download, export_offers_and_download);

async fn export_offers_and_download(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(25, 0).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.sync_offers("main").await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/exports']").await;
    browser.find("[data-empty]").await;

    // Offers have statuses 0 to 2.
    browser
        .find("#f-status")
        .await
        .send_keys("7")
        .await
        .expect("type");
    browser.click("button[data-action='export']").await;
    browser.find("#e-status").await;
    let status = browser.find("#f-status").await;
    status.clear().await.expect("clear");
    // A column offers do not have, beside its field; then two, in the order typed.
    let columns = browser.find("#f-columns").await;
    columns.send_keys("id, colour").await.expect("type");
    browser.click("button[data-action='export']").await;
    let error = browser.find("#e-columns").await;
    let said = error.text().await.expect("text");
    assert!(said.contains("colour"), "{said}");
    let columns = browser.find("#f-columns").await;
    columns.clear().await.expect("clear");
    columns.send_keys("name, id").await.expect("type");
    browser.click("button[data-action='export']").await;

    browser
        .until(
            "the export to succeed",
            "return document.querySelector('tr[data-run] [data-field=status]') !== null
               && document.querySelector('tr[data-run]').dataset.status === 'succeeded'
               && document.querySelector('a[data-action=download]') !== null;",
            Duration::from_secs(60),
        )
        .await;
    let csv = browser
        .eval(
            "return fetch(document.querySelector('a[data-action=download]').href)
               .then(r => r.text().then(t => r.status + '\\n' + t));",
        )
        .await;
    let csv = csv.as_str().expect("text").to_owned();
    let lines: Vec<&str> = csv.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "200");
    assert_eq!(lines[1], "name,id", "{csv}");
    assert_eq!(lines.len(), 1 + 1 + 25, "status, header, 25 offers: {csv}");
    browser.screenshot(&format!("exports-{backend:?}")).await;
    browser.close().await;
    app.shutdown().await;
}
