//! A bulk update from the console: a CSV with three good lines and one bad is refused
//! with the bad line's error by row and field; fixed and uploaded again, its dry run shows
//! the diff from → to; confirmed, the run is followed to its end and its result
//! downloaded.

use std::{path::Path, time::Duration};

use entity::offer;
use jobs::api_keys::Role;
use sea_orm::{EntityTrait, QueryOrder};
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(upload_fix_confirm_download, upload_fix_confirm_download);

async fn upload(browser: &Browser, file: &Path) {
    browser.click("a[href='/bulk']").await;
    browser
        .find("#f-file")
        .await
        .send_keys(file.to_str().expect("path"))
        .await
        .expect("choose file");
    browser.click("button[data-action='upload']").await;
}

async fn upload_fix_confirm_download(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(20, 0).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.sync_offers("main").await;
    let offers = offer::Entity::find()
        .order_by_asc(offer::Column::EmagId)
        .all(&app.ctx.db)
        .await
        .expect("offers");
    let ids: Vec<i64> = offers.iter().take(4).map(|o| o.emag_id).collect();
    user(&app, "ana", Role::Admin).await;

    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("prices.csv");
    let lines = |last: &str| {
        format!(
            "account,id,sale_price,stock\nmain,{},,7\nmain,{},,8\nmain,{},,9\n{last}\n",
            ids[0], ids[1], ids[2]
        )
    };
    std::fs::write(&bad, lines(&format!("main,{},-5,", ids[3]))).expect("write");

    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    upload(&browser, &bad).await;
    let reason = browser
        .find("[data-problem-row='5'][data-problem-field='sale_price'] td:last-child")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(
        reason, "trebuie să fie 0 sau mai mult",
        "in the page's language"
    );
    assert!(
        !browser.has("button[data-action='send']").await,
        "a bad file cannot be sent"
    );
    browser
        .screenshot(&format!("bulk-problems-{backend:?}"))
        .await;

    // Fixed: the fourth line sets a price between the offer's bounds.
    let (min, max) = (offers[3].min_sale_price, offers[3].max_sale_price);
    let price = ((min.expect("min") + max.expect("max")) / rust_decimal::Decimal::TWO).round_dp(2);
    let good = dir.path().join("prices-fixed.csv");
    std::fs::write(&good, lines(&format!("main,{},{price},", ids[3]))).expect("write");
    upload(&browser, &good).await;
    browser.find("[data-diff='4']").await;
    let stock = browser
        .find("tr[data-diff-row='2'][data-diff-field='stock'] .to")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(stock, "7");
    let cell = browser
        .find("tr[data-diff-row='5'][data-diff-field='sale_price'] .to")
        .await;
    let value = cell
        .attr("data-value")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert_eq!(
        value.parse::<rust_decimal::Decimal>().ok(),
        Some(price),
        "{value}"
    );
    // Written as Romanian writes money: 1.234,56 RON.
    let shown = cell.text().await.expect("text");
    assert!(shown.ends_with(" RON") && shown.contains(','), "{shown}");
    browser.screenshot(&format!("bulk-diff-{backend:?}")).await;
    browser.click("button[data-action='send']").await;

    // The run's page, followed to its end without a reload.
    let path = browser.eval("return location.pathname;").await;
    let run = path
        .as_str()
        .and_then(|p| p.strip_prefix("/runs/"))
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("the run's page: {path}"));
    let done = app.wait_ended(run, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    browser
        .until(
            "the page to show the run succeeded",
            "return document.querySelector('.heading [data-status]')?.dataset.status === 'succeeded';",
            Duration::from_secs(30),
        )
        .await;
    let csv = browser
        .eval(
            "const a = document.querySelector('a[href$=\"/result\"]');
             return fetch(a.href).then(r => r.text().then(t => r.status + '\\n' + t));",
        )
        .await;
    let csv = csv.as_str().expect("text").to_owned();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("200"));
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 1 + 4, "a header and four items: {csv}");
    assert!(rows[1..].iter().all(|r| r.contains("accepted")), "{csv}");
    browser.close().await;
    app.shutdown().await;
}
