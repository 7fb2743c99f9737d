//! What a hostile browser or a viewer cannot do: a viewer sees no action buttons and a
//! forged change from their session gets 403; a change without the CSRF token or from
//! another origin gets 403; pages are not cached and cannot be framed.

use jobs::api_keys::Role;
use tests::{Backend, Options, TestApp, browser::Browser};

use super::{PASSWORD, session_cookie, user};

both!(
    viewers_and_forgeries_are_refused,
    viewers_and_forgeries_are_refused
);

async fn post(app: &TestApp, cookie: &str, origin: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    http.post(format!("{}{path}", app.client.base))
        .header("cookie", format!("mf_session={cookie}"))
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(super::form_body(form))
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

/// `POST /sync` of account `main`, with the CSRF token if given; the status.
async fn sync(app: &TestApp, cookie: &str, origin: &str, csrf: Option<&str>) -> u16 {
    let fields: Vec<(&str, &str)> = match csrf {
        Some(token) => vec![("csrf", token), ("account", "main")],
        None => vec![("account", "main")],
    };
    post(app, cookie, origin, "/sync", &fields).await
}

async fn csrf_of(app: &TestApp, cookie: &str) -> String {
    let page = reqwest::Client::new()
        .get(format!("{}/", app.client.base))
        .header("cookie", format!("mf_session={cookie}"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 43].to_owned()
}

async fn viewers_and_forgeries_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let sim = tests::quick_simulator(10, 10).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    user(&app, "ana", Role::Admin).await;
    user(&app, "vera", Role::Viewer).await;
    let base = app.client.base.clone();

    let schedule = serde_json::json!({
        "name": "nightly", "cron": "0 3 * * *",
        "template": { "kind": "sync", "params": { "accounts": "all" } },
    });
    let (status, _) = app
        .client
        .post("/api/v1/schedules", Some(&app.admin), &schedule)
        .await;
    assert_eq!(status, 201);

    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "vera", PASSWORD).await;
    browser.find("[data-account='main']").await;
    for page in ["/", "/runs", "/dead-letters", "/queues", "/schedules"] {
        browser.goto(&format!("{base}{page}")).await;
        browser.find("#main h1").await;
        assert!(
            !browser
                .has("#main button[data-action], #main a[data-action], #main summary")
                .await,
            "a viewer sees an action on {page}"
        );
    }
    browser.close().await;

    let viewer = session_cookie(&app, "vera").await;
    let admin = session_cookie(&app, "ana").await;
    let viewer_csrf = csrf_of(&app, &viewer).await;
    let admin_csrf = csrf_of(&app, &admin).await;
    // A viewer's forged POST, with its own valid token.
    assert_eq!(sync(&app, &viewer, &base, Some(&viewer_csrf)).await, 403);
    let ana = jobs::users::find_by_name(&app.ctx.db, "ana")
        .await
        .expect("db")
        .expect("ana");
    let (demote, reset) = (
        format!("/admin/users/{}/role", ana.id),
        format!("/admin/users/{}/password", ana.id),
    );
    for (path, form) in [
        (
            demote.as_str(),
            vec![("csrf", viewer_csrf.as_str()), ("role", "viewer")],
        ),
        (reset.as_str(), vec![("csrf", viewer_csrf.as_str())]),
        ("/queues/sync/pause", vec![("csrf", viewer_csrf.as_str())]),
        (
            "/dead-letters/all",
            vec![
                ("csrf", viewer_csrf.as_str()),
                ("do", "discard"),
                ("expected", "10"),
            ],
        ),
        (
            "/schedules/new",
            vec![("csrf", viewer_csrf.as_str()), ("name", "x")],
        ),
    ] {
        assert_eq!(post(&app, &viewer, &base, path, &form).await, 403, "{path}");
    }
    // An admin's POST without the token, with another session's token, from elsewhere.
    assert_eq!(sync(&app, &admin, &base, None).await, 403);
    assert_eq!(sync(&app, &admin, &base, Some(&viewer_csrf)).await, 403);
    assert_eq!(
        sync(&app, &admin, "http://evil.example", Some(&admin_csrf)).await,
        403
    );
    assert_eq!(
        jobs::runs::list(&app.ctx.db, &jobs::runs::RunFilter::default(), None, 10)
            .await
            .expect("runs")
            .len(),
        0,
        "a refused change started a run"
    );
    let after = jobs::users::find_by_name(&app.ctx.db, "ana")
        .await
        .expect("db")
        .expect("ana");
    assert_eq!(
        (after.role, &after.password_hash),
        (jobs::api_keys::Role::Admin, &ana.password_hash),
        "a viewer changed an admin"
    );
    // The real thing.
    assert_eq!(sync(&app, &admin, &base, Some(&admin_csrf)).await, 303);
    assert_eq!(
        jobs::runs::list(&app.ctx.db, &jobs::runs::RunFilter::default(), None, 10)
            .await
            .expect("runs")
            .len(),
        1 + 2,
        "a sync of all resources: a parent and its two runs"
    );
    let audit = jobs::audit::Action::RunCreate;
    let rows = <entity::audit_log::Entity as sea_orm::EntityTrait>::find()
        .all(&app.ctx.db)
        .await
        .expect("audit");
    assert!(
        rows.iter()
            .any(|r| r.action == audit && r.actor == "user:ana"),
        "the console's change is audited with its user"
    );

    // Pages: not cached, not framed, no inline script.
    let resp = reqwest::Client::new()
        .get(format!("{base}/"))
        .header("cookie", format!("mf_session={admin}"))
        .send()
        .await
        .expect("get");
    let headers = resp.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("script-src 'self'")
    );
    let html = resp.text().await.expect("html");
    assert!(
        html.len() <= 100 * 1024,
        "the overview is {} bytes",
        html.len()
    );
    assert!(!html.contains(&admin), "the session id is in the page");
    app.shutdown().await;
    drop(sim);
}
