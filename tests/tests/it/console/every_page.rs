//! Every console page, light and dark, on a desktop (1280 px) and a phone (375 px): the
//! accessibility checker axe-core, run inside the browser, finds no serious or critical
//! violation, no page scrolls sideways on the phone, and a screenshot of each is written
//! (`target/screenshots/page-*.png`). The pages are the same on both backends (the flows
//! that change data run on both): this runs on SQLite.

use std::time::Duration;

use jobs::api_keys::Role;
use serde_json::json;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_accessible_in_both_themes_and_widths() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sim = tests::quick_simulator(30, 10).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let sync = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"] } }))
        .await;
    app.wait_status(sync, &["succeeded"], Duration::from_secs(60))
        .await;
    let dead = app
        .start_run(
            json!({ "kind": "ping", "params": { "steps": 2, "fail_at": 1 }, "max_attempts": 1 }),
        )
        .await;
    app.wait_status(dead, &["dead"], Duration::from_secs(30))
        .await;
    let schedule = json!({
        "name": "nightly", "cron": "30 3 * * *", "timezone": "Europe/Bucharest",
        "template": { "kind": "sync", "params": { "accounts": "all" } },
    });
    let (status, schedule) = app
        .client
        .post("/api/v1/schedules", Some(&app.admin), &schedule)
        .await;
    assert_eq!(status, 201, "{schedule}");
    user(&app, "ana", Role::Admin).await;
    let (_, orders) = app
        .client
        .get("/api/v1/orders?limit=1", Some(&app.viewer))
        .await;
    let order = orders["items"][0]["id"].as_i64().expect("an order");
    let pages = [
        ("overview", "/".to_owned()),
        ("runs", "/runs".to_owned()),
        ("run", format!("/runs/{sync}")),
        ("dead-letters", "/dead-letters".to_owned()),
        ("queues", "/queues".to_owned()),
        ("schedules", "/schedules".to_owned()),
        ("schedule-new", "/schedules/new".to_owned()),
        (
            "schedule-edit",
            format!("/schedules/{}", schedule["id"].as_str().expect("id")),
        ),
        ("accounts", "/accounts".to_owned()),
        ("account-new", "/accounts/new".to_owned()),
        ("account-edit", "/accounts/main/edit".to_owned()),
        ("bulk", "/bulk".to_owned()),
        ("exports", "/exports".to_owned()),
        ("analytics", "/analytics".to_owned()),
        ("offers", "/offers".to_owned()),
        ("orders", "/orders".to_owned()),
        ("order", format!("/orders/main/{order}")),
        ("notifications", "/notifications".to_owned()),
        ("admin-users", "/admin/users".to_owned()),
        ("admin-keys", "/admin/keys".to_owned()),
        ("admin-audit", "/admin/audit".to_owned()),
        ("two-factor", "/me/two-factor".to_owned()),
        ("password", "/me/password".to_owned()),
    ];
    let base = app.client.base.clone();
    let mut found = Vec::new();
    for width in [1280, 375] {
        let browser = Browser::start(width).await;
        browser.goto(&format!("{base}/sign-in")).await;
        browser.find("#name").await;
        for v in browser.axe().await {
            found.push(format!("sign-in {width}px: {v}"));
        }
        browser.screenshot(&format!("page-sign-in-{width}")).await;
        browser.sign_in(&base, "ana", PASSWORD).await;
        browser.find("[data-account='main']").await;
        for theme in ["light", "dark"] {
            // The header offers the other theme; the choice stays with the user.
            let dark_now = browser.has("html[data-theme='dark']").await;
            if dark_now != (theme == "dark") {
                let other = if theme == "dark" { "dark" } else { "light" };
                browser
                    .click(&format!("button[name='theme'][value='{other}']"))
                    .await;
                browser.find(&format!("html[data-theme='{other}']")).await;
            }
            for (name, path) in &pages {
                browser.goto(&format!("{base}{path}")).await;
                browser.find("#main h1").await;
                for v in browser.axe().await {
                    found.push(format!("{name} {theme} {width}px: {v}"));
                }
                let sideways = browser
                    .eval("return document.documentElement.scrollWidth > window.innerWidth;")
                    .await;
                if sideways == json!(true) {
                    found.push(format!("{name} {theme} {width}px: scrolls sideways"));
                }
                browser
                    .screenshot(&format!("page-{name}-{theme}-{width}"))
                    .await;
            }
        }
        browser.close().await;
    }
    assert!(
        found.is_empty(),
        "{} problems:\n{}",
        found.len(),
        found.join("\n")
    );
    app.shutdown().await;
}
