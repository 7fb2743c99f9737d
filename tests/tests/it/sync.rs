//! Sync against the simulator over real HTTP: every offer and order lands exactly, under
//! injected faults; one active sync per account and resource; incremental runs change
//! only what changed on eMAG; credential, IP and outage failures end in the right state.

use std::{collections::BTreeMap, time::Duration};

use entity::{offer, order, order_line};
use jobs::emag::sim::{Faults, LimitMode, SimConfig, Simulator};
use rust_decimal::Decimal;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{Backend, TestApp, sim_dump};
use uuid::Uuid;

both!(
    full_sync_is_exact_under_faults,
    full_sync_is_exact_under_faults
);
both!(
    incremental_changes_only_what_changed,
    incremental_changes_only_what_changed
);
both!(
    failures_end_in_the_right_state,
    failures_end_in_the_right_state
);

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

async fn start_sync(app: &TestApp, params: Value) -> Uuid {
    app.start_run(json!({ "kind": "sync", "params": params }))
        .await
}

async fn full_sync_is_exact_under_faults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let faults = Faults {
        error_rate: 0.1,
        html_share: 0.5,
        ..Faults::default()
    };
    let sim = simulator(5_000, 2_500, faults).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("fbe", &sim, "fbe", "fbe-secret").await;

    let parent = start_sync(&app, json!({ "accounts": "all", "resource": "all" })).await;
    // A second sync of an account and resource already syncing is refused with its id.
    let (status, conflict) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "offers" } }),
        )
        .await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["code"], "conflict");
    let holder = conflict["run_id"].as_str().expect("run_id").to_owned();

    let done = app
        .wait_status(
            parent,
            &["succeeded", "failed", "dead", "cancelled"],
            Duration::from_secs(180),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["progress"]["total"], 15_000, "{done:#}");
    assert_eq!(done["progress"]["processed"], 15_000, "{done:#}");
    assert_eq!(done["progress"]["created"], 15_000, "{done:#}");
    let (_, children) = app
        .client
        .get(
            &format!("/api/v1/runs?parent_id={parent}"),
            Some(&app.viewer),
        )
        .await;
    let children = children["items"].as_array().expect("children").clone();
    assert_eq!(children.len(), 4, "one run per account and resource");
    assert!(children.iter().any(|c| c["id"] == holder.as_str()));
    let errors: i64 = children
        .iter()
        .map(|c| c["progress"]["emag_errors"].as_i64().unwrap_or(0))
        .sum();
    assert!(errors > 0, "faults were injected: {children:#?}");
    for child in &children {
        assert_eq!(child["status"], "succeeded");
        assert!(child["progress"]["emag_requests"].as_i64().unwrap_or(0) > 0);
    }
    assert_exact(&app, &sim, "main", "main").await;
    assert_exact(&app, &sim, "fbe", "fbe").await;
    let lines = order_line::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("lines");
    let mut want_lines = 0;
    for login in ["main", "fbe"] {
        for o in sim_dump(&sim, login, "orders").await {
            want_lines += o["products"].as_array().map_or(0, Vec::len);
        }
    }
    assert_eq!(lines as usize, want_lines, "order lines");
    app.shutdown().await;
}

async fn incremental_changes_only_what_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = simulator(300, 400, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let first = start_sync(&app, json!({ "accounts": ["main"], "resource": "all" })).await;
    let done = app
        .wait_status(
            first,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done:#}");

    let offers = sim_dump(&sim, "main", "offers").await;
    let orders = sim_dump(&sim, "main", "orders").await;
    let (o1, o2) = (id_of(&offers[3]), id_of(&offers[150]));
    let (r1, r2) = (id_of(&orders[10]), id_of(&orders[200]));
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({
            "login": "main",
            "offers": [
                { "id": o1, "sale_price": "123.4567" },
                { "id": o2, "stock": [{ "warehouse_id": 1, "value": 7 }], "general_stock": 7 }
            ],
            "orders": [{ "id": r1, "status": 0 }, { "id": r2, "status": 5 }],
            "add_orders": 2
        }),
    )
    .await;

    let new_before: Vec<i64> = sim_dump(&sim, "main", "orders")
        .await
        .iter()
        .filter(|o| o["type"] == 3 && o["status"] == 1)
        .map(id_of)
        .collect();
    assert!(
        !new_before.is_empty(),
        "the seed has new seller-fulfilled orders"
    );
    let second = start_sync(
        &app,
        json!({ "accounts": ["main"], "resource": "all", "mode": "incremental", "acknowledge": true }),
    )
    .await;
    let done = app
        .wait_status(
            second,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let (_, children) = app
        .client
        .get(
            &format!("/api/v1/runs?parent_id={second}"),
            Some(&app.viewer),
        )
        .await;
    let child = |resource: &str| {
        children["items"]
            .as_array()
            .expect("children")
            .iter()
            .find(|c| c["params"]["resource"] == resource)
            .cloned()
            .expect("child run")
    };
    let offers_run = child("offers");
    assert_eq!(offers_run["progress"]["updated"], 2, "{offers_run:#}");
    assert_eq!(offers_run["progress"]["created"], 0);
    assert_eq!(offers_run["progress"]["unchanged"], 298);
    let orders_run = child("orders");
    assert_eq!(orders_run["progress"]["updated"], 2, "{orders_run:#}");
    assert_eq!(orders_run["progress"]["created"], 2, "{orders_run:#}");
    assert!(
        orders_run["progress"]["processed"].as_i64().unwrap_or(0) < 400,
        "incremental reads only recent changes: {orders_run:#}"
    );
    // Acknowledged on eMAG, then read again: the database says what eMAG now says.
    let after = sim_dump(&sim, "main", "orders").await;
    for id in &new_before {
        let o = after.iter().find(|o| id_of(o) == *id).expect("order");
        assert_eq!(o["status"], 2, "order {id} acknowledged");
    }
    assert_exact(&app, &sim, "main", "main").await;
    app.shutdown().await;
}

async fn failures_end_in_the_right_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = simulator(200, 50, Faults::default()).await;
    app.add_account("wrong", &sim, "main", "not-the-password")
        .await;
    app.add_account("blocked", &sim, "fbe", "fbe-secret").await;
    app.add_account("main", &sim, "main", "main-secret").await;
    tests::sim_admin(
        &sim,
        "ip-block",
        &json!({ "login": "fbe", "blocked": true }),
    )
    .await;

    let wrong = start_sync(&app, json!({ "accounts": ["wrong"], "resource": "offers" })).await;
    let blocked = start_sync(
        &app,
        json!({ "accounts": ["blocked"], "resource": "orders" }),
    )
    .await;
    for (id, category) in [(wrong, "bad_credentials"), (blocked, "ip_not_whitelisted")] {
        let run = app
            .wait_status(
                id,
                &["failed", "dead", "succeeded"],
                Duration::from_secs(30),
            )
            .await;
        assert_eq!(run["status"], "failed", "{run:#}");
        assert_eq!(run["attempt"], 1, "not retried: {run:#}");
        assert_eq!(run["error"]["category"], category, "{run:#}");
        let message = run["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("not-the-password") && !message.contains("secret"),
            "{message}"
        );
    }

    // An outage longer than every retry (15 requests at 3/s): the account is degraded and the run
    // pauses (without using attempts) until eMAG answers again, then completes.
    // And one offer eMAG sends unreadable: counted and named, the rest of its page stored.
    let offers = sim_dump(&sim, "main", "offers").await;
    let bad = id_of(&offers[42]);
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "offers": [{ "id": bad, "sale_price": "not a price" }] }),
    )
    .await;
    tests::sim_admin(&sim, "outage", &json!({ "login": "main", "seconds": 10.0 })).await;
    let run = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    let paused = app
        .wait_run(run, Duration::from_secs(30), |r| {
            r["error"]["category"] == "emag_unavailable"
        })
        .await;
    assert_eq!(paused["status"], "queued", "{paused:#}");
    let done = app
        .wait_status(
            run,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["attempt"], 1, "pauses use no attempt: {done:#}");
    let events = app.events(run).await;
    assert!(
        events
            .iter()
            .any(|e| e.contains("paused (emag_unavailable)")),
        "{events:#?}"
    );
    let skipped = format!("item {bad} skipped");
    assert!(
        events.iter().any(|e| e.starts_with(&skipped)),
        "{events:#?}"
    );
    assert_eq!(done["progress"]["failed"], 1, "{done:#}");
    assert_eq!(done["progress"]["processed"], 200, "{done:#}");
    let stored = offer::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(stored, 199);
    app.shutdown().await;
}

/// A worker OS process killed (-9) mid-sync: another process takes the run over and
/// resumes after the last committed page; the data ends exact, with no duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_resumes_sync_from_its_checkpoint() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        tests::Options {
            worker: false,
            lease_secs: 3,
            ..tests::Options::default()
        },
    )
    .await;
    // 60 pages at eMAG's 3 requests/s: about 20 s, time enough to kill it half-way.
    let sim = simulator(6_000, 10, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let env = app.process_env();
    let mut doomed = tests::process::spawn(&["worker"], &env);
    let run = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    app.wait_run(run, Duration::from_secs(60), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    doomed.kill().await.expect("kill -9");

    let mut survivor = tests::process::spawn(&["worker"], &env);
    let done = app
        .wait_status(
            run,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["attempt"], 2, "{done:#}");
    let events = app.events(run).await;
    let resumed_at: u32 = events
        .iter()
        .find_map(|e| e.strip_prefix("resuming offers at page "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume line: {events:#?}"));
    assert!(resumed_at > 5, "resumed at page {resumed_at}");
    // Pages of the killed attempt were not read again: one read per page, plus at most
    // the page in flight when the worker died.
    assert!(
        done["progress"]["pages_done"].as_i64().unwrap_or(0) <= 61,
        "{done:#}"
    );
    assert_eq!(
        done["progress"]["created"], 6_000,
        "each offer created once: {done:#}"
    );
    let stored = offer::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(stored, 6_000);
    let want = sim_dump(&sim, "main", "offers").await;
    let have = offer::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("offers");
    let want_ids: std::collections::BTreeSet<i64> = want.iter().map(id_of).collect();
    let have_ids: std::collections::BTreeSet<i64> = have.iter().map(|o| o.emag_id).collect();
    assert_eq!(want_ids, have_ids);

    tests::process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}

both!(
    cancelling_a_parent_stops_its_runs,
    cancelling_a_parent_stops_its_runs
);

/// Cancelling a multi-account sync cancels each of its runs, which stop at the next page
/// keeping what they wrote; the lock is free again at once.
async fn cancelling_a_parent_stops_its_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 40 pages per account at eMAG's 3 requests/s: long enough to cancel mid-way.
    let sim = simulator(4_000, 20, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("fbe", &sim, "fbe", "fbe-secret").await;
    let parent = start_sync(&app, json!({ "accounts": "all", "resource": "offers" })).await;
    app.wait_run(parent, Duration::from_secs(60), |r| {
        r["progress"]["pages_done"].as_i64().unwrap_or(0) >= 4
    })
    .await;
    let (status, body) = app
        .client
        .post(
            &format!("/api/v1/runs/{parent}/cancel"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let done = app
        .wait_status(
            parent,
            &["cancelled", "succeeded", "failed"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(done["status"], "cancelled", "{done:#}");
    let (_, children) = app
        .client
        .get(
            &format!("/api/v1/runs?parent_id={parent}"),
            Some(&app.viewer),
        )
        .await;
    for child in children["items"].as_array().expect("children") {
        assert_eq!(child["status"], "cancelled", "{child:#}");
    }
    let kept = offer::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert!(
        kept > 0 && kept < 8_000,
        "pages written before the cancel stay: {kept}"
    );
    // No sync is active any more: a new one is accepted.
    let again = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
    assert_ne!(again, parent);
    app.shutdown().await;
}
