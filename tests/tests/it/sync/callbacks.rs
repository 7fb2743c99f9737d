//! eMAG calls back: an account's callback URL (secret shown once) makes new and
//! cancelled orders land without a poll, acknowledged when the account asks; strangers,
//! repeats and floods cost nothing.

use std::time::{Duration, Instant};

use entity::{job_run, order};
use jobs::emag::sim::Faults;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, Options, TestApp, sim_admin, sim_dump};

use super::simulator;

both!(
    callbacks_bring_new_and_cancelled_orders,
    callbacks_bring_new_and_cancelled_orders
);
both!(
    callback_urls_refuse_strangers,
    callback_urls_refuse_strangers
);

/// Makes the account's callback secret; the URL to call on this test's server.
async fn callback_url(app: &TestApp, account: &str) -> String {
    let path = format!("/api/v1/accounts/{account}/callback-secret");
    let (status, _) = app.client.post(&path, Some(&app.viewer), &json!({})).await;
    assert_eq!(status, 403, "a viewer makes no secret");
    let (status, made) = app.client.post(&path, Some(&app.admin), &json!({})).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().expect("secret");
    assert_eq!(secret.len(), 32);
    let url = made["order_url"].as_str().expect("order_url");
    let tail = format!("/hooks/emag/{account}/{secret}/order");
    assert_eq!(url, format!("https://magflow.example.ro{tail}"));
    assert_eq!(made["account"]["callbacks"], true);
    let (_, shown) = app
        .client
        .get_text(&format!("/api/v1/accounts/{account}"), Some(&app.viewer))
        .await;
    assert!(!shown.contains(secret), "the secret is shown once");
    format!("{}{tail}", app.client.base)
}

/// Waits until the stored order has `status`.
async fn wait_order(app: &TestApp, id: u64, status: i32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = order::Entity::find()
            .filter(order::Column::EmagId.eq(id as i64))
            .one(&app.ctx.db)
            .await
            .expect("order");
        if row.as_ref().is_some_and(|o| o.status == status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "order {id} never stored with status {status}: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn callbacks_bring_new_and_cancelled_orders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = simulator(10, 5, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let (status, changed) = app
        .client
        .put(
            "/api/v1/accounts/main",
            Some(&app.admin),
            &json!({ "auto_acknowledge": true }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["auto_acknowledge"], true);
    let url = callback_url(&app, "main").await;
    sim_admin(
        &sim,
        "callbacks",
        &json!({ "login": "main", "order_url": url }),
    )
    .await;

    let added = sim_admin(&sim, "mutate", &json!({ "login": "main", "add_orders": 3 })).await;
    let ids: Vec<u64> = added["added_orders"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_u64().expect("id"))
        .collect();
    // New (1), acknowledged on eMAG's side (2), and stored as eMAG then says.
    for id in &ids {
        wait_order(&app, *id, 2).await;
    }
    let at_emag: Vec<Value> = sim_dump(&sim, "main", "orders").await;
    for id in &ids {
        let o = at_emag
            .iter()
            .find(|o| super::id_of(o) == *id as i64)
            .expect("at eMAG");
        assert_eq!(o["status"], 2, "order {id} acknowledged at eMAG");
    }
    assert_eq!(
        order::Entity::find()
            .count(&app.ctx.db)
            .await
            .expect("count"),
        3,
        "only the called-about orders were read, no full sync"
    );

    // Cancelled at eMAG: the stored order follows.
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "orders": [{ "id": ids[0], "status": 0 }] }),
    )
    .await;
    wait_order(&app, ids[0], 0).await;
    app.shutdown().await;
}

async fn call(app: &TestApp, path: &str) -> (u16, Value) {
    app.client.get(path, None).await
}

async fn callback_urls_refuse_strangers(backend: Backend) {
    let opts = Options {
        hook_calls_per_minute: Some(12),
        ..Options::default()
    };
    let app = TestApp::spawn_with(backend, opts).await;
    let sim = simulator(5, 5, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("other", &sim, "main", "main-secret").await;
    let order_id = super::id_of(&sim_dump(&sim, "main", "orders").await[0]);
    let url = callback_url(&app, "main").await;
    let path = url.trim_start_matches(&app.client.base).to_owned();
    let with = |p: &str| format!("{p}?order_id={order_id}");

    // Wrong secret, unknown account, account without callbacks: one and the same 404.
    let wrong = path.replace("/main/", "/main/x");
    let (s1, b1) = call(&app, &with(&wrong)).await;
    let (s2, b2) = call(&app, &with(&path.replace("/main/", "/nobody/"))).await;
    let (s3, b3) = call(&app, &with(&path.replace("/main/", "/other/"))).await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert_eq!(b1, b2);
    assert_eq!(b1, b3);

    // The right secret without an order id: 400 naming it.
    let (status, body) = call(&app, &path).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "order_id");

    // The same order twice while its read waits: one read.
    let (status, _) = app
        .client
        .post("/api/v1/queues/sync/pause", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, first) = call(&app, &with(&path)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["outcome"], "queued");
    let (status, again) = call(&app, &with(&path)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], "repeated");
    assert_eq!(again["run_id"], first["run_id"]);
    let runs = job_run::Entity::find()
        .filter(job_run::Column::Kind.eq(job_run::JobKind::Sync))
        .count(&app.ctx.db)
        .await
        .expect("runs");
    assert_eq!(runs, 1);
    let (status, _) = app
        .client
        .post("/api/v1/queues/sync/resume", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(status, 200);
    let run: uuid::Uuid = first["run_id"].as_str().expect("id").parse().expect("uuid");
    let done = app
        .wait_status(
            run,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // Once that read has begun, a call within the 10 s gets one more read, at their end.
    let (status, later) = call(&app, &with(&path)).await;
    assert_eq!(status, 200, "{later}");
    assert_eq!(later["outcome"], "deferred");
    assert_ne!(later["run_id"], first["run_id"]);

    // A new secret retires the old one; turning callbacks off retires both.
    let new_url = callback_url(&app, "main").await;
    let new_path = new_url.trim_start_matches(&app.client.base).to_owned();
    assert_eq!(call(&app, &with(&path)).await.0, 404);
    assert_eq!(call(&app, &with(&new_path)).await.0, 200);
    let (status, _) = app
        .client
        .delete("/api/v1/accounts/main/callback-secret", Some(&app.admin))
        .await;
    assert_eq!(status, 204);
    assert_eq!(call(&app, &with(&new_path)).await.0, 404);

    // A flood: past 12 calls a minute the account gets 429; another account does not.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(call(&app, &with(&wrong)).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
    assert_eq!(
        call(&app, &with(&path.replace("/main/", "/other/")))
            .await
            .0,
        404
    );
    app.shutdown().await;
}
