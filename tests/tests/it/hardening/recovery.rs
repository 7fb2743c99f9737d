//! What the reaper mends after a crash at the worst moment: a parent left open although
//! its runs all ended, and notification runs committed but never given a queue task.

use std::time::Duration;

use entity::job_run::{self, RunStatus};
use jobs::{
    JobKind,
    runs::{self, NewRun},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::{Backend, Options, TestApp, smtp::SmtpSink};

both!(
    the_reaper_mends_what_a_crash_left,
    the_reaper_mends_what_a_crash_left
);

async fn the_reaper_mends_what_a_crash_left(backend: Backend) {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(
        backend,
        Options {
            smtp_url: Some(sink.url()),
            ..Options::default()
        },
    )
    .await;
    let db = &app.ctx.db;
    let new = |parent_id| NewRun {
        kind: JobKind::Ping,
        params: json!({}),
        account: None,
        max_attempts: 3,
        parent_id,
        lock_key: None,
    };
    // A parent whose two runs ended, but whose own refresh was lost with its worker.
    let parent = runs::insert(db, new(None)).await.expect("parent");
    for _ in 0..2 {
        runs::insert(db, new(Some(parent.id))).await.expect("child");
    }
    let now = chrono::Utc::now();
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Succeeded))
        .col_expr(job_run::Column::StartedAt, Expr::value(now))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now))
        .filter(job_run::Column::ParentId.eq(parent.id))
        .exec(db)
        .await
        .expect("children ended");
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(RunStatus::Running))
        .filter(job_run::Column::Id.eq(parent.id))
        .exec(db)
        .await
        .expect("parent left running");

    // A notification run committed with its flag, its task never pushed.
    let ended = runs::insert(db, new(None))
        .await
        .expect("a run to report on");
    let notice = runs::insert(
        db,
        NewRun {
            kind: JobKind::Notification,
            params: json!({ "recipients": ["ops@example.ro"], "run_id": ended.id }),
            ..new(None)
        },
    )
    .await
    .expect("notification");
    assert!(notice.queue_job_id.is_none());

    // Generous deadlines: the reaper's sweeps take turns for connections with the other
    // tests' on a loaded CI machine (a sweep was once 5 s waiting for one).
    let lease = app.config.lease();
    let parent = app
        .wait_status(
            parent.id,
            &["succeeded"],
            lease * 4 + Duration::from_secs(30),
        )
        .await;
    assert_eq!(parent["status"], "succeeded", "{parent:#}");
    let notice = app
        .wait_status(
            notice.id,
            &["succeeded"],
            lease * 4 + Duration::from_secs(30),
        )
        .await;
    assert_eq!(notice["status"], "succeeded", "{notice:#}");
    sink.wait_for(1, Duration::from_secs(10)).await;
    app.shutdown().await;
}
