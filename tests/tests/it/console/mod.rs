//! The console in a real browser (headless Chromium over WebDriver) against a real
//! magflow API, worker and eMAG simulator, on both backends; and its guards over plain
//! HTTP.

mod accounts;
mod admin;
mod analytics;
mod bulk;
mod data;
mod dead_letters;
mod every_page;
mod exports;
mod guards;
mod live;
mod notifications;
mod people;
mod schedules;
mod sign_in;
mod sync_now;
mod two_factor;

use jobs::api_keys::Role;
use tests::TestApp;

/// A password the policy accepts.
pub const PASSWORD: &str = "vapor-Lintel-orbit-92";

/// Makes a console user.
pub async fn user(app: &TestApp, name: &str, role: Role) {
    jobs::users::create(&app.ctx.db, name, role, PASSWORD)
        .await
        .expect("create user");
}

/// Signs in over HTTP; the session cookie's value.
pub async fn session_cookie(app: &TestApp, name: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = &app.client.base;
    let resp = http
        .post(format!("{base}/sign-in"))
        .header("origin", base.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("name", name),
            ("password", PASSWORD),
            ("next", "/"),
        ]))
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status(), 303, "sign-in of {name}");
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("mf_session="))
        .expect("mf_session")
        .to_owned()
}

/// An HTML form's body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}
