//! The hourly purge removes finished runs (with their log lines), schedule ticks and
//! audit rows past their ages, keeps everything newer and everything still active, runs
//! once per hour however many workers offer, and audits itself.

use chrono::{Duration, Utc};
use entity::{audit_log, job_run, run_event};
use jobs::retention;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::TestApp;

both!(
    old_history_is_purged_once_an_hour,
    old_history_is_purged_once_an_hour
);

async fn old_history_is_purged_once_an_hour(backend: tests::Backend) {
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(backend, opts).await;
    let db = &app.ctx.db;
    let old = app.start_ping(json!({})).await;
    let recent = app.start_ping(json!({})).await;
    let active = app.start_ping(json!({})).await;
    let long_ago = Utc::now() - Duration::days(91);
    // Two runs ended (one long ago); one is still queued, however old.
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value("succeeded"))
        .col_expr(job_run::Column::FinishedAt, Expr::value(long_ago))
        .filter(job_run::Column::Id.eq(old))
        .exec(db)
        .await
        .expect("old");
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value("succeeded"))
        .col_expr(job_run::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(job_run::Column::Id.eq(recent))
        .exec(db)
        .await
        .expect("recent");
    job_run::Entity::update_many()
        .col_expr(job_run::Column::CreatedAt, Expr::value(long_ago))
        .filter(job_run::Column::Id.eq(active))
        .exec(db)
        .await
        .expect("active");
    run_event::Entity::insert(run_event::ActiveModel {
        run_id: Set(old),
        at: Set(long_ago),
        level: Set("info".into()),
        message: Set("from long ago".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("event");
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(Utc::now() - Duration::days(400)),
        actor: Set("key:old".into()),
        action: Set("run.cancel".into()),
        target: Set("run:x".into()),
        details: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("audit");

    let now = Utc::now();
    let purged = retention::run_hourly(db, &app.config, now)
        .await
        .expect("purge")
        .expect("claimed");
    assert_eq!(purged.runs, 1, "{purged:?}");
    assert!(purged.run_events >= 1, "{purged:?}");
    assert_eq!(purged.audit_rows, 1, "{purged:?}");
    // A second process in the same hour finds it done.
    assert_eq!(
        retention::run_hourly(db, &app.config, now)
            .await
            .expect("again"),
        None
    );

    let left: Vec<uuid::Uuid> = job_run::Entity::find()
        .all(db)
        .await
        .expect("runs")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(
        !left.contains(&old) && left.contains(&recent) && left.contains(&active),
        "{left:?}"
    );
    let events = run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(old))
        .all(db)
        .await
        .expect("events");
    assert!(events.is_empty());
    let (status, audit) = app
        .client
        .get("/api/v1/audit?action=retention.purge", Some(&app.admin))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        audit["items"][0]["details"]["removed"]["runs"], 1,
        "{audit}"
    );
    app.shutdown().await;
}
