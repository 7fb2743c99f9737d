//! Misfire and overlap policies, and a schedule whose job is no longer valid.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use entity::{job_run, schedule_fire};
use jobs::schedules::{fire, store};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::TestApp;

use super::stored;

/// A schedule as stored, its next tick moved back as if every worker had been down.
async fn missed_schedule(app: &TestApp, name: &str, misfire: &str) -> entity::schedule::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let s = stored(
        app,
        json!({
            "name": name,
            "cron": "0 * * * * *",
            "template": { "kind": "ping", "params": { "steps": 1 } },
            "misfire": misfire,
        }),
        Utc::now(),
    )
    .await;
    let mut row: entity::schedule::ActiveModel = s.into();
    row.next_fire_at = Set(Some(Utc::now() - chrono::Duration::minutes(5)));
    row.update(&app.ctx.db).await.expect("moved back")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_ticks_follow_the_misfire_policy() {
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let skip = missed_schedule(&app, "skip-missed", "skip").await;
    let once = missed_schedule(&app, "run-once", "run_once").await;
    let now = Utc::now();
    let fired: BTreeMap<_, _> = fire::fire_due(&app.ctx.db, &app.ctx.queue, now)
        .await
        .expect("fire")
        .into_iter()
        .collect();
    assert_eq!(fired[&skip.id], fire::Fired::Missed);
    assert!(
        matches!(fired[&once.id], fire::Fired::Enqueued(_)),
        "{fired:?}"
    );
    // Both moved on to their next tick after now: nothing more is due.
    let again = fire::fire_due(&app.ctx.db, &app.ctx.queue, now)
        .await
        .expect("fire");
    assert!(again.is_empty(), "{again:?}");
    for (s, runs) in [(skip.id, 0), (once.id, 1)] {
        let n = job_run::Entity::find()
            .filter(job_run::Column::ScheduleId.eq(s))
            .all(&app.ctx.db)
            .await
            .expect("runs")
            .len();
        assert_eq!(n, runs);
    }
    app.shutdown().await;
}

/// A schedule whose job stopped being valid (its account was deleted) uses up its tick,
/// recorded `invalid`, and the other schedules fire as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_schedule_does_not_hold_up_the_others() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let created = Utc::now();
    let mut made = Vec::new();
    for name in ["a-broken", "b-fine"] {
        let spec = json!({
            "name": name,
            "cron": "* * * * * *",
            "template": { "kind": "ping", "params": { "steps": 1 } },
        });
        made.push(stored(&app, spec, created).await);
    }
    let mut broken: entity::schedule::ActiveModel = made[0].clone().into();
    broken.template = Set(json!({"kind": "sync", "params": {"accounts": ["gone"]}}));
    let broken = broken.update(&app.ctx.db).await.expect("broken");
    let due = broken.next_fire_at.expect("next");
    let fired: BTreeMap<_, _> = fire::fire_due(&app.ctx.db, &app.ctx.queue, due)
        .await
        .expect("fire")
        .into_iter()
        .collect();
    assert!(
        matches!(&fired[&broken.id], fire::Fired::Invalid(why) if why.contains("gone")),
        "{fired:?}"
    );
    assert!(
        matches!(fired[&made[1].id], fire::Fired::Enqueued(_)),
        "{fired:?}"
    );
    let recorded = schedule_fire::Entity::find()
        .filter(schedule_fire::Column::ScheduleId.eq(broken.id))
        .all(&app.ctx.db)
        .await
        .expect("fires");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].outcome.as_str(), "invalid");
    let after = store::find(&app.ctx.db, broken.id)
        .await
        .expect("find")
        .expect("schedule");
    assert!(after.next_fire_at > Some(due), "moved on: {after:?}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_skip_does_not_pile_up() {
    let opts = tests::Options {
        worker: false,
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let s = stored(
        &app,
        json!({
            "name": "slow",
            "cron": "* * * * * *",
            "template": { "kind": "ping", "params": { "steps": 1 } },
            "overlap": "skip",
        }),
        Utc::now(),
    )
    .await;
    // No worker: the first run stays queued, so every later tick finds it active.
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut outcomes = Vec::new();
    while tokio::time::Instant::now() < until {
        outcomes.extend(
            fire::fire_due(&app.ctx.db, &app.ctx.queue, Utc::now())
                .await
                .expect("fire")
                .into_iter()
                .map(|(_, f)| f),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let enqueued = outcomes
        .iter()
        .filter(|f| matches!(f, fire::Fired::Enqueued(_)))
        .count();
    let skipped = outcomes
        .iter()
        .filter(|f| **f == fire::Fired::SkippedOverlap)
        .count();
    assert_eq!(enqueued, 1, "{outcomes:?}");
    assert!(skipped >= 1, "{outcomes:?}");
    let runs = job_run::Entity::find()
        .filter(job_run::Column::ScheduleId.eq(s.id))
        .all(&app.ctx.db)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1);
    app.shutdown().await;
}
