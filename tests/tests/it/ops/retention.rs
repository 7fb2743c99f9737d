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
        level: Set(entity::run_event::Level::Info),
        message: Set("from long ago".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("event");
    audit_log::Entity::insert(audit_log::ActiveModel {
        at: Set(Utc::now() - Duration::days(400)),
        actor: Set("key:old".into()),
        action: Set(entity::audit_log::Action::RunCancel),
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

/// The purge runs on a task of its own: while it waits on a lock (another session holds
/// `audit_log`, the last table it deletes from), a schedule due every second keeps firing.
/// PostgreSQL only: SQLite has one writer, so a held write lock stops ticks as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_purge_never_delays_schedule_ticks() {
    use sea_orm::ConnectionTrait;
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Redis, opts).await;
    let db = &app.ctx.db;
    let (s, created) = app
        .client
        .post(
            "/api/v1/schedules",
            Some(&app.admin),
            &json!({ "name": "every-second", "cron": "* * * * * *", "template": { "kind": "ping" } }),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let schedule: uuid::Uuid = created["id"].as_str().expect("id").parse().expect("uuid");

    let lock = jobs::db::begin_write(db).await.expect("begin");
    lock.execute_unprepared("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock audit_log");
    let worker = tests::WorkerHandle::start(app.ctx.clone());

    // The purge has started and waits for the lock ...
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let waiting = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM \"audit_log\"%'",
            ))
            .await
            .expect("pg_stat_activity")
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0);
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the purge never reached audit_log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // ... while the schedule goes on firing.
    let fired = || async {
        job_run::Entity::find()
            .filter(job_run::Column::ScheduleId.eq(schedule))
            .all(db)
            .await
            .expect("runs")
            .len()
    };
    let at_block = fired().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fired().await < at_block + 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no ticks fired while the purge was blocked ({at_block} before)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    lock.rollback().await.expect("release");
    // Released, the purge finishes and audits itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("retention.purge"))
        .one(db)
        .await
        .expect("audit")
        .is_none()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the purge never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.shutdown().await.expect("worker stops");
    app.shutdown().await;
}
