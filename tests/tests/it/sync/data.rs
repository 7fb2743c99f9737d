//! Full and incremental syncs end with the database equal to eMAG's data.

use entity::order_line;
use jobs::emag::sim::Faults;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tests::{Backend, TestApp, sim_dump};

use super::{assert_exact, children, finish, id_of, simulator, start_sync};

both!(
    full_sync_is_exact_under_faults,
    full_sync_is_exact_under_faults
);
both!(
    incremental_changes_only_what_changed,
    incremental_changes_only_what_changed
);

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

    let done = finish(&app, parent).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["progress"]["total"], 15_000, "{done:#}");
    assert_eq!(done["progress"]["processed"], 15_000, "{done:#}");
    assert_eq!(done["progress"]["created"], 15_000, "{done:#}");
    let children = children(&app, parent).await;
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
    let done = finish(&app, first).await;
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
    let done = finish(&app, second).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let children = children(&app, second).await;
    let child = |resource: &str| {
        children
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
