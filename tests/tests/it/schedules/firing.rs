//! Each tick once: three in-process schedulers; three worker OS processes, one killed.

use std::time::Duration;

use chrono::Utc;
use entity::{job_run, schedule_fire};
use jobs::schedules::fire;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::TestApp;

use super::{each_tick_once, stored};

both!(
    each_tick_fires_once_across_schedulers,
    each_tick_fires_once_across_schedulers
);

async fn each_tick_fires_once_across_schedulers(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let s = stored(
        &app,
        json!({
            "name": "every-second",
            "cron": "* * * * * *",
            "template": { "kind": "ping", "params": { "steps": 1 } },
            "overlap": "allow",
        }),
        Utc::now(),
    )
    .await;
    // Three schedulers polling the same schedule for 4 s.
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let db = app.ctx.db.clone();
        let queue = app.ctx.queue.clone();
        tasks.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < until {
                fire::fire_due(&db, &queue, Utc::now()).await.expect("fire");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("scheduler");
    }
    let fires = schedule_fire::Entity::find()
        .filter(schedule_fire::Column::ScheduleId.eq(s.id))
        .all(&app.ctx.db)
        .await
        .expect("fires");
    assert!(fires.len() >= 3, "{fires:?}");
    let runs = job_run::Entity::find()
        .filter(job_run::Column::ScheduleId.eq(s.id))
        .all(&app.ctx.db)
        .await
        .expect("runs");
    each_tick_once(&fires, &runs);
    app.shutdown().await;
}

/// Three `magflow worker` processes run the scheduler; one is killed half-way. Every
/// tick of an every-second schedule still starts exactly one run, with no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_fire_each_tick_once() {
    let app = TestApp::spawn_with(
        tests::Backend::Redis,
        tests::Options {
            worker: false,
            ..tests::Options::default()
        },
    )
    .await;
    let (status, s) = app
        .client
        .post(
            "/api/v1/schedules",
            Some(&app.admin),
            &json!({
                "name": "every-second",
                "cron": "* * * * * *",
                "template": { "kind": "ping", "params": { "steps": 1 } },
                "overlap": "allow",
            }),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let id: uuid::Uuid = s["id"].as_str().expect("id").parse().expect("uuid");
    let env = app.process_env();
    let mut workers: Vec<_> = (0..3)
        .map(|_| tests::process::spawn(&["worker"], &env))
        .collect();
    let fires = || async {
        schedule_fire::Entity::find()
            .filter(schedule_fire::Column::ScheduleId.eq(id))
            .all(&app.ctx.db)
            .await
            .expect("fires")
            .len()
    };
    let wait_for = |n: usize| async move {
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        while fires().await < n {
            assert!(
                tokio::time::Instant::now() < until,
                "fewer than {n} ticks fired"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    wait_for(15).await;
    workers[0].kill().await.expect("kill -9");
    wait_for(30).await;
    let (status, _) = app
        .client
        .post(
            &format!("/api/v1/schedules/{id}/pause"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    for w in &workers[1..] {
        tests::process::terminate(w);
    }
    for w in &mut workers[1..] {
        let _ = w.wait().await;
    }
    let runs = job_run::Entity::find()
        .filter(job_run::Column::ScheduleId.eq(id))
        .all(&app.ctx.db)
        .await
        .expect("runs");
    let all_fires = schedule_fire::Entity::find()
        .filter(schedule_fire::Column::ScheduleId.eq(id))
        .all(&app.ctx.db)
        .await
        .expect("fires");
    assert!(each_tick_once(&all_fires, &runs) >= 30, "30 ticks or more");
    app.shutdown().await;
}
