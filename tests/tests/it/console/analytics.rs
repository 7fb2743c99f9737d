//! The Analytics page in a browser: a viewer sees the sales chart with a bar per day
//! and the compared period, key figures equal to the API's, a best seller and an offer
//! running out; weeks regroup the bars; the page switches language and theme (the
//! charts take the theme's colours) and fits a phone without scrolling sideways.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use jobs::api_keys::Role;
use serde_json::{Value, json};
use tests::{Backend, TestApp, browser::Browser, sim_admin};

use super::{PASSWORD, user};

async fn synced(app: &TestApp, sim: &jobs::emag::sim::Simulator) {
    app.add_account("main", sim, "main", "main-secret").await;
    let id = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"] } }))
        .await;
    app.wait_status(id, &["succeeded"], Duration::from_secs(60))
        .await;
}

async fn api(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.client.get(path, Some(&app.viewer)).await;
    assert_eq!(status, 200, "{body}");
    body
}

both!(analytics_page, analytics_page);

async fn analytics_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(30, 400).await;
    synced(&app, &sim).await;
    // The best seller of the last 28 days, left with one unit, runs out.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .date_naive();
    let week_ago = today - Days::days(27);
    let top = api(
        &app,
        &format!("/api/v1/analytics/products?account=main&by=units&limit=1&from={week_ago}"),
    )
    .await;
    let busiest = top["items"][0]["product_id"]
        .as_i64()
        .expect("a best seller");
    let change =
        json!({ "id": busiest, "general_stock": 1, "stock": [{ "warehouse_id": 1, "value": 1 }] });
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "offers": [change] }),
    )
    .await;
    app.sync_offers("main").await;
    user(&app, "vera", Role::Viewer).await;

    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "vera", PASSWORD).await;
    browser.click("a[href='/analytics']").await;
    browser.find("figure[data-chart='sales'] svg").await;
    let bars = browser
        .eval("return document.querySelectorAll('figure[data-chart=sales] rect.bar').length;")
        .await;
    assert_eq!(bars, json!(30), "a bar per day of the last 30");
    assert!(
        browser
            .has("figure[data-chart='sales'] polyline.compare")
            .await
    );
    let sales = api(&app, "/api/v1/analytics/sales?account=main").await;
    let shown = browser
        .find("[data-key='finalised_orders'] [data-field='value']")
        .await;
    let shown = shown.text().await.expect("text");
    let want = sales["current"]["totals"]["finalised_orders"]
        .as_i64()
        .expect("count");
    assert_eq!(
        shown.replace(['.', ',', '\u{a0}', ' '], ""),
        want.to_string()
    );
    let revenue = browser
        .find("[data-key='revenue'] [data-field='value']")
        .await;
    assert!(revenue.text().await.expect("text").contains("RON"));
    assert!(browser.has("figure[data-chart='top'] svg rect.bar").await);
    assert!(
        browser
            .has(&format!("[data-running-out] tr[data-product='{busiest}']"))
            .await
    );
    assert!(browser.axe().await.is_empty(), "axe finds nothing serious");
    assert!(
        !browser.has("button[data-action='report']").await,
        "a viewer starts no report"
    );

    // Weeks: a bar per ISO week of the period.
    browser.click("#f-interval option[value='week']").await;
    browser.click("button[data-action='show']").await;
    let weeks = api(&app, "/api/v1/analytics/sales?account=&interval=week").await;
    let want = weeks["current"]["points"].as_array().expect("points").len();
    browser
        .until(
            "a bar per week",
            &format!("return document.querySelectorAll('figure[data-chart=sales] rect.bar').length === {want};"),
            Duration::from_secs(10),
        )
        .await;

    // Language and theme: the same charts, in English and in the dark theme's colours.
    let fill = "return getComputedStyle(document.querySelector('figure[data-chart=sales] rect.bar')).fill;";
    let light = browser.eval(fill).await;
    let english = browser.html_attr("lang").await == "en";
    browser.click("button[data-switch='locale']").await;
    let heading = if english { "Analize" } else { "Analytics" };
    browser
        .until(
            "the other language",
            &format!(
                "return document.querySelector('#main h1').textContent.startsWith('{heading}');"
            ),
            Duration::from_secs(10),
        )
        .await;
    browser.click("button[name='theme'][value='dark']").await;
    browser.find("html[data-theme='dark']").await;
    browser.find("figure[data-chart='sales'] rect.bar").await;
    assert_ne!(
        browser.eval(fill).await,
        light,
        "the bars take the dark theme's colour"
    );
    assert!(
        browser.axe().await.is_empty(),
        "axe finds nothing serious in the dark"
    );
    browser
        .eval("document.querySelector('#sales-h').scrollIntoView(); return true;")
        .await;
    browser.screenshot(&format!("analytics-{backend:?}")).await;
    browser.close().await;

    let phone = Browser::start(375).await;
    phone.sign_in(&base, "vera", PASSWORD).await;
    phone.find("header.top").await;
    phone.goto(&format!("{base}/analytics")).await;
    phone.find("figure[data-chart='sales'] svg").await;
    let sideways = phone
        .eval("return document.documentElement.scrollWidth > window.innerWidth;")
        .await;
    assert_eq!(sideways, json!(false), "no sideways scrolling at 375 px");
    phone
        .eval("document.querySelector('#sales-h').scrollIntoView(); return true;")
        .await;
    phone
        .screenshot(&format!("analytics-phone-{backend:?}"))
        .await;
    phone.close().await;

    // An admin asks for the days shown as a PDF: the run's page offers the file.
    user(&app, "ana", Role::Admin).await;
    let admin = Browser::start(1280).await;
    admin.sign_in(&base, "ana", PASSWORD).await;
    admin.find("header.top").await;
    admin.goto(&format!("{base}/analytics?account=main")).await;
    admin.click("button[data-action='report']").await;
    admin
        .until(
            "the report to be ready",
            "return location.pathname.startsWith('/runs/') && fetch(location.pathname + '/result')
               .then(r => r.status === 200 && r.headers.get('content-type') === 'application/pdf');",
            Duration::from_secs(60),
        )
        .await;
    admin.close().await;
    app.shutdown().await;
}
