//! The second factor in a browser: an admin must enrol at the first sign-in (QR code and
//! secret shown, the test computes the code as an authenticator app would), gets ten
//! recovery codes once; later sign-ins ask for a code: a wrong one is refused, a
//! recovery code works once, a TOTP code works once.

use std::time::{Duration, Instant};

use jobs::{api_keys::Role, users::two_factor::code_at};
use tests::{Backend, Options, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(enrol_then_sign_in_with_codes, enrol_then_sign_in_with_codes);

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970")
}

async fn type_code(browser: &Browser, code: &str) {
    browser
        .find("#code")
        .await
        .send_keys(code)
        .await
        .expect("type code");
    browser
        .find("form button.primary")
        .await
        .click()
        .await
        .expect("submit code");
}

async fn enrol_then_sign_in_with_codes(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            console_require_2fa: true,
            ..Options::no_worker()
        },
    )
    .await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;

    // First sign-in: enrolment before anything else.
    browser.sign_in(&base, "ana", PASSWORD).await;
    let secret = browser
        .find("[data-secret]")
        .await
        .text()
        .await
        .expect("secret");
    assert!(browser.has("img.qr").await, "no QR code");
    browser.goto(&format!("{base}/runs")).await;
    browser.find("[data-secret]").await; // still enrolling: nothing else opens
    let enrolled_step = unix_now() / 30;
    type_code(&browser, &code_at(&secret, unix_now()).expect("code")).await;
    browser.find("[data-recovery-codes]").await;
    let codes = browser
        .eval("return [...document.querySelectorAll('[data-recovery-codes] code')].map(c => c.textContent);")
        .await;
    let codes: Vec<String> = serde_json::from_value(codes).expect("codes");
    assert_eq!(codes.len(), 10, "{codes:?}");
    browser
        .find("a.button[href='/']")
        .await
        .click()
        .await
        .expect("continue");
    browser.find("nav a[aria-current='page'][href='/']").await;
    browser.sign_out().await;

    // A wrong code: a valid-looking one no step near now produces.
    browser.sign_in(&base, "ana", PASSWORD).await;
    let now = unix_now();
    let near: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .filter_map(|t| code_at(&secret, *t))
        .collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .expect("a wrong code");
    type_code(&browser, &wrong).await;
    browser.find("#code-error").await;
    // A recovery code works, once.
    type_code(&browser, &codes[0]).await;
    browser.find("nav").await;
    browser.sign_out().await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    type_code(&browser, &codes[0]).await;
    browser.find("#code-error").await;

    // A TOTP code of a step after the one enrolment used (each code counts once).
    let deadline = Instant::now() + Duration::from_secs(40);
    while unix_now() / 30 <= enrolled_step {
        assert!(Instant::now() < deadline, "the clock did not move");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let code = code_at(&secret, unix_now()).expect("code");
    type_code(&browser, &code).await;
    browser.find("nav a[aria-current='page'][href='/']").await;
    // The same code again (a replay within its window) is refused.
    browser.sign_out().await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    type_code(&browser, &code).await;
    browser.find("#code-error").await;

    let audit = <entity::audit_log::Entity as sea_orm::EntityTrait>::find()
        .all(&app.ctx.db)
        .await
        .expect("audit");
    let count = |action: &str| audit.iter().filter(|a| a.action.as_str() == action).count();
    assert_eq!(count("session.sign_in"), 3, "three complete sign-ins");
    assert_eq!(
        count("session.sign_in_failed"),
        3,
        "a wrong code, a reused recovery code, a replay"
    );
    assert!(
        !audit.iter().any(|a| a
            .details
            .as_ref()
            .is_some_and(|d| d.to_string().contains(&secret))),
        "the secret reached the audit log"
    );
    browser.close().await;
    app.shutdown().await;
}
