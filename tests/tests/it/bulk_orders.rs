//! Orders moved in bulk: acknowledge (1 → 2), prepared (2 → 3), finalised (→ 4, with the
//! invoice PDF attached) and cancel (→ 0, with eMAG's reason). Every item is checked
//! against the stored order and eMAG's status table before anything is queued (422 by
//! row and field); a dry run shows the statuses; a CSV upload sends each change once,
//! with `order/save` carrying every field eMAG sent, and the stored orders follow.

use std::time::Duration;

use entity::order;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp, quick_simulator, sim_dump};

both!(orders_move_in_bulk, orders_move_in_bulk);

/// Stored seller-fulfilled orders in `status`, by id.
async fn stored(app: &TestApp, status: i32) -> Vec<i64> {
    order::Entity::find()
        .filter(order::Column::Status.eq(status))
        .filter(order::Column::OrderType.eq(3))
        .all(&app.ctx.db)
        .await
        .expect("orders")
        .into_iter()
        .map(|o| o.emag_id)
        .collect()
}

fn at_emag(orders: &[Value], id: i64) -> &Value {
    orders
        .iter()
        .find(|o| o["id"].as_i64() == Some(id) || o["id"].as_str() == Some(&id.to_string()))
        .expect("at eMAG")
}

async fn orders_move_in_bulk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = quick_simulator(5, 60).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let run = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "orders" } }),
        )
        .await;
    app.wait_status(run, &["succeeded"], Duration::from_secs(60))
        .await;
    let (new, busy, prepared) = (
        stored(&app, 1).await,
        stored(&app, 2).await,
        stored(&app, 3).await,
    );
    assert!(
        !new.is_empty() && busy.len() >= 2 && !prepared.is_empty(),
        "the seed has orders in 1, 2, 3"
    );
    let invoice = "https://shop.example.ro/facturi/F-1001.pdf";

    // Checked before anything is queued: every problem, by row and field.
    let bad = format!(
        "account,order_id,action,invoice_url,reason\n\
         main,{p},acknowledge,,\n\
         main,{p},finalised,,\n\
         main,{b},cancel,,\n\
         main,{b},finalised,https://shop.example.ro/f.png,\n\
         main,1,prepared,,\n\
         main,{n},cancel,,2\n",
        p = prepared[0],
        b = busy[0],
        n = new[0],
    );
    let (status, body) = app
        .client
        .post_raw("/api/v1/bulk-updates", Some(&app.admin), "text/csv", &bad)
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<(i64, &str)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().expect("row"),
                p["field"].as_str().expect("field"),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (2, "action"),
            (3, "invoice_url"),
            (4, "reason"),
            (5, "invoice_url"),
            (6, "order_id"),
            (7, "action")
        ],
        "{body}"
    );

    // A dry run: each order's status from and to.
    let good = format!(
        "account,order_id,action,invoice_url,reason\n\
         main,{n},acknowledge,,\n\
         main,{b0},prepared,,\n\
         main,{p},finalised,{invoice},\n\
         main,{b1},cancel,,2\n",
        n = new[0],
        b0 = busy[0],
        p = prepared[0],
        b1 = busy[1],
    );
    let (status, preview) = app
        .client
        .post_raw(
            "/api/v1/bulk-updates?dry_run=true",
            Some(&app.admin),
            "text/csv",
            &good,
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let status_change = |i: usize| {
        preview["items"][i]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["field"] == "order_status")
            .map(|c| (c["from"].clone(), c["to"].clone()))
    };
    assert_eq!(status_change(0), Some((json!(1), json!(2))));
    assert_eq!(status_change(3), Some((json!(2), json!(0))));
    let before = sim.state.requests(0).len();

    let (status, run) = app
        .client
        .post_raw("/api/v1/bulk-updates", Some(&app.admin), "text/csv", &good)
        .await;
    assert_eq!(status, 202, "{run}");
    let id: uuid::Uuid = run["id"].as_str().expect("id").parse().expect("uuid");
    let done = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"]["updated"], 4, "{done}");

    let orders = sim_dump(&sim, "main", "orders").await;
    assert_eq!(at_emag(&orders, new[0])["status"], 2);
    assert_eq!(at_emag(&orders, busy[0])["status"], 3);
    assert_eq!(at_emag(&orders, prepared[0])["status"], 4);
    assert_eq!(
        at_emag(&orders, prepared[0])["attachments"][0]["url"],
        invoice
    );
    assert_eq!(at_emag(&orders, busy[1])["status"], 0);
    assert_eq!(at_emag(&orders, busy[1])["reason_cancellation"], 2);
    // Each change once: one acknowledge, three saves, one attachment.
    let log = sim.state.requests(before);
    let count = |route: &str| log.iter().filter(|r| r.route == route).count();
    assert_eq!(
        (
            count("order/acknowledge"),
            count("order/save"),
            count("order/attachments/save")
        ),
        (1, 3, 1)
    );
    // The stored orders follow, and the same file is now refused.
    assert!(stored(&app, 4).await.contains(&prepared[0]));
    assert!(stored(&app, 0).await.contains(&busy[1]));
    let (status, body) = app
        .client
        .post_raw("/api/v1/bulk-updates", Some(&app.admin), "text/csv", &good)
        .await;
    assert_eq!(status, 422, "{body}");
    let file = app
        .client
        .download(&format!("/api/v1/runs/{id}/result"), &app.viewer)
        .await;
    let rows = tests::csv_rows(&file.bytes);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["outcome"] == "accepted"), "{rows:?}");
    assert_eq!(rows[2]["invoice_url"], invoice);
    app.shutdown().await;
}
