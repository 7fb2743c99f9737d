//! Credentials follow the account, not the URL: a stored password is never sent to a host
//! an admin (or someone with the database) points the account at without giving it again.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use entity::emag_account;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, Options, TestApp};

both!(
    credentials_follow_the_account,
    credentials_follow_the_account
);
both!(
    legacy_passwords_are_bound_at_start_up,
    legacy_passwords_are_bound_at_start_up
);

/// A host that counts the connections it is sent and answers none of them.
struct Listener {
    url: String,
    connections: Arc<AtomicUsize>,
}

async fn listener() -> Listener {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/api-3", socket.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = socket.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Listener { url, connections }
}

async fn account(app: &TestApp, name: &str) -> Value {
    let (s, a) = app
        .client
        .get(&format!("/api/v1/accounts/{name}"), Some(&app.viewer))
        .await;
    assert_eq!(s, 200, "{a}");
    a
}

async fn row(app: &TestApp, name: &str) -> emag_account::Model {
    emag_account::Entity::find()
        .filter(emag_account::Column::Name.eq(name))
        .one(&app.ctx.db)
        .await
        .expect("read")
        .expect("row")
}

async fn credentials_follow_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(5, 5).await;
    let elsewhere = listener().await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("other", &sim, "fbe", "fbe-secret").await;
    assert_eq!(account(&app, "main").await["needs_password"], false);

    // Through the API: moving the login needs its password in the same request.
    for change in [
        json!({ "base_url": elsewhere.url }),
        json!({ "username": "someone-else" }),
        json!({ "platform": "ro" }),
    ] {
        let (s, err) = app
            .client
            .put("/api/v1/accounts/main", Some(&app.admin), &change)
            .await;
        assert_eq!(
            (s, err["field"].as_str()),
            (422, Some("password")),
            "{change}: {err}"
        );
    }
    // Other changes do not.
    let (s, _) = app
        .client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "kind": "main" }),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(app.check_account("main").await["status"], "ok");

    // Behind magflow's back: the URL changed in the database. The password does not open
    // for it, nothing is sent there, and the account says what it needs.
    let mut moved: emag_account::ActiveModel = row(&app, "main").await.into();
    moved.base_url = Set(elsewhere.url.clone());
    moved.update(&app.ctx.db).await.expect("update");
    assert_eq!(account(&app, "main").await["needs_password"], true);
    let checked = app.check_account("main").await;
    assert_eq!(checked["status"], "needs_password", "{checked}");
    let run = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "offers" } }),
        )
        .await;
    let run = app
        .wait_status(run, &["failed", "dead"], Duration::from_secs(30))
        .await;
    assert_eq!(run["error"]["category"], "credentials", "{run:#}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = app
            .client
            .get("/api/v1/status?account=main", Some(&app.viewer))
            .await;
        if status["accounts"][0]["needs_password"] == true {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(elsewhere.connections.load(Ordering::SeqCst), 0);

    // A sealed password copied from another row does not open either.
    let mut back: emag_account::ActiveModel = row(&app, "main").await.into();
    back.base_url = Set(sim.base_url.clone());
    back.password_sealed = Set(row(&app, "other").await.password_sealed);
    back.update(&app.ctx.db).await.expect("update");
    assert_eq!(account(&app, "main").await["needs_password"], true);
    assert_eq!(app.check_account("main").await["status"], "needs_password");

    // Given again, the password is bound to the account as it now is.
    let (s, fixed) = app
        .client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "password": "main-secret" }),
        )
        .await;
    assert_eq!(
        (s, &fixed["needs_password"]),
        (200, &json!(false)),
        "{fixed}"
    );
    assert_eq!(app.check_account("main").await["status"], "ok");
    assert_eq!(elsewhere.connections.load(Ordering::SeqCst), 0);
    app.shutdown().await;
}

/// Version 1 sealed passwords without binding them to their account; start-up seals them
/// again, bound. (A value sealed by version 1 under key 0x11…11.)
async fn legacy_passwords_are_bound_at_start_up(backend: Backend) {
    const KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const LEGACY: &str =
        "v1:tyH+exhG8KfPPl2X6qKbWv3MJPOyfRPZT+PeOq34Pb/u2T3m59Cl6M5z2tvLz1AeLx5lu40=";
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let mut config = app.config.clone();
    config.secret_key = Some(jobs::secrets::SecretKey::from_hex(KEY).expect("key"));
    let ctx = jobs::JobContext::connect(config.clone(), false)
        .await
        .expect("connect");
    let sim = tests::quick_simulator(5, 5).await;
    // An account as version 1 left it.
    let now = chrono::Utc::now();
    emag_account::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        name: Set("old".into()),
        kind: Set(entity::emag_account::AccountKind::Main),
        platform: Set(None),
        base_url: Set(sim.base_url.clone()),
        username: Set("main".into()),
        password_sealed: Set(LEGACY.into()),
        degraded_until: Set(None),
        degraded_reason: Set(None),
        unreachable_since: Set(None),
        callback_secret_hash: Set(None),
        callback_secret_set_at: Set(None),
        auto_acknowledge: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .expect("insert");
    let old = jobs::accounts::find(&ctx.db, "old")
        .await
        .expect("read")
        .expect("row");
    assert!(jobs::accounts::login(ctx.sealer.as_ref(), &old).is_err());

    // The next start-up binds it.
    let ctx = jobs::JobContext::connect(config, false)
        .await
        .expect("start-up");
    let old = jobs::accounts::find(&ctx.db, "old")
        .await
        .expect("read")
        .expect("row");
    assert!(
        old.password_sealed.starts_with("v2:"),
        "{}",
        old.password_sealed
    );
    let login = jobs::accounts::login(ctx.sealer.as_ref(), &old).expect("opens");
    assert_eq!(login.password, "legacy-secret");
    app.shutdown().await;
}
