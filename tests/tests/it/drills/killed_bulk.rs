//! kill -9 of the worker process running a bulk update, with eMAG answering each save
//! 1.5 s after applying it, so the kill leaves chunks applied without a recorded answer.
//! With the production lease (30 s) a second process takes the run up within 45 s, reads
//! the unanswered offers back, and every change reaches eMAG exactly once.

use std::time::Duration;

use entity::offer;
use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::{Backend, Options, TestApp, process};

use super::wait_ended;

const OFFERS: usize = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_during_a_bulk_update() {
    let _turn = tests::drill_turn().await;
    let sim = Simulator::start(
        SimConfig {
            offers: OFFERS,
            orders: 0,
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
    let env = app.process_env();
    let mut doomed = process::spawn(&["worker"], &env);

    let sync = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "offers" } }),
        )
        .await;
    assert_eq!(
        wait_ended(&app, sync, Duration::from_secs(120)).await["status"],
        "succeeded"
    );
    // Every item changes both fields, so an item recorded without being sent shows up
    // as an offer eMAG never saw a save for.
    let items: Vec<Value> = offer::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("offers")
        .iter()
        .map(|o| {
            let price = (o.sale_price.expect("price") * Decimal::new(11, 1)).round_dp(2);
            let stock = o.general_stock.unwrap_or(0) + 7;
            json!({ "account": "main", "id": o.emag_id, "sale_price": price.to_string(), "stock": stock })
        })
        .collect();
    assert_eq!(items.len(), OFFERS);

    sim.state.faults.lock().expect("faults").answer_delay_ms = 1500;
    let id = app
        .start_run(json!({ "kind": "bulk_update", "params": { "items": items } }))
        .await;
    app.wait_run(id, Duration::from_secs(60), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) >= 300
    })
    .await;
    doomed.kill().await.expect("kill -9");
    let mut survivor = process::spawn(&["worker"], &env);

    // Due after at most 45 s (the lease, then the survivor's reaper pass every half
    // lease); the rest is slack for a debug build sharing two cores with other tests.
    app.wait_run(id, Duration::from_secs(90), |r| {
        r["attempt"].as_i64().unwrap_or(0) >= 2
    })
    .await;

    let run = wait_ended(&app, id, Duration::from_secs(180)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(
        run["result"],
        json!({ "accepted": OFFERS, "rejected": 0 }),
        "{run:#}"
    );
    assert_eq!(run["progress"]["processed"], OFFERS, "{run:#}");

    let applied = sim
        .state
        .logins
        .lock()
        .expect("logins")
        .get("main")
        .expect("login")
        .saves_applied
        .clone();
    let twice: Vec<_> = applied.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} offers had their change applied more than once, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(5)]
    );
    assert_eq!(applied.len(), OFFERS, "every change reached eMAG");

    let events = app.events(id).await;
    let reconciled = events
        .iter()
        .find_map(|e| e.split_once("eMAG already shows ").map(|(_, rest)| rest))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("the survivor read the unanswered items back: {events:#?}"));
    assert!(
        reconciled > 0,
        "the kill left applied chunks unanswered: {events:#?}"
    );

    process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}
