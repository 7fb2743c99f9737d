//! "Sync now" from the overview: the progress bar moves and the run ends succeeded
//! without a reload, the account's counts change; then English and dark mode, which stay
//! after a reload and a new sign-in.

use std::time::Duration;

use jobs::{api_keys::Role, runs::RunFilter};
use serde_json::json;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(
    sync_now_then_language_and_theme,
    sync_now_then_language_and_theme
);

async fn sync_now_then_language_and_theme(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(600, 300).await;
    // Slow pages, so a running sync can be seen moving.
    tests::sim_admin(&sim, "faults", &json!({ "latency_ms": [80, 120] })).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    let offers = "[data-account='main'] [data-count='offers']";
    assert_eq!(browser.find(offers).await.text().await.expect("text"), "0");

    // A marker that a reload would lose.
    browser.eval("window.__kept = 'yes'; return null;").await;
    browser
        .find("[data-account='main'] button[data-action='sync']")
        .await
        .click()
        .await
        .expect("click sync now");
    browser
        .until(
            "a progress bar part way",
            "return [...document.querySelectorAll('progress[data-field=bar]')].some(p => p.value > 0 && p.value < p.max);",
            Duration::from_secs(60),
        )
        .await;
    let parent = jobs::runs::list(&app.ctx.db, &RunFilter::default(), None, 10)
        .await
        .expect("runs")
        .into_iter()
        .find(|r| r.parent_id.is_none())
        .expect("the sync's run");
    browser
        .until(
            "the run to show succeeded",
            &format!("return document.querySelector('tr[data-run=\"{}\"]')?.dataset.status === 'succeeded';", parent.id),
            Duration::from_secs(90),
        )
        .await;
    browser
        .until(
            "the offers count to change",
            &format!("return document.querySelector(\"{offers}\")?.textContent === '600';"),
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(
        browser.eval("return window.__kept;").await,
        json!("yes"),
        "the page was reloaded"
    );
    browser.screenshot(&format!("overview-{backend:?}")).await;

    // English, then dark: each a form in the header; both stay.
    browser
        .find("button[name='locale'][value='en']")
        .await
        .click()
        .await
        .expect("english");
    browser
        .until(
            "English",
            "return document.documentElement.lang === 'en';",
            Duration::from_secs(10),
        )
        .await;
    browser
        .find("button[name='theme'][value='dark']")
        .await
        .click()
        .await
        .expect("dark");
    browser
        .until(
            "dark",
            "return document.documentElement.dataset.theme === 'dark';",
            Duration::from_secs(10),
        )
        .await;
    browser.client.refresh().await.expect("reload");
    browser.find("main").await;
    assert_eq!(browser.html_attr("lang").await, "en");
    assert_eq!(browser.html_attr("data-theme").await, "dark");
    browser
        .screenshot(&format!("overview-dark-{backend:?}"))
        .await;
    browser.sign_out().await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.find("nav").await;
    assert_eq!(browser.html_attr("lang").await, "en");
    assert_eq!(browser.html_attr("data-theme").await, "dark");
    browser.close().await;

    // A phone: nothing scrolls sideways.
    let phone = Browser::start(375).await;
    phone.sign_in(&base, "ana", PASSWORD).await;
    phone.find("nav").await;
    for page in ["/", "/runs", &format!("/runs/{}", parent.id)] {
        phone.goto(&format!("{base}{page}")).await;
        phone.find("main").await;
        let wide = phone
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        assert!(
            wide.as_i64().unwrap_or(0) <= 0,
            "{page} scrolls sideways by {wide}px at 375 px"
        );
    }
    phone.screenshot(&format!("run-phone-{backend:?}")).await;
    phone.close().await;
    app.shutdown().await;
}
