//! Sync against the simulator over real HTTP: every offer and order lands exactly, under
//! injected faults; one active sync per account and resource; incremental runs change
//! only what changed on eMAG; credential, IP and outage failures end in the right state;
//! killed workers and cancelled parents. The helpers here are shared by the modules.

mod callbacks;
mod control;
mod data;
mod failures;
mod outage;
mod removals;
mod side_by_side;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use entity::{offer, order};
use jobs::emag::sim::{Faults, LimitMode, SimConfig, Simulator};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, sim_dump};
use uuid::Uuid;

async fn simulator(offers: usize, orders: usize, faults: Faults) -> Simulator {
    let config = SimConfig {
        offers,
        orders,
        limits: LimitMode::Emag,
        faults,
        ..SimConfig::default()
    };
    Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator")
}

fn id_of(v: &Value) -> i64 {
    match &v["id"] {
        Value::String(s) => s.parse().expect("numeric id"),
        other => other.as_i64().expect("numeric id"),
    }
}

fn money(v: &Value) -> Decimal {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.parse::<Decimal>().expect("money").round_dp(4)
}

/// Every offer and order of `login` in the database equals the simulator's copy.
async fn assert_exact(app: &TestApp, sim: &Simulator, account: &str, login: &str) {
    let db = &app.ctx.db;
    let want: BTreeMap<i64, Value> = sim_dump(sim, login, "offers")
        .await
        .into_iter()
        .map(|o| (id_of(&o), o))
        .collect();
    let have: BTreeMap<i64, offer::Model> = offer::Entity::find()
        .all(db)
        .await
        .expect("offers")
        .into_iter()
        .filter(|o| o.account == account)
        .map(|o| (o.emag_id, o))
        .collect();
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        have.keys().collect::<Vec<_>>(),
        "offer ids of {account}"
    );
    for (id, w) in &want {
        let h = &have[id];
        assert_eq!(
            h.sale_price.map(|d| d.round_dp(4)),
            Some(money(&w["sale_price"])),
            "sale_price of offer {id}"
        );
        assert_eq!(
            h.min_sale_price.map(|d| d.round_dp(4)),
            Some(money(&w["min_sale_price"])),
            "min_sale_price of offer {id}"
        );
        assert_eq!(
            h.general_stock,
            w["general_stock"].as_i64(),
            "stock of offer {id}"
        );
        assert_eq!(
            h.status.map(i64::from),
            w["status"].as_i64(),
            "status of offer {id}"
        );
        assert_eq!(h.name.as_deref(), w["name"].as_str(), "name of offer {id}");
        assert_eq!(
            h.part_number.as_deref(),
            w["part_number"].as_str(),
            "part_number of offer {id}"
        );
        assert_eq!(h.raw, *w, "offer {id} as eMAG sent it");
    }
    let want: BTreeMap<i64, Value> = sim_dump(sim, login, "orders")
        .await
        .into_iter()
        .map(|o| (id_of(&o), o))
        .collect();
    let have: BTreeMap<i64, order::Model> = order::Entity::find()
        .all(db)
        .await
        .expect("orders")
        .into_iter()
        .filter(|o| o.account == account)
        .map(|o| (o.emag_id, o))
        .collect();
    assert_eq!(want.len(), have.len(), "order count of {account}");
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        have.keys().collect::<Vec<_>>(),
        "order ids of {account}"
    );
    for (id, w) in &want {
        let h = &have[id];
        assert_eq!(
            i64::from(h.status),
            w["status"].as_i64().expect("status"),
            "status of order {id}"
        );
        assert_eq!(
            i64::from(h.order_type),
            w["type"].as_i64().expect("type"),
            "type of order {id}"
        );
        assert_eq!(
            h.modified_local.as_deref(),
            w["modified"].as_str(),
            "modified of order {id}"
        );
        let parsed: jobs::emag::types::Order = serde_json::from_value(w.clone()).expect("order");
        assert_eq!(
            h.total_with_vat.round_dp(4),
            parsed.total_with_vat(),
            "total of order {id}"
        );
    }
}

/// Waits until the run has ended, whatever the outcome.
async fn finish(app: &TestApp, id: Uuid) -> Value {
    app.wait_ended(id, Duration::from_secs(180)).await
}

/// The runs of a parent run.
async fn children(app: &TestApp, parent: Uuid) -> Vec<Value> {
    let (status, page) = app
        .client
        .get(
            &format!("/api/v1/runs?parent_id={parent}"),
            Some(&app.viewer),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().expect("children").clone()
}

async fn start_sync(app: &TestApp, params: Value) -> Uuid {
    app.start_run(json!({ "kind": "sync", "params": params }))
        .await
}

/// The ids of the stored offers: those marked removed (`Some(true)`), those not
/// (`Some(false)`), or all of them.
async fn offer_ids(app: &TestApp, removed: Option<bool>) -> BTreeSet<i64> {
    let mut find = offer::Entity::find();
    match removed {
        Some(true) => find = find.filter(offer::Column::RemovedAt.is_not_null()),
        Some(false) => find = find.filter(offer::Column::RemovedAt.is_null()),
        None => {}
    }
    find.all(&app.ctx.db)
        .await
        .expect("offers")
        .into_iter()
        .map(|o| o.emag_id)
        .collect()
}

/// An app for the tests that kill worker processes: Redis and PostgreSQL, no worker in
/// the test's process, a 3 s lease.
async fn without_worker() -> TestApp {
    TestApp::spawn_with(
        tests::Backend::Redis,
        tests::Options {
            worker: false,
            lease_secs: 3,
            ..tests::Options::default()
        },
    )
    .await
}

/// Starts an offers sync of account `main` on a `magflow worker` process and kills that
/// process (-9) once `pages` pages are done; a second process finishes the run. Checks
/// that the run succeeded on its second attempt, resuming past those pages; returns the
/// run and the second process (for the caller to stop).
async fn killed_and_resumed(
    app: &TestApp,
    env: &[(String, String)],
    pages: i64,
) -> (Value, tokio::process::Child) {
    let mut doomed = tests::process::spawn(&["worker"], env);
    let run = start_sync(app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    app.wait_run(run, Duration::from_secs(120), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= pages
    })
    .await;
    doomed.kill().await.expect("kill -9");

    let survivor = tests::process::spawn(&["worker"], env);
    let done = finish(app, run).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["attempt"], 2, "killed before the end: {done:#}");
    let events = app.events(run).await;
    let resumed_at: i64 = events
        .iter()
        .find_map(|e| e.strip_prefix("resuming offers at page "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume line: {events:#?}"));
    assert!(resumed_at > pages, "resumed at page {resumed_at}");
    (done, survivor)
}
