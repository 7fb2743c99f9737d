//! Admins manage people from the users page: a viewer made admin, a password reset
//! (shown once; the old one stops working), a lost second factor turned off; never the
//! last admin's role. Anyone changes their own password, given the current one: a wrong
//! current one and a weak new one are refused beside their fields, and after the change
//! the sign-in page says to use the new one.

use chrono::Utc;
use entity::user;
use jobs::{
    actions::users::{UserActionError, change_role},
    api_keys::Role,
};
use sea_orm::{ActiveValue::Set, EntityTrait};
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(people, people);

const NEW_PASSWORD: &str = "quartz-Meadow-lantern-57";

async fn find(app: &TestApp, name: &str) -> user::Model {
    jobs::users::find_by_name(&app.ctx.db, name)
        .await
        .expect("db")
        .expect("user")
}

async fn secret_of(browser: &Browser, name: &str) -> String {
    browser
        .find(&format!("[data-shown='{name}'] [data-secret]"))
        .await
        .text()
        .await
        .expect("text")
}

async fn confirm(browser: &Browser, name: &str, action: &str) {
    let row = format!("tr[data-user='{name}']");
    browser
        .click(&format!("{row} summary[data-action='{action}']"))
        .await;
    browser
        .click(&format!("{row} button[data-confirm='{action}']"))
        .await;
}

async fn people(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    user(&app, "ana", Role::Admin).await;
    user(&app, "vera", Role::Viewer).await;
    user(&app, "bob", Role::Viewer).await;
    // Bob enrolled a second factor, then lost his phone and his codes.
    let bob = find(&app, "bob").await;
    user::Entity::update(user::ActiveModel {
        id: Set(bob.id),
        totp_secret: Set(Some("sealed".into())),
        totp_enabled_at: Set(Some(Utc::now())),
        ..Default::default()
    })
    .exec(&app.ctx.db)
    .await
    .expect("enrol bob");

    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/admin/users']").await;

    // Vera becomes an admin.
    let vera = find(&app, "vera").await;
    browser
        .click(&format!("#role-{} option[value='admin']", vera.id))
        .await;
    browser
        .click("tr[data-user='vera'] button[data-action='role']")
        .await;
    browser
        .until(
            "vera is an admin",
            &format!(
                "return document.querySelector('#role-{}')?.value === 'admin';",
                vera.id
            ),
            std::time::Duration::from_secs(10),
        )
        .await;
    assert_eq!(find(&app, "vera").await.role, Role::Admin);

    // Vera's password is reset: shown once, and the old one stops working.
    confirm(&browser, "vera", "password").await;
    let reset = secret_of(&browser, "vera").await;
    assert!(reset.len() >= 12 && reset != PASSWORD, "{reset}");

    // Bob's second factor is turned off.
    confirm(&browser, "bob", "two-factor").await;
    browser.find("tr[data-user='bob']").await;
    assert!(
        !browser
            .has("tr[data-user='bob'] summary[data-action='two-factor']")
            .await
    );
    assert!(find(&app, "bob").await.totp_enabled_at.is_none());
    browser
        .screenshot(&format!("admin-people-{backend:?}"))
        .await;

    // Ana's own password: a wrong current one, then a weak new one, then a good one.
    browser.goto(&format!("{base}/me/two-factor")).await;
    browser.click("a[data-action='change-password']").await;
    let attempt = |current: &'static str, new: &'static str| {
        let browser = &browser;
        async move {
            browser
                .find("#f-current")
                .await
                .send_keys(current)
                .await
                .expect("type");
            browser
                .find("#f-new")
                .await
                .send_keys(new)
                .await
                .expect("type");
            browser.click("button[data-action='change-password']").await;
        }
    };
    attempt("not-my-password-at-all", NEW_PASSWORD).await;
    browser.find("#e-current").await;
    attempt(PASSWORD, "password1234").await;
    let weak = browser.find("#e-new").await.text().await.expect("text");
    assert!(weak.contains("ușor de ghicit"), "{weak}");
    attempt(PASSWORD, NEW_PASSWORD).await;
    browser
        .find("[data-notice='password_changed_sign_in']")
        .await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.find("#sign-in-error").await;
    browser.sign_in(&base, "ana", NEW_PASSWORD).await;
    browser.find("header .who").await;
    browser.sign_out().await;

    // Vera signs in with the reset password only.
    browser.sign_in(&base, "vera", PASSWORD).await;
    browser.find("#sign-in-error").await;
    browser.sign_in(&base, "vera", &reset).await;
    browser.find("a[href='/admin/users']").await;
    browser.close().await;

    // The last admin keeps their role.
    let (ana, vera) = (find(&app, "ana").await, find(&app, "vera").await);
    change_role(&app.ctx, vera.id, Role::Viewer, ana.id, "user:ana")
        .await
        .expect("two admins: one may go");
    let refused = change_role(&app.ctx, ana.id, Role::Viewer, vera.id, "user:vera").await;
    assert!(
        matches!(refused, Err(UserActionError::Refused(_))),
        "{refused:?}"
    );
    let (_, audit) = app
        .client
        .get("/api/v1/audit?action=user.update", Some(&app.admin))
        .await;
    let details: Vec<_> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["actor"].clone(), i["target"].clone()))
        .collect();
    assert_eq!(details.len(), 5, "{audit}");
    assert!(
        details.contains(&(serde_json::json!("user:ana"), serde_json::json!("user:ana"))),
        "her own change, by herself: {audit}"
    );
    app.shutdown().await;
}
