//! Synced offers and orders in the console, as a viewer: the Orders page filtered to one
//! order by its number, that order's page with every line eMAG sent and its total; the
//! Offers page leaves a removed offer out until asked, then marks it.

use jobs::api_keys::Role;
use serde_json::{Value, json};
use tests::{Backend, TestApp, browser::Browser, sim_admin, sim_dump};

use super::{PASSWORD, user};

both!(orders_and_offers_as_synced, orders_and_offers_as_synced);

fn id_of(v: &Value) -> i64 {
    match &v["id"] {
        Value::String(s) => s.parse().expect("id"),
        other => other.as_i64().expect("id"),
    }
}

async fn orders_and_offers_as_synced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(12, 8).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let run = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"] } }))
        .await;
    app.wait_status(run, &["succeeded"], std::time::Duration::from_secs(60))
        .await;
    let orders = sim_dump(&sim, "main", "orders").await;
    let one = &orders[3];
    let gone = id_of(&sim_dump(&sim, "main", "offers").await[4]);
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "delete_offers": [gone] }),
    )
    .await;
    app.sync_offers("main").await;
    user(&app, "vera", Role::Viewer).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "vera", PASSWORD).await;

    browser.click("a[href='/orders']").await;
    browser.find("tr[data-order]").await;
    let rows = browser
        .eval("return document.querySelectorAll('tr[data-order]').length;")
        .await;
    assert_eq!(rows, json!(orders.len()));
    browser
        .find("#f-q")
        .await
        .send_keys(&id_of(one).to_string())
        .await
        .expect("type");
    browser.click("form.filters button").await;
    browser
        .until(
            "one order listed",
            "return document.querySelectorAll('tr[data-order]').length === 1;",
            std::time::Duration::from_secs(10),
        )
        .await;
    browser
        .click(&format!("a[href='/orders/main/{}']", id_of(one)))
        .await;
    browser.find("dd[data-total]").await;
    let lines = browser
        .eval("return document.querySelectorAll('tr[data-line]').length;")
        .await;
    assert_eq!(
        lines,
        json!(one["products"].as_array().expect("lines").len())
    );

    browser.click("a[href='/offers']").await;
    browser.find("tr[data-offer]").await;
    assert!(!browser.has(&format!("tr[data-offer='{gone}']")).await);
    browser.click("#f-include_removed").await;
    browser.click("form.filters button").await;
    browser
        .find(&format!("tr[data-offer='{gone}'][data-removed]"))
        .await;
    browser.screenshot(&format!("offers-{backend:?}")).await;
    browser.close().await;
    app.shutdown().await;
}
