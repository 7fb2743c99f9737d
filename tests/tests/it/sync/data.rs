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
both!(texts_are_stored_as_sent, texts_are_stored_as_sent);

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

/// Texts reach the database exactly as eMAG sent them, whatever they hold. PostgreSQL
/// gets a group's text columns as one text split by control characters: empty texts and
/// NULLs go that way (the first read); a column whose values hold those characters goes
/// as an array (the second); a third read finds every offer unchanged.
async fn texts_are_stored_as_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(250, 0).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let offers = sim_dump(&sim, "main", "offers").await;
    let id = |i: usize| id_of(&offers[i]);
    let have = |i: usize| {
        let db = app.ctx.db.clone();
        let key = ("main".to_owned(), id(i));
        async move {
            entity::offer::Entity::find_by_id(key)
                .one(&db)
                .await
                .expect("offer")
                .expect("stored")
        }
    };
    let changes = [
        json!([
            { "id": id(3), "name": "", "part_number": "" },
            { "id": id(4), "name": null, "brand": null },
            { "id": id(5), "name": "Cafea ăâîșț \"q\" back\\slash\ttab\nline" },
        ]),
        json!([
            { "id": id(1), "name": "unit\u{1f}separator", "brand": "rec\u{1e}ord" },
            { "id": id(2), "name": "\u{1e}" },
            { "id": id(150), "part_number": "x\u{1f}y" },
        ]),
        json!([]),
    ];
    for (round, offers) in changes.into_iter().enumerate() {
        let changed = offers.as_array().map_or(0, Vec::len);
        let body = json!({ "login": "main", "offers": offers });
        tests::sim_admin(&sim, "mutate", &body).await;
        let run = start_sync(&app, json!({ "accounts": ["main"], "resource": "offers" })).await;
        let done = finish(&app, run).await;
        assert_eq!(done["status"], "succeeded", "{done:#}");
        if round > 0 {
            assert_eq!(done["progress"]["unchanged"], 250 - changed, "{done:#}");
        }
        assert_eq!(have(3).await.name.as_deref(), Some(""));
        assert_eq!(have(3).await.part_number.as_deref(), Some(""));
        assert_eq!((have(4).await.name, have(4).await.brand), (None, None));
        if round > 0 {
            assert_eq!(have(1).await.name.as_deref(), Some("unit\u{1f}separator"));
            assert_eq!(have(1).await.brand.as_deref(), Some("rec\u{1e}ord"));
            assert_eq!(have(2).await.name.as_deref(), Some("\u{1e}"));
            assert_eq!(have(150).await.part_number.as_deref(), Some("x\u{1f}y"));
        }
        assert_exact(&app, &sim, "main", "main").await;
    }
    app.shutdown().await;
}
