//! Notifications in the console: a subscription with a bad address is refused beside the
//! recipients; a good one (exports only, failures only) is listed and audited; then
//! deleted. A refused address is listed for admins and let through again.

use jobs::api_keys::Role;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(subscribe_and_unsuppress, subscribe_and_unsuppress);

async fn subscribe_and_unsuppress(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let refused = entity::email_suppression::ActiveModel {
        address: sea_orm::Set("gone@example.com".into()),
        reason: sea_orm::Set("550 5.1.1 mailbox unavailable".into()),
        run_id: sea_orm::Set(None),
        at: sea_orm::Set(chrono::Utc::now()),
    };
    sea_orm::ActiveModelTrait::insert(refused, &app.ctx.db)
        .await
        .expect("suppress");
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/notifications']").await;
    browser.find("[data-empty]").await;

    let recipients = browser.find("#f-recipients").await;
    recipients
        .send_keys("ops@example.com, not-an-address")
        .await
        .expect("type");
    browser.click("button[data-action='subscribe']").await;
    browser.find("#e-recipients").await;
    let recipients = browser.find("#f-recipients").await;
    recipients.clear().await.expect("clear");
    recipients.send_keys("ops@example.com").await.expect("type");
    browser.click("#f-kind-export").await;
    browser.click("#f-on option[value='failure']").await;
    browser.click("button[data-action='subscribe']").await;
    browser.find("tr[data-subscription]").await;
    let subs = jobs::notification::subscriptions::list(&app.ctx.db)
        .await
        .expect("db");
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].kinds, serde_json::json!(["export"]));
    assert_eq!(subs[0].on.as_str(), "failure");
    browser
        .screenshot(&format!("notifications-{backend:?}"))
        .await;

    browser.click("button[data-action='unsuppress']").await;
    browser
        .until(
            "the address to be let through",
            "return !document.querySelector('[data-suppressed]');",
            std::time::Duration::from_secs(10),
        )
        .await;
    browser.click("summary[data-action='unsubscribe']").await;
    browser.click("button[data-confirm='unsubscribe']").await;
    browser.find("[data-empty]").await;
    let (_, audit) = app
        .client
        .get("/api/v1/audit?action=notification.", Some(&app.admin))
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "notification.unsubscribe",
            "notification.unsuppress",
            "notification.subscribe"
        ],
        "{audit}"
    );
    browser.close().await;
    app.shutdown().await;
}
