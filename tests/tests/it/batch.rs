//! `POST /api/v1/runs/batch`: many runs in one request, each answered on its own, the
//! accepted ones run once and the refused ones leave nothing behind.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp};

both!(
    a_batch_runs_its_good_runs_and_names_its_bad_ones,
    batch_mixed
);
both!(a_batch_outside_its_limits_is_refused_whole, batch_limits);

async fn batch_mixed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut runs: Vec<Value> = (0..200)
        .map(|i| json!({ "kind": "ping", "params": { "steps": 1 + i % 3 } }))
        .collect();
    runs[7] = json!({ "kind": "ping", "params": { "steps": 0 } });
    runs[50] = json!({ "kind": "ping", "max_attempts": 0 });
    runs[99] = json!({ "kind": "bulk_update", "params": { "items": [{ "id": 1, "stock": 2 }] } });
    runs[150] =
        json!({ "kind": "sync", "params": { "accounts": ["nobody"], "resource": "offers" } });
    let (status, body) = app
        .client
        .post(
            "/api/v1/runs/batch",
            Some(&app.admin),
            &json!({ "runs": runs }),
        )
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["refused"].as_u64()),
        (Some(196), Some(4)),
        "{body}"
    );
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 200);
    for (index, field) in [
        (7, "runs[7].params.steps"),
        (50, "runs[50].max_attempts"),
        (99, "runs[99].kind"),
        (150, "runs[150].params.accounts[0]"),
    ] {
        let item = &items[index];
        assert_eq!(item["index"], index, "{item}");
        assert!(item["run"].is_null(), "{item}");
        assert_eq!(item["error"]["field"], field, "{item}");
        assert!(
            item["status"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s)),
            "{item}"
        );
    }
    let accepted: Vec<String> = items
        .iter()
        .filter(|i| i["status"] == 202)
        .map(|i| i["run"]["id"].as_str().expect("run id").to_owned())
        .collect();
    assert_eq!(accepted.len(), 196);
    for id in &accepted {
        let id = uuid::Uuid::parse_str(id).expect("uuid");
        let run = app
            .wait_status(
                id,
                &["succeeded", "failed", "dead"],
                Duration::from_secs(90),
            )
            .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempt"], 1, "ran once: {run}");
    }
    // The refused runs left nothing: the runs and their audit rows are the accepted ones.
    let runs = entity::job_run::Entity::find()
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(runs, 196);
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq(entity::audit_log::Action::RunCreate))
        .count(&app.ctx.db)
        .await
        .expect("count");
    assert_eq!(audited, 196, "one audit row a run");
    app.shutdown().await;
}

async fn batch_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let one = json!({ "kind": "ping" });
    for (runs, why) in [(vec![], "empty"), (vec![one; 1001], "over 1,000")] {
        let (status, body) = app
            .client
            .post(
                "/api/v1/runs/batch",
                Some(&app.admin),
                &json!({ "runs": runs }),
            )
            .await;
        assert_eq!(status, 422, "{why}: {body}");
        assert_eq!(body["field"], "runs", "{why}: {body}");
    }
    let (status, body) = app
        .client
        .post(
            "/api/v1/runs/batch",
            Some(&app.viewer),
            &json!({ "runs": [{ "kind": "ping" }] }),
        )
        .await;
    assert_eq!(status, 403, "a viewer starts nothing: {body}");
    let (_, listed) = app.client.get("/api/v1/runs", Some(&app.viewer)).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
    app.shutdown().await;
}
