//! Schedules cannot flood: an expression firing more often than the floor is refused,
//! and a schedule never has more than one run waiting in its queue.

use std::time::Duration;

use chrono::Utc;
use entity::{job_run, schedule_fire};
use jobs::schedules::{fire, spec::ScheduleSpec, store};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, Options, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_firing_too_often_are_refused() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            worker: false,
            schedule_min_interval_s: Some(60),
            ..Options::default()
        },
    )
    .await;
    for cron in ["* * * * * *", "*/30 * * * * *", "0,10 * * * * *"] {
        let (s, err) = app
            .client
            .post(
                "/api/v1/schedules",
                Some(&app.admin),
                &json!({ "name": "fast", "cron": cron, "template": { "kind": "ping" } }),
            )
            .await;
        assert_eq!(
            (s, err["field"].as_str()),
            (422, Some("cron")),
            "{cron}: {err}"
        );
        assert!(
            err["message"].as_str().is_some_and(|m| m.contains("60")),
            "{err}"
        );
    }
    let (s, created) = app
        .client
        .post(
            "/api/v1/schedules",
            Some(&app.admin),
            &json!({ "name": "minutely", "cron": "* * * * *", "template": { "kind": "ping" } }),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let (s, err) = app
        .client
        .put(
            &format!("/api/v1/schedules/{id}"),
            Some(&app.admin),
            &json!({ "name": "minutely", "cron": "*/5 * * * * *", "template": { "kind": "ping" } }),
        )
        .await;
    assert_eq!((s, err["field"].as_str()), (422, Some("cron")), "{err}");
    app.shutdown().await;
}

both!(one_run_waits_at_most, one_run_waits_at_most);

async fn one_run_waits_at_most(backend: Backend) {
    // No worker: what each tick queues stays queued.
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let spec: ScheduleSpec = serde_json::from_value(json!({
        "name": "every-second",
        "cron": "* * * * * *",
        "template": { "kind": "ping" },
        "overlap": "allow",
    }))
    .expect("spec");
    let start = Utc::now() - chrono::Duration::seconds(1);
    let s = store::create(&app.ctx.db, &spec, "test", start, Duration::ZERO)
        .await
        .expect("schedule");
    // Five ticks, fired as a worker's scheduler would, each at its time.
    let mut outcomes = Vec::new();
    for i in 0..5 {
        let now = start + chrono::Duration::seconds(i + 1) + chrono::Duration::milliseconds(10);
        for (id, fired) in fire::fire_due(&app.ctx.db, &app.ctx.queue, now)
            .await
            .expect("fire")
        {
            if id == s.id {
                outcomes.push(fired);
            }
        }
    }
    assert!(outcomes.len() >= 4, "{outcomes:?}");
    assert!(
        matches!(outcomes[0], fire::Fired::Enqueued(_)),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1..]
            .iter()
            .all(|f| *f == fire::Fired::SkippedBacklog),
        "{outcomes:?}"
    );
    let queued = job_run::Entity::find()
        .filter(job_run::Column::ScheduleId.eq(s.id))
        .all(&app.ctx.db)
        .await
        .expect("runs");
    assert_eq!(queued.len(), 1);
    let recorded = schedule_fire::Entity::find()
        .filter(schedule_fire::Column::ScheduleId.eq(s.id))
        .filter(schedule_fire::Column::Outcome.eq("skipped_backlog"))
        .all(&app.ctx.db)
        .await
        .expect("ticks");
    assert_eq!(recorded.len(), outcomes.len() - 1);
    app.shutdown().await;
}
