//! Redis (AOF on) or PostgreSQL restarted while a
//! sync runs on two `magflow worker` processes. The API and the workers recover without
//! being restarted, the run completes, and every offer and order lands exactly once.

use std::time::Duration;

use entity::{offer, order};
use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tests::{TestApp, pg_server::PgServer, redis_server::RedisServer};

use super::wait_ended;

async fn ready(app: &TestApp) -> u16 {
    app.client.get("/ready", None).await.0
}

async fn wait_ready(app: &TestApp, want: u16, deadline: Duration) {
    let until = tokio::time::Instant::now() + deadline;
    while ready(app).await != want {
        assert!(
            tokio::time::Instant::now() < until,
            "/ready never answered {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the drill restarts.
enum Restart {
    Redis(RedisServer),
    Postgres(PgServer),
}

impl Restart {
    fn stop(&mut self) {
        match self {
            Restart::Redis(r) => r.stop(),
            Restart::Postgres(p) => p.stop(),
        }
    }

    fn start_again(&mut self) {
        match self {
            Restart::Redis(r) => r.start_again(),
            Restart::Postgres(p) => p.start_again(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_during_a_sync() {
    let _turn = tests::drill_turn().await;
    let redis = RedisServer::start();
    let opts = tests::Options {
        redis_url: Some(redis.url()),
        ..tests::Options::default()
    };
    drill(opts, Restart::Redis(redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_during_a_sync() {
    let _turn = tests::drill_turn().await;
    let pg = PgServer::start();
    let opts = tests::Options {
        database_url: Some(pg.url()),
        ..tests::Options::default()
    };
    drill(opts, Restart::Postgres(pg)).await;
}

async fn drill(opts: tests::Options, mut server: Restart) {
    let sim = Simulator::start(
        SimConfig {
            offers: 3000,
            orders: 1500,
            limits: LimitMode::Emag,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    let opts = tests::Options {
        worker: false,
        ..opts
    };
    let app = TestApp::spawn_with(tests::Backend::Redis, opts).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let env = app.process_env();
    let mut workers: Vec<_> = (0..2)
        .map(|_| tests::process::spawn(&["worker"], &env))
        .collect();

    let parent = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    // A third of the way through the offers (30 pages at 3 requests/s), the server goes
    // away for 3 s.
    app.wait_run(parent, Duration::from_secs(60), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    server.stop();
    wait_ready(&app, 503, Duration::from_secs(10)).await;
    let down_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < down_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.start_again();
    wait_ready(&app, 200, Duration::from_secs(30)).await;

    let run = wait_ended(&app, parent, Duration::from_secs(240)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let db = &app.ctx.db;
    assert_eq!(offer::Entity::find().count(db).await.expect("offers"), 3000);
    assert_eq!(order::Entity::find().count(db).await.expect("orders"), 1500);
    assert_eq!(run["progress"]["processed"], 4500, "{run:#}");

    for w in &workers {
        tests::process::terminate(w);
    }
    for w in &mut workers {
        let _ = w.wait().await;
    }
    app.shutdown().await;
}
