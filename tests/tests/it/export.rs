//! Exports: a CSV read back equals the database; an XLSX opened with calamine has typed
//! cells (numbers, money, dates) and a styled, frozen header; files past their retention
//! are deleted and their download says so.

use std::{collections::BTreeMap, time::Duration};

use calamine::{Data, DataType, Reader, Xlsx};
use entity::{offer, order_line};
use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::{Options, TestApp};
use uuid::Uuid;

async fn synced(app: &TestApp, offers: usize, orders: usize) -> Simulator {
    let config = SimConfig {
        offers,
        orders,
        limits: LimitMode::Off,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator");
    app.add_account("main", &sim, "main", "main-secret").await;
    let id = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    let run = finish(app, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    sim
}

async fn finish(app: &TestApp, id: Uuid) -> Value {
    app.wait_ended(id, Duration::from_secs(120)).await
}

async fn export(app: &TestApp, params: Value) -> (Uuid, Value) {
    let id = app
        .start_run(json!({ "kind": "export", "params": params }))
        .await;
    let run = finish(app, id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    (id, run)
}

/// Every stored offer, by its eMAG id.
async fn offers_by_id(db: &sea_orm::DatabaseConnection) -> BTreeMap<i64, offer::Model> {
    offer::Entity::find()
        .all(db)
        .await
        .expect("offers")
        .into_iter()
        .map(|o| (o.emag_id, o))
        .collect()
}

both!(
    csv_read_back_equals_the_database,
    csv_read_back_equals_the_database
);

async fn csv_read_back_equals_the_database(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let _sim = synced(&app, 2500, 120).await;
    let db = &app.ctx.db;

    let (id, run) = export(&app, json!({ "resource": "offers", "format": "csv" })).await;
    assert_eq!(run["result"]["rows"], 2500, "{run}");
    assert_eq!(run["progress"]["processed"], 2500);
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await;
    assert!(
        file.disposition.contains("filename=\"magflow-offers-"),
        "{}",
        file.disposition
    );
    let file = file.attachment("text/csv", "csv");
    let rows = tests::csv_rows(&file);
    let in_db = offers_by_id(db).await;
    assert_eq!(rows.len(), in_db.len());
    for row in &rows {
        let o = &in_db[&row["id"].parse::<i64>().expect("id")];
        assert_eq!(row["account"], o.account);
        assert_eq!(
            row["part_number"],
            o.part_number.clone().unwrap_or_default()
        );
        assert_eq!(row["name"], o.name.clone().unwrap_or_default());
        let price: Decimal = row["sale_price"].parse().expect("price");
        assert_eq!(Some(price), o.sale_price.map(|d| d.round_dp(4)), "{row:?}");
        assert_eq!(row["sale_price"].split('.').nth(1).map(str::len), Some(4));
        assert_eq!(
            row["general_stock"],
            o.general_stock.map(|n| n.to_string()).unwrap_or_default()
        );
        let updated = chrono::DateTime::parse_from_rfc3339(&row["updated_at"]).expect("time");
        assert_eq!(updated.timestamp(), o.updated_at.timestamp());
    }

    // Orders: one row per line, every line of every order.
    let (id, _) = export(&app, json!({ "resource": "orders" })).await;
    let file = app
        .client
        .download(&format!("/api/v1/runs/{id}/result"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    let rows = tests::csv_rows(&file);
    let lines = order_line::Entity::find().all(db).await.expect("lines");
    assert_eq!(rows.len(), lines.len());
    let from_file: std::collections::BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r["order_id"].clone(), r["line_id"].clone()))
        .collect();
    let from_db: std::collections::BTreeSet<(String, String)> = lines
        .iter()
        .map(|l| (l.order_id.to_string(), l.line_id.to_string()))
        .collect();
    assert_eq!(from_file, from_db);

    // Runs, filtered by status: the two exports so far are running or done, the sync done.
    let (id, _) = export(&app, json!({ "resource": "runs", "status": "succeeded" })).await;
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    let rows = tests::csv_rows(&file);
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
    assert!(rows.iter().any(|r| r["kind"] == "sync"));
    assert!(rows.iter().any(|r| r["kind"] == "export"));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_has_typed_cells() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    let _sim = synced(&app, 300, 10).await;
    let (id, run) = export(
        &app,
        json!({ "resource": "offers", "format": "xlsx", "account": "main", "status": 1 }),
    )
    .await;
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await
        .attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        );
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(file)).expect("an XLSX file");
    let sheet = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let header: Vec<String> = sheet
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[..3], ["account", "id", "part_number"]);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let active: BTreeMap<i64, offer::Model> = offer::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("offers")
        .into_iter()
        .filter(|o| o.status == Some(1))
        .map(|o| (o.emag_id, o))
        .collect();
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    assert_eq!(rows.len(), active.len(), "only active offers");
    assert_eq!(run["result"]["rows"], active.len());
    for row in rows {
        let id = row[col("id")].as_f64().expect("id is a number") as i64;
        let o = &active[&id];
        let price = row[col("sale_price")].as_f64().expect("price is a number");
        let want: f64 = o
            .sale_price
            .expect("price")
            .to_string()
            .parse()
            .expect("f64");
        assert!((price - want).abs() < 1e-6, "{price} vs {want}");
        assert!(
            matches!(row[col("updated_at")], Data::DateTime(_)),
            "dates are dates: {:?}",
            row[col("updated_at")]
        );
        let at = row[col("updated_at")].as_datetime().expect("a date");
        assert!((at - o.updated_at.naive_utc()).num_seconds().abs() <= 1);
        assert_eq!(row[col("account")].get_string(), Some("main"));
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_past_retention_are_gone() {
    let opts = Options {
        export_retention_hours: 0,
        ..Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let (first, _) = export(&app, json!({ "resource": "runs" })).await;
    let path = format!("/api/v1/exports/{first}/file");
    assert_eq!(app.client.download(&path, &app.viewer).await.status, 200);
    // The next export starts by deleting files older than the retention (here: any).
    export(&app, json!({ "resource": "runs", "format": "xlsx" })).await;
    let (status, body) = app.client.get(&path, Some(&app.viewer)).await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["code"], "gone");
    let (status, body) = app
        .client
        .get(
            &format!("/api/v1/exports/{}/file", Uuid::now_v7()),
            Some(&app.viewer),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "export", "params": { "resource": "offers", "status": "x" } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "params.status");
    app.shutdown().await;
}

both!(chosen_columns_in_their_order, chosen_columns_in_their_order);

/// `columns` picks and orders what an export writes; the names come from
/// `GET /api/v1/exports/columns`, and a name not there is refused with the valid ones.
async fn chosen_columns_in_their_order(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let _sim = synced(&app, 40, 12).await;

    let (status, names) = app
        .client
        .get("/api/v1/exports/columns", Some(&app.viewer))
        .await;
    assert_eq!(status, 200, "{names}");
    let listed = |r: &str| -> Vec<String> {
        names[r]
            .as_array()
            .unwrap_or_else(|| panic!("{r}: {names}"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(listed("offers")[..3], ["account", "id", "part_number"]);
    assert!(listed("orders").contains(&"line_id".to_owned()), "{names}");
    assert!(
        listed("runs").contains(&"error_category".to_owned()),
        "{names}"
    );

    let chosen = json!(["sale_price", "id", "name"]);
    let (id, run) = export(&app, json!({ "resource": "offers", "columns": chosen })).await;
    assert_eq!(run["result"]["rows"], 40, "{run}");
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    let text = String::from_utf8(file.clone()).expect("utf-8");
    assert_eq!(text.lines().next(), Some("sale_price,id,name"), "{text}");
    let in_db = offers_by_id(&app.ctx.db).await;
    let rows = tests::csv_rows(&file);
    assert_eq!(rows.len(), in_db.len());
    for row in &rows {
        assert_eq!(row.len(), 3, "{row:?}");
        let o = &in_db[&row["id"].parse::<i64>().expect("id")];
        assert_eq!(row["name"], o.name.clone().unwrap_or_default());
        let price: Decimal = row["sale_price"].parse().expect("price");
        assert_eq!(Some(price), o.sale_price.map(|d| d.round_dp(4)), "{row:?}");
    }

    for (columns, field, says) in [
        (
            json!(["id", "colour"]),
            "params.columns[1]",
            "valid: account, id,",
        ),
        (
            json!(["id", "name", "id"]),
            "params.columns[2]",
            "listed twice",
        ),
        (json!([]), "params.columns", "at least one column"),
    ] {
        let (status, body) = app
            .client
            .post(
                "/api/v1/runs",
                Some(&app.admin),
                &json!({ "kind": "export", "params": { "resource": "offers", "columns": columns } }),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], field, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}");
    }
    app.shutdown().await;
}
