//! Bad credentials, a blocked IP, an outage and an unreadable row: each ends in the
//! right state with the right category.

use std::time::Duration;

use entity::offer;
use jobs::emag::sim::Faults;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tests::{Backend, TestApp, sim_dump};

use super::{finish, id_of, simulator, start_sync};

both!(
    failures_end_in_the_right_state,
    failures_end_in_the_right_state
);

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
        let run = finish(&app, id).await;
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
    let done = finish(&app, run).await;
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
