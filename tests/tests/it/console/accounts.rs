//! Accounts in the console: add one (a base URL: the simulator), check it (a wrong
//! password is reported as such), edit it (the password is write-only: never shown, and
//! required when the user name changes), check again (ok), delete it.

use std::time::Duration;

use jobs::api_keys::Role;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(add_check_edit_delete_account, add_check_edit_delete_account);

async fn type_into(browser: &Browser, css: &str, text: &str) {
    let input = browser.find(css).await;
    input.clear().await.expect("clear");
    input.send_keys(text).await.expect("type");
}

async fn add_check_edit_delete_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(10, 10).await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/accounts']").await;
    browser.find("[data-empty]").await;

    browser.click("a[data-action='new-account']").await;
    type_into(&browser, "#f-name", "shop").await;
    browser.click("#f-platform option[value='url']").await;
    type_into(&browser, "#f-base_url", &sim.base_url).await;
    type_into(&browser, "#f-username", "main").await;
    type_into(&browser, "#f-password", "not-the-password").await;
    browser.click("button[data-action='save']").await;
    browser.find("tr[data-account-row='shop']").await;

    browser
        .click("tr[data-account-row='shop'] button[data-action='check']")
        .await;
    browser.find("[data-check-status='bad_credentials']").await;
    browser.screenshot(&format!("accounts-{backend:?}")).await;

    // Another user name without a password: refused beside the password field.
    browser
        .click("tr[data-account-row='shop'] a[data-action='edit']")
        .await;
    let shown = browser
        .find("#f-password")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(shown.as_deref(), Some(""), "the password is never shown");
    type_into(&browser, "#f-username", "someone-else").await;
    browser.click("button[data-action='save']").await;
    browser.find("#e-password").await;
    // The real login: the same user name, a new password.
    type_into(&browser, "#f-username", "main").await;
    type_into(&browser, "#f-password", "main-secret").await;
    browser.click("button[data-action='save']").await;
    browser.find("tr[data-account-row='shop']").await;
    browser
        .click("tr[data-account-row='shop'] button[data-action='check']")
        .await;
    browser.find("[data-check-status='ok']").await;
    let html = browser
        .eval("return document.documentElement.outerHTML;")
        .await;
    assert!(!html.as_str().unwrap_or_default().contains("main-secret"));

    browser
        .click("tr[data-account-row='shop'] summary[data-action='delete']")
        .await;
    browser
        .click("tr[data-account-row='shop'] button[data-confirm='delete']")
        .await;
    browser
        .until(
            "the account to go",
            "return document.querySelector('[data-empty]') !== null;",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        jobs::accounts::list(&app.ctx.db)
            .await
            .expect("db")
            .is_empty()
    );
    let (_, audit) = app
        .client
        .get("/api/v1/audit?action=account.", Some(&app.admin))
        .await;
    let items = audit["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["account.delete", "account.update", "account.create"],
        "{audit}"
    );
    assert!(items.iter().all(|a| a["actor"] == "user:ana"));
    assert_eq!(
        items[1]["details"]["changed"],
        serde_json::json!(["password"]),
        "{audit}"
    );
    assert!(!audit.to_string().contains("secret"), "{audit}");
    browser.close().await;
    app.shutdown().await;
}
