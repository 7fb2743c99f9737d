//! Schedules (issue 6, in progress): each tick fires exactly once however many
//! schedulers run, with a schedule firing every second.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use entity::{job_run, schedule_fire};
use jobs::schedules::{fire, spec::ScheduleSpec, store};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::TestApp;

both!(
    each_tick_fires_once_across_schedulers,
    each_tick_fires_once_across_schedulers
);

async fn each_tick_fires_once_across_schedulers(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let spec: ScheduleSpec = serde_json::from_value(json!({
        "name": "every-second",
        "cron": "* * * * * *",
        "template": { "kind": "ping", "params": { "steps": 1 } },
        "overlap": "allow",
    }))
    .expect("spec");
    let s = store::create(&app.ctx.db, &spec, "test", Utc::now())
        .await
        .expect("schedule");
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
    let mut per_tick: BTreeMap<_, usize> = BTreeMap::new();
    for r in &runs {
        *per_tick
            .entry(r.scheduled_for.expect("scheduled_for"))
            .or_default() += 1;
    }
    assert!(
        per_tick.values().all(|n| *n == 1),
        "one run per tick: {per_tick:?}"
    );
    assert_eq!(
        runs.len(),
        fires.len(),
        "every claimed tick started one run"
    );
    let mut ticks: Vec<_> = per_tick.keys().copied().collect();
    ticks.sort();
    for pair in ticks.windows(2) {
        assert_eq!((pair[1] - pair[0]).num_seconds(), 1, "no gaps: {ticks:?}");
    }
    app.shutdown().await;
}
