//! Admin pages: a user created with a password shown once (and able to sign in with it);
//! an API key created and shown once (and working), rotated, revoked; the audit log
//! filtered to those changes. A viewer is refused the admin pages.

use jobs::api_keys::Role;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(users_keys_and_audit, users_keys_and_audit);

async fn users_keys_and_audit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    user(&app, "ana", Role::Admin).await;
    user(&app, "vera", Role::Viewer).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/admin/users']").await;

    browser
        .find("#f-name")
        .await
        .send_keys("dan")
        .await
        .expect("type");
    browser.click("button[data-action='create-user']").await;
    let password = browser
        .find("[data-shown='dan'] [data-secret]")
        .await
        .text()
        .await
        .expect("text");
    assert!(password.len() >= 12, "{password}");
    browser.find("tr[data-user='dan']").await;
    browser
        .screenshot(&format!("admin-users-{backend:?}"))
        .await;

    browser.click(".tabs a[href='/admin/keys']").await;
    browser
        .find("#f-name")
        .await
        .send_keys("ci")
        .await
        .expect("type");
    browser.click("#f-role option[value='admin']").await;
    browser.click("button[data-action='create-key']").await;
    let key = browser
        .find("[data-shown='ci'] [data-secret]")
        .await
        .text()
        .await
        .expect("text");
    let (status, _) = app.client.get("/api/v1/keys", Some(&key)).await;
    assert_eq!(status, 200, "the new key works");
    browser
        .click("tr[data-key='ci'][data-working='true'] summary[data-action='rotate']")
        .await;
    browser
        .click("tr[data-key='ci'][data-working='true'] button[data-confirm='rotate']")
        .await;
    let rotated = browser
        .find("[data-shown='ci'] [data-secret]")
        .await
        .text()
        .await
        .expect("text");
    assert_ne!(rotated, key);
    let (status, _) = app.client.get("/api/v1/keys", Some(&rotated)).await;
    assert_eq!(status, 200, "the rotated key works");
    // Revoke the new one (the old one is in its grace hour: two rows named ci work).
    let prefix = rotated.split('_').nth(1).expect("mf_<prefix>_<secret>");
    let revoke = format!("tr[data-prefix='{prefix}']");
    browser
        .click(&format!("{revoke} summary[data-action='revoke']"))
        .await;
    browser
        .click(&format!("{revoke} button[data-confirm='revoke']"))
        .await;
    browser
        .find(&format!("{revoke}[data-working='false']"))
        .await;
    browser.screenshot(&format!("admin-keys-{backend:?}")).await;

    browser.click(".tabs a[href='/admin/audit']").await;
    browser
        .find("#f-action")
        .await
        .send_keys("api_key.")
        .await
        .expect("type");
    browser.click("form.filters button").await;
    browser.find("tr[data-audit='api_key.revoke']").await;
    let shown = browser
        .eval("return [...document.querySelectorAll('tr[data-audit]')].map(t => t.dataset.audit);")
        .await;
    assert_eq!(
        shown,
        serde_json::json!(["api_key.revoke", "api_key.rotate", "api_key.create"])
    );
    browser.sign_out().await;

    // A viewer is refused; the new user signs in with the password shown once.
    browser.sign_in(&base, "vera", PASSWORD).await;
    browser.find("[data-empty], #main h1").await;
    assert!(!browser.has("a[href='/admin/users']").await);
    browser.goto(&format!("{base}/admin/audit")).await;
    assert!(!browser.has("tr[data-audit]").await && !browser.has("form.filters").await);
    browser.sign_out().await;
    browser.sign_in(&base, "dan", &password).await;
    browser.find("header .who").await;
    browser.close().await;
    app.shutdown().await;
}
