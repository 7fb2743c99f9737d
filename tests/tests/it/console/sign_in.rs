//! Signing in and out: a wrong password is refused, a right one opens the console, and an
//! idle session ends.

use std::time::Duration;

use jobs::api_keys::Role;
use sea_orm::EntityTrait;
use tests::{Backend, Options, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(password_then_idle_timeout, password_then_idle_timeout);

async fn password_then_idle_timeout(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            console_idle_timeout_s: Some(3),
            ..Options::no_worker()
        },
    )
    .await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;

    // Anyone not signed in is sent to sign in.
    browser.goto(&format!("{base}/runs")).await;
    browser.find("form[action='/sign-in']").await;
    let url = browser.client.current_url().await.expect("url");
    assert!(url.as_str().ends_with("/sign-in?next=/runs"), "{url}");

    browser.sign_in(&base, "ana", "not-the-password-1").await;
    let error = browser
        .find("#sign-in-error")
        .await
        .text()
        .await
        .expect("text");
    // In the browser's language (Accept-Language) before anyone is signed in.
    assert!(
        error.contains("greșită") || error.contains("Wrong name or password"),
        "{error}"
    );
    browser.sign_in(&base, "nobody", PASSWORD).await;
    browser.find("#sign-in-error").await;

    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.find("nav a[aria-current='page'][href='/']").await;
    browser
        .screenshot(&format!("overview-empty-{backend:?}"))
        .await;
    let audit = entity::audit_log::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "session.sign_in_failed")
            .count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"session.sign_in"), "{actions:?}");

    // Idle past the timeout (read from the session's row, not a sleep), the next page
    // asks to sign in again.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let sessions = entity::console_session::Entity::find()
            .all(&app.ctx.db)
            .await
            .expect("sessions");
        assert_eq!(sessions.len(), 1);
        if chrono::Utc::now() - sessions[0].last_seen_at > chrono::Duration::seconds(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the clock did not move"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.goto(&format!("{base}/runs")).await;
    browser.find("form[action='/sign-in']").await;
    assert!(
        entity::console_session::Entity::find()
            .all(&app.ctx.db)
            .await
            .expect("sessions")
            .is_empty(),
        "the expired session is deleted"
    );
    browser.close().await;
    app.shutdown().await;
}
