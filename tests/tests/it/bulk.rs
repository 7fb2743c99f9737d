//! Bulk price/stock updates against the simulator over real HTTP: per-item outcomes equal
//! eMAG's state, a 5xx in the middle of the run applies no chunk twice, every bad item is
//! named before anything is queued, a dry run changes nothing, and a CSV upload works
//! like JSON items.

use std::{collections::BTreeMap, time::Duration};

use entity::offer;
use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::{TestApp, sim_admin, sim_dump};
use uuid::Uuid;

async fn simulator(offers: usize) -> Simulator {
    let config = SimConfig {
        offers,
        orders: 0,
        limits: LimitMode::Emag,
        ..SimConfig::default()
    };
    Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator")
}

/// Syncs the offers of `accounts` and returns the database copy, by account and id.
async fn synced_offers(app: &TestApp, accounts: Value) -> BTreeMap<(String, i64), offer::Model> {
    let id = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": accounts, "resource": "offers" } }),
        )
        .await;
    let run = finish(app, id, 120).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    offer::Entity::find()
        .order_by_asc(offer::Column::EmagId)
        .all(&app.ctx.db)
        .await
        .expect("offers")
        .into_iter()
        .map(|o| ((o.account.clone(), o.emag_id), o))
        .collect()
}

/// Waits until the run has ended, whatever the outcome.
async fn finish(app: &TestApp, id: Uuid, secs: u64) -> Value {
    app.wait_ended(id, Duration::from_secs(secs)).await
}

fn sim_money(v: &Value) -> Decimal {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.parse::<Decimal>().expect("money").normalize()
}

fn offer_id(v: &Value) -> i64 {
    match &v["id"] {
        Value::String(s) => s.parse().expect("id"),
        other => other.as_i64().expect("id"),
    }
}

async fn result_rows(app: &TestApp, run: Uuid) -> Vec<BTreeMap<String, String>> {
    let file = app
        .client
        .download(&format!("/api/v1/runs/{run}/result"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    tests::csv_rows(&file)
}

both!(applies_and_records_outcomes, applies_and_records_outcomes);

async fn applies_and_records_outcomes(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = simulator(1000).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let offers = synced_offers(&app, json!(["main"])).await;
    assert_eq!(offers.len(), 1000);

    // One offer in twenty is in a campaign on eMAG's side: eMAG refuses its price.
    let locked: Vec<i64> = offers.values().step_by(20).map(|o| o.emag_id).collect();
    let changes: Vec<Value> = locked
        .iter()
        .map(|id| json!({ "id": id, "campaign_locked": true }))
        .collect();
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "offers": changes }),
    )
    .await;

    let mut want: BTreeMap<i64, (Decimal, i64)> = BTreeMap::new();
    let items: Vec<Value> = offers
        .values()
        .enumerate()
        .map(|(i, o)| {
            let price = (o.sale_price.expect("sale price") * Decimal::new(11, 1)).round_dp(2);
            let stock = (i % 40) as i64;
            want.insert(o.emag_id, (price, stock));
            json!({ "account": "main", "id": o.emag_id, "sale_price": price.to_string(), "stock": stock })
        })
        .collect();

    // eMAG fails every fourth request while chunks are in flight (before applying it, as
    // a gateway error does): the client retries, and no chunk may be applied twice.
    sim.state.faults.lock().expect("faults").error_every = 4;
    let before = sim.state.requests(0).len();
    let id = app
        .start_run(json!({ "kind": "bulk_update", "params": { "items": items } }))
        .await;
    let run = finish(&app, id, 120).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        run["result"],
        json!({ "accepted": 950, "rejected": 50 }),
        "{run}"
    );
    assert_eq!(run["progress"]["processed"], 1000);
    assert_eq!(run["progress"]["updated"], 950);
    assert_eq!(run["progress"]["failed"], 50);
    assert_eq!(run["progress"]["accepted"], 950);
    assert_eq!(run["progress"]["rejected"], 50);
    assert_eq!(run["progress"]["total"], 1000);
    sim.state.faults.lock().expect("faults").error_every = 0;

    let saves = sim
        .state
        .requests(before)
        .into_iter()
        .filter(|r| r.route == "offer/save")
        .collect::<Vec<_>>();
    assert_eq!(
        saves.iter().filter(|r| r.status == 200).count(),
        20,
        "1000 items in 20 chunks of 50, each applied once"
    );
    assert!(saves.iter().any(|r| r.status >= 500), "faults were met");

    let at_emag: BTreeMap<i64, Value> = sim_dump(&sim, "main", "offers")
        .await
        .into_iter()
        .map(|o| (offer_id(&o), o))
        .collect();
    let rows = result_rows(&app, id).await;
    assert_eq!(rows.len(), 1000);
    let in_db: BTreeMap<i64, offer::Model> = offer::Entity::find()
        .filter(offer::Column::Account.eq("main"))
        .all(&app.ctx.db)
        .await
        .expect("offers")
        .into_iter()
        .map(|o| (o.emag_id, o))
        .collect();
    for row in &rows {
        let id: i64 = row["id"].parse().expect("id");
        let (price, stock) = want[&id];
        let emag = &at_emag[&id];
        let original = offers[&("main".to_owned(), id)].sale_price.expect("price");
        if locked.contains(&id) {
            assert_eq!(row["outcome"], "rejected", "{row:?}");
            assert!(row["message"].contains("campaign"), "{row:?}");
            assert_eq!(
                sim_money(&emag["sale_price"]),
                original.normalize(),
                "offer {id} unchanged at eMAG"
            );
            assert_eq!(
                in_db[&id].sale_price,
                Some(original),
                "offer {id} unchanged in the database"
            );
        } else {
            assert_eq!(row["outcome"], "accepted", "{row:?}");
            assert_eq!(
                sim_money(&emag["sale_price"]),
                price.normalize(),
                "offer {id} at eMAG"
            );
            assert_eq!(
                emag["general_stock"].as_i64(),
                Some(stock),
                "stock of {id} at eMAG"
            );
            assert_eq!(
                in_db[&id].sale_price.map(|d| d.round_dp(4)),
                Some(price),
                "offer {id} in the database"
            );
            assert_eq!(in_db[&id].general_stock, Some(stock));
        }
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_item_is_named_and_nothing_is_queued() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    let sim = simulator(20).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("fbe", &sim, "fbe", "fbe-secret").await;
    let offers = synced_offers(&app, json!("all")).await;
    let main: Vec<&offer::Model> = offers.values().filter(|o| o.account == "main").collect();
    let fbe = offers
        .values()
        .find(|o| o.account == "fbe")
        .expect("an FBE offer");
    let above_max = main[1].max_sale_price.expect("max") + Decimal::ONE;
    let items = json!([
        { "account": "main", "id": 987654321, "sale_price": "10" },
        { "account": "main", "id": main[1].emag_id, "sale_price": above_max.to_string() },
        { "account": "main", "id": main[2].emag_id, "recommended_price": main[2].sale_price.expect("price").to_string() },
        { "account": "main", "id": main[3].emag_id, "stock": -1 },
        { "account": "main", "id": main[4].emag_id, "stock": 2.5 },
        { "account": "fbe", "id": fbe.emag_id, "stock": 3 },
        { "account": "main", "id": main[5].emag_id, "sale_price": "10.12345" },
        { "account": "main", "id": main[6].emag_id, "colour": "red" },
        { "account": "main", "id": main[7].emag_id, "stock": 5 },
        { "account": "nobody", "id": 1, "stock": 5 },
    ]);
    let before = sim.state.requests(0).len();
    let (status, body) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "bulk_update", "params": { "items": items } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let named: Vec<(u64, String)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            assert!(!p["reason"].as_str().unwrap_or_default().is_empty(), "{p}");
            (
                p["row"].as_u64().expect("row"),
                p["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (1, "id"),
        (2, "sale_price"),
        (3, "recommended_price"),
        (4, "stock"),
        (5, "stock"),
        (6, "stock"),
        (7, "sale_price"),
        (8, "colour"),
        (10, "account"),
    ]
    .into_iter()
    .map(|(r, f)| (r, f.to_owned()))
    .collect();
    assert_eq!(named, expected, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("9 items"),
        "{body}"
    );

    // The same through CSV: rows are line numbers (the header is line 1).
    let csv = format!(
        "account,id,sale_price,stock\nmain,{},,4\nmain,{},1.00001,\n",
        main[7].emag_id, main[8].emag_id
    );
    let (status, body) = app
        .client
        .post_raw("/api/v1/bulk-updates", Some(&app.admin), "text/csv", &csv)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["items"],
        json!([{ "row": 3, "field": "sale_price", "reason": "has more than 4 decimals" }])
    );

    let (_, runs) = app
        .client
        .get("/api/v1/runs?kind=bulk_update", Some(&app.viewer))
        .await;
    assert_eq!(runs["items"], json!([]), "nothing queued");
    assert!(
        sim.state
            .requests(before)
            .iter()
            .all(|r| r.route != "offer/save"),
        "nothing sent to eMAG"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing_and_csv_upload_sends() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    let sim = simulator(20).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let offers = synced_offers(&app, json!(["main"])).await;
    let (a, b) = {
        let mut it = offers.values();
        (it.next().expect("a"), it.next().expect("b"))
    };
    let new_price = (a.sale_price.expect("price") * Decimal::new(105, 2)).round_dp(2);
    let before = sim.state.requests(0).len();
    let (status, preview) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "bulk_update", "params": { "dry_run": true, "items": [
                { "account": "main", "id": a.emag_id, "sale_price": new_price.to_string() },
                { "account": "main", "part_number": b.part_number, "stock": 7 },
            ] } }),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["count"], 2);
    assert_eq!(
        preview["items"][0]["changes"],
        json!([{ "field": "sale_price", "from": format!("{:.4}", a.sale_price.expect("price")), "to": format!("{new_price:.4}") }])
    );
    assert_eq!(preview["items"][1]["id"], b.emag_id, "found by part_number");
    assert_eq!(
        preview["items"][1]["changes"][0]["from"],
        json!(b.general_stock)
    );
    assert_eq!(preview["items"][1]["changes"][0]["to"], json!(7));
    let (_, runs) = app
        .client
        .get("/api/v1/runs?kind=bulk_update", Some(&app.viewer))
        .await;
    assert_eq!(runs["items"], json!([]), "a dry run queues nothing");
    assert!(
        sim.state
            .requests(before)
            .iter()
            .all(|r| r.route != "offer/save")
    );

    let csv = format!(
        "account,part_number,stock,sale_price\nmain,{},7,\nmain,{},,{}\n",
        b.part_number.clone().expect("part number"),
        a.part_number.clone().expect("part number"),
        new_price
    );
    let (status, run) = app
        .client
        .post_raw(
            "/api/v1/bulk-updates",
            Some(&app.admin),
            "text/csv; charset=utf-8",
            &csv,
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let id: Uuid = run["id"].as_str().expect("id").parse().expect("uuid");
    let run = finish(&app, id, 60).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let rows = result_rows(&app, id).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["row"], "2");
    assert_eq!(rows[0]["stock"], "7");
    assert!(rows.iter().all(|r| r["outcome"] == "accepted"), "{rows:?}");
    let at_emag: BTreeMap<i64, Value> = sim_dump(&sim, "main", "offers")
        .await
        .into_iter()
        .map(|o| (offer_id(&o), o))
        .collect();
    assert_eq!(at_emag[&b.emag_id]["general_stock"], 7);
    assert_eq!(
        sim_money(&at_emag[&a.emag_id]["sale_price"]),
        new_price.normalize()
    );
    app.shutdown().await;
}
