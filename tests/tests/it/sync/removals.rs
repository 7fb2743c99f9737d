//! Offers deleted at eMAG: a sync that reads every page marks exactly those removed
//! (kept, with the time); a sync narrowed to one status removes nothing; an offer eMAG
//! lists again is restored. Removed offers leave the status counts and the exports
//! (unless asked for), and a bulk update naming one is refused with 422 saying when.

use std::collections::BTreeSet;

use entity::offer;
use jobs::emag::sim::Faults;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use tests::{Backend, TestApp, csv_rows, sim_admin};

use super::{finish, offer_ids, simulator, start_sync};

both!(
    deleted_offers_are_marked_removed,
    deleted_offers_are_marked_removed
);

async fn sync_offers(app: &TestApp, params: Value) {
    let id = start_sync(app, params).await;
    assert_eq!(finish(app, id).await["status"], "succeeded");
}

async fn deleted_offers_are_marked_removed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = simulator(250, 0, Faults::default()).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let all = json!({ "accounts": ["main"], "resource": "offers" });
    sync_offers(&app, all.clone()).await;
    assert!(offer_ids(&app, Some(true)).await.is_empty());

    // 37 offers deleted at eMAG, spread over the pages.
    let ids = offer_ids(&app, None).await;
    assert_eq!(ids.len(), 250);
    let gone: BTreeSet<i64> = ids.iter().step_by(6).take(37).copied().collect();
    assert_eq!(gone.len(), 37);
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "delete_offers": gone }),
    )
    .await;

    // Narrowed to one status: nothing is removed.
    sync_offers(
        &app,
        json!({ "accounts": ["main"], "resource": "offers", "offer_status": 1 }),
    )
    .await;
    assert!(
        offer_ids(&app, Some(true)).await.is_empty(),
        "a narrowed read removed offers"
    );

    // Every page read: exactly those 37.
    sync_offers(&app, all.clone()).await;
    assert_eq!(offer_ids(&app, Some(true)).await, gone);
    let (_, status) = app.client.get("/api/v1/status", Some(&app.viewer)).await;
    assert_eq!(
        status["accounts"][0]["offers"]["total"],
        250 - 37,
        "{status}"
    );

    // Exports leave them out unless asked for.
    for (include, rows) in [(false, 250 - 37), (true, 250)] {
        let params = json!({ "resource": "offers", "format": "csv", "include_removed": include });
        let id = app
            .start_run(json!({ "kind": "export", "params": params }))
            .await;
        assert_eq!(finish(&app, id).await["status"], "succeeded");
        let file = app
            .client
            .download(&format!("/api/v1/runs/{id}/result"), &app.viewer)
            .await;
        assert_eq!(file.status, 200);
        let csv = csv_rows(&file.bytes);
        assert_eq!(csv.len(), rows, "include_removed {include}");
        let marked = csv.iter().filter(|r| !r["removed_at"].is_empty()).count();
        assert_eq!(marked, if include { 37 } else { 0 });
    }

    // A bulk update naming a removed offer: 422 for that item, saying so.
    let first = *gone.iter().next().expect("one");
    let (code, refused) = app
        .client
        .post(
            "/api/v1/runs",
            Some(&app.admin),
            &json!({ "kind": "bulk_update", "params": { "items": [
                { "account": "main", "id": first, "stock": 3 }
            ] } }),
        )
        .await;
    assert_eq!(code, 422, "{refused}");
    assert!(
        refused.to_string().contains("no longer on eMAG"),
        "{refused}"
    );

    // An offer eMAG lists again comes back at the next full read.
    let listed = *ids.iter().find(|id| !gone.contains(id)).expect("one left");
    offer::Entity::update(offer::ActiveModel {
        account: Set("main".into()),
        emag_id: Set(listed),
        removed_at: Set(Some(chrono::Utc::now())),
        ..Default::default()
    })
    .exec(&app.ctx.db)
    .await
    .expect("mark");
    assert!(offer_ids(&app, Some(true)).await.contains(&listed));
    sync_offers(&app, all).await;
    assert_eq!(
        offer_ids(&app, Some(true)).await,
        gone,
        "restored, and the 37 stay removed"
    );
    app.shutdown().await;
}
