//! kill -9 of the worker moving orders in bulk, with eMAG answering each `order/save`
//! 1 s after applying it, so the kill leaves an order moved at eMAG without a recorded
//! answer. A second process takes the run up after the lease, reads each order before
//! sending, and every order moves exactly once.

use std::time::Duration;

use entity::order;
use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, Options, TestApp, process, sim_admin};

use super::wait_ended;

const ORDERS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_while_moving_orders() {
    let _turn = tests::drill_turn().await;
    let sim = Simulator::start(
        SimConfig {
            offers: 5,
            orders: ORDERS + 10,
            limits: LimitMode::Emag,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            lease_secs: jobs::Config::default().lease_secs,
            ..Options::default()
        },
    )
    .await;
    app.add_account("main", &sim, "main", "main-secret").await;
    // ORDERS seller-fulfilled orders in progress (2), to be marked prepared (3).
    let ids: Vec<u64> = tests::sim_dump(&sim, "main", "orders")
        .await
        .iter()
        .filter(|o| o["type"] == 3)
        .filter_map(|o| {
            o["id"]
                .as_u64()
                .or_else(|| o["id"].as_str().and_then(|s| s.parse().ok()))
        })
        .take(ORDERS)
        .collect();
    assert_eq!(ids.len(), ORDERS);
    let busy: Vec<_> = ids
        .iter()
        .map(|id| json!({ "id": id, "status": 2 }))
        .collect();
    sim_admin(&sim, "mutate", &json!({ "login": "main", "orders": busy })).await;
    let env = app.process_env();
    let mut doomed = process::spawn(&["worker"], &env);
    let sync = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "orders" } }),
        )
        .await;
    assert_eq!(
        wait_ended(&app, sync, Duration::from_secs(120)).await["status"],
        "succeeded"
    );

    sim.state.faults.lock().expect("faults").answer_delay_ms = 1000;
    let items: Vec<_> = ids
        .iter()
        .map(|id| json!({ "account": "main", "order_id": id, "action": "prepared" }))
        .collect();
    let id = app
        .start_run(json!({ "kind": "bulk_update", "params": { "items": items } }))
        .await;
    app.wait_run(id, Duration::from_secs(60), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    // Killed while eMAG has moved an order whose answer is not back yet.
    let applied = || {
        sim.state
            .logins
            .lock()
            .expect("logins")
            .get("main")
            .map_or(0, |l| l.order_changes.len() as i64)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let processed = app.run(id).await["progress"]["processed"]
            .as_i64()
            .unwrap_or(0);
        if applied() > processed {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no save was ever in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill().await.expect("kill -9");
    let mut survivor = process::spawn(&["worker"], &env);

    let run = wait_ended(&app, id, Duration::from_secs(180)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["attempt"], 2, "{run:#}");
    assert_eq!(
        run["result"],
        json!({ "accepted": ORDERS, "rejected": 0 }),
        "{run:#}"
    );
    let changes = sim
        .state
        .logins
        .lock()
        .expect("logins")
        .get("main")
        .expect("login")
        .order_changes
        .clone();
    let twice: Vec<_> = changes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "orders moved more than once: {twice:?}");
    assert_eq!(changes.len(), ORDERS, "every order moved at eMAG");
    let stored = order::Entity::find()
        .filter(order::Column::Status.eq(3))
        .all(&app.ctx.db)
        .await
        .expect("orders");
    assert!(stored.len() >= ORDERS, "the stored orders follow");
    let events = app.events(id).await;
    assert!(
        events
            .iter()
            .any(|e| e.contains("already showed their change at eMAG")),
        "the survivor found the order the kill left unanswered: {events:#?}"
    );
    process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}
