//! The daily history exported: `sales` and `product_sales` rows read back from the CSV
//! equal the stored rows, filters and chosen columns included.

use std::time::Duration;

use entity::{product_sales_daily, sales_daily};
use rust_decimal::Decimal;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use tests::TestApp;

use super::sync;

async fn export_csv(
    app: &TestApp,
    params: Value,
) -> Vec<std::collections::BTreeMap<String, String>> {
    let id = app
        .start_run(json!({ "kind": "export", "params": params }))
        .await;
    let run = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let file = app
        .client
        .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
        .await
        .attachment("text/csv", "csv");
    tests::csv_rows(&file)
}

both!(
    history_exports_equal_the_stored_rows,
    history_exports_equal_the_stored_rows
);

async fn history_exports_equal_the_stored_rows(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(20, 250).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    sync(&app, "orders", json!({})).await;
    let db = &app.ctx.db;

    let stored = sales_daily::Entity::find()
        .order_by_asc(sales_daily::Column::Day)
        .order_by_asc(sales_daily::Column::Status)
        .all(db)
        .await
        .expect("sales rows");
    // More than one page of 1,000 would need more orders; the key order is what matters.
    let rows = export_csv(&app, json!({ "resource": "sales" })).await;
    assert_eq!(rows.len(), stored.len());
    for (row, s) in rows.iter().zip(&stored) {
        assert_eq!(row["day"], s.day.to_string());
        assert_eq!(row["status"], s.status.to_string());
        assert_eq!(row["orders"], s.orders.to_string());
        assert_eq!(row["units"], s.units.to_string());
        let value: Decimal = row["value"].parse().expect("value");
        assert_eq!(value, s.value.round_dp(4), "{row:?}");
        assert_eq!(row["currency"], "RON");
    }

    let finalised: Vec<product_sales_daily::Model> = product_sales_daily::Entity::find()
        .order_by_asc(product_sales_daily::Column::Day)
        .order_by_asc(product_sales_daily::Column::ProductId)
        .all(db)
        .await
        .expect("product rows")
        .into_iter()
        .filter(|r| r.status == 4)
        .collect();
    let rows = export_csv(
        &app,
        json!({ "resource": "product_sales", "status": 4, "columns": ["day", "product_id", "units"] }),
    )
    .await;
    assert_eq!(rows.len(), finalised.len());
    for (row, p) in rows.iter().zip(&finalised) {
        assert_eq!(row.len(), 3, "{row:?}");
        assert_eq!(row["product_id"], p.product_id.to_string());
        assert_eq!(row["units"], p.units.to_string());
    }
    let (status, body) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "export", "params": { "resource": "sales", "columns": ["revenue"] } }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("value")),
        "{body}"
    );
    app.shutdown().await;
}
