//! An attempt that lost its run stops before its next eMAG write: after another worker
//! took the run over, the old attempt marks no bulk item sent and sends nothing.

use std::time::Duration;

use entity::{bulk_item, offer};
use jobs::lifecycle::{self, Claim};
use jobs::{JobKind, progress::Progress, registry};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use tests::{Backend, TestApp};
use tokio_util::sync::CancellationToken;

both!(
    a_lost_attempt_writes_nothing_to_emag,
    a_lost_attempt_writes_nothing_to_emag
);

async fn a_lost_attempt_writes_nothing_to_emag(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(120, 5).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let sync = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "offers" } }),
        )
        .await;
    app.wait_status(sync, &["succeeded"], Duration::from_secs(60))
        .await;
    // From here on nobody runs the bulk update but this test.
    app.worker
        .take()
        .expect("worker")
        .shutdown()
        .await
        .expect("worker stops");
    let offers = offer::Entity::find()
        .filter(offer::Column::Account.eq("main"))
        .all(&app.ctx.db)
        .await
        .expect("offers");
    let items: Vec<Value> = offers
        .iter()
        .map(|o| json!({ "account": "main", "id": o.emag_id, "stock": 7 }))
        .collect();
    let id = app
        .start_run(json!({ "kind": "bulk_update", "params": { "items": items } }))
        .await;

    // Worker w1 claims the run; then the reaper gives it to w2 (w1's lease ran out).
    let db = &app.ctx.db;
    let Claim::Claimed(run) = lifecycle::claim(db, id, "w1", Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("w1 claims the run");
    };
    entity::job_run::Entity::update_many()
        .col_expr(entity::job_run::Column::WorkerId, Expr::value("w2"))
        .col_expr(
            entity::job_run::Column::Attempt,
            Expr::value(run.attempt + 1),
        )
        .filter(entity::job_run::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("take over");

    // w1's attempt goes on, unaware.
    let saves_before = sim.state.requests(0).len();
    let mut progress = Progress::new(
        db.clone(),
        &run,
        "w1".into(),
        CancellationToken::new(),
        Duration::from_millis(500),
    );
    let outcome =
        registry::execute(JobKind::BulkUpdate, &app.ctx, &mut progress, &run.params, 1).await;
    assert!(
        matches!(outcome, Err(jobs::JobError::Interrupted)),
        "the lost attempt stops: {outcome:?}"
    );
    let sent: Vec<_> = sim.state.requests(saves_before);
    assert!(
        sent.iter().all(|r| !r.route.contains("save")),
        "nothing was sent to eMAG: {sent:?}"
    );
    let marked = bulk_item::Entity::find()
        .filter(bulk_item::Column::RunId.eq(id))
        .filter(bulk_item::Column::State.ne("pending"))
        .all(db)
        .await
        .expect("items");
    assert!(
        marked.is_empty(),
        "{} items were marked by the lost attempt",
        marked.len()
    );
    app.shutdown().await;
}

both!(
    a_holder_that_heartbeats_keeps_its_run,
    a_holder_that_heartbeats_keeps_its_run
);

/// The reaper reads a run whose heartbeat is stale, and before it takes the run over the
/// holder heartbeats after all: the take-over (which re-checks the heartbeat in its own
/// update) leaves the run with its holder. Once the heartbeat is stale again, it takes it.
async fn a_holder_that_heartbeats_keeps_its_run(backend: Backend) {
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(backend, opts).await;
    let db = &app.ctx.db;
    let id = app.start_ping(json!({})).await;
    let Claim::Claimed(_) = lifecycle::claim(db, id, "w1", Duration::from_secs(30))
        .await
        .expect("claim")
    else {
        panic!("w1 claims the run");
    };
    let set_heartbeat = |at: chrono::DateTime<chrono::Utc>| async move {
        entity::job_run::Entity::update_many()
            .col_expr(entity::job_run::Column::HeartbeatAt, Expr::value(at))
            .filter(entity::job_run::Column::Id.eq(id))
            .exec(db)
            .await
            .expect("heartbeat");
    };
    let read = || async {
        entity::job_run::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("read")
            .expect("the run")
    };
    let cutoff = chrono::Utc::now() - chrono::Duration::minutes(1);
    set_heartbeat(chrono::Utc::now() - chrono::Duration::minutes(10)).await;
    let seen_by_reaper = read().await;
    set_heartbeat(chrono::Utc::now()).await;

    assert!(
        !lifecycle::take_over(db, &seen_by_reaper, cutoff)
            .await
            .expect("take over"),
        "a run whose holder heartbeat was taken from it"
    );
    let kept = read().await;
    assert_eq!(kept.status, entity::job_run::RunStatus::Running);
    assert_eq!(kept.worker_id.as_deref(), Some("w1"));

    set_heartbeat(chrono::Utc::now() - chrono::Duration::minutes(10)).await;
    let stale = read().await;
    assert!(
        lifecycle::take_over(db, &stale, cutoff)
            .await
            .expect("take over"),
        "a stale run is taken over"
    );
    let taken = read().await;
    assert_eq!(taken.status, entity::job_run::RunStatus::Queued);
    assert_eq!(taken.worker_id, None);
    app.shutdown().await;
}
