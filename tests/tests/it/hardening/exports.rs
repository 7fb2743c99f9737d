//! No formulas in the CSV files magflow writes: a text cell that a spreadsheet would run
//! gets a leading `'`; numbers stay numbers.

use std::time::Duration;

use entity::{offer, order};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::{Backend, TestApp};

both!(no_formulas_in_csv_exports, no_formulas_in_csv_exports);

const FORMULA: &str = r#"=HYPERLINK("http://x")"#;

async fn no_formulas_in_csv_exports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(5, 5).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let sync = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    app.wait_status(sync, &["succeeded"], Duration::from_secs(60))
        .await;
    // What a buyer or a seller's colleague can type: a customer name, a product name.
    order::Entity::update_many()
        .col_expr(order::Column::CustomerName, Expr::value(FORMULA))
        .filter(order::Column::Account.eq("main"))
        .exec(&app.ctx.db)
        .await
        .expect("update orders");
    offer::Entity::update_many()
        .col_expr(offer::Column::Name, Expr::value("@SUM(A1:A9)"))
        .filter(offer::Column::Account.eq("main"))
        .exec(&app.ctx.db)
        .await
        .expect("update offers");

    for (resource, column, expected) in [
        ("orders", "customer_name", format!("'{FORMULA}")),
        ("offers", "name", "'@SUM(A1:A9)".to_owned()),
    ] {
        let id = app
            .start_run(
                json!({ "kind": "export", "params": { "resource": resource, "format": "csv" } }),
            )
            .await;
        app.wait_status(id, &["succeeded"], Duration::from_secs(60))
            .await;
        let file = app
            .client
            .download(&format!("/api/v1/exports/{id}/file"), &app.viewer)
            .await
            .attachment("text/csv", "csv");
        let rows = tests::csv_rows(&file);
        assert!(!rows.is_empty());
        for row in &rows {
            assert_eq!(row[column], expected, "{row:?}");
            let money = if resource == "orders" {
                "total_with_vat"
            } else {
                "sale_price"
            };
            assert!(row[money].parse::<Decimal>().is_ok(), "{row:?}");
        }
    }
    app.shutdown().await;
}

/// The retention purge deletes the old files magflow wrote in `MAGFLOW_EXPORTS_DIR` and
/// nothing else there, however old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_only_export_files() {
    let dir = tempfile::tempdir().expect("dir");
    let id = uuid::Uuid::now_v7();
    let names = [
        format!("{id}.csv"),
        format!("{id}.xlsx.part"),
        "notes.txt".to_owned(),
        "backup.csv".to_owned(),
        format!("{id}.csv.bak"),
    ];
    for name in &names {
        let path = dir.path().join(name);
        std::fs::write(&path, b"x").expect("write");
        let aged = std::process::Command::new("touch")
            .args(["-d", "10 days ago"])
            .arg(&path)
            .status()
            .expect("touch");
        assert!(aged.success());
    }
    let removed = jobs::export::files::remove_expired(dir.path(), Duration::from_secs(24 * 3600));
    assert_eq!(removed, 2);
    let left: Vec<bool> = names.iter().map(|n| dir.path().join(n).exists()).collect();
    assert_eq!(left, [false, false, true, true, true]);
}
