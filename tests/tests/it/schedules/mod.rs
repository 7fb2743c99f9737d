//! Schedules: each tick fires exactly once however many schedulers (in-process or worker
//! OS processes) run; changes through the API take effect within 2 s; misfire and
//! overlap policies; a schedule's `notify` list hears about its runs.

mod api;
mod export_mail;
mod firing;
mod policies;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{job_run, schedule_fire};
use jobs::schedules::{spec::ScheduleSpec, store};
use tests::TestApp;

/// Stores the schedule `spec` (JSON as an admin writes it) as if created at `now`.
async fn stored(
    app: &TestApp,
    spec: serde_json::Value,
    now: DateTime<Utc>,
) -> entity::schedule::Model {
    let spec: ScheduleSpec = serde_json::from_value(spec).expect("spec");
    store::create(
        &app.ctx.db,
        &spec,
        "test",
        now,
        app.config.schedule_min_interval(),
    )
    .await
    .expect("schedule")
}

/// Asserts, for an every-second schedule, that every second has a claimed tick (no gap),
/// that each tick that queued a run has exactly one, and that a tick skipped because a
/// run of an earlier one was still waiting (`skipped_backlog`) has none; how many ticks.
fn each_tick_once(fires: &[schedule_fire::Model], runs: &[job_run::Model]) -> usize {
    let mut per_tick: BTreeMap<_, usize> = BTreeMap::new();
    for r in runs {
        *per_tick
            .entry(r.scheduled_for.expect("scheduled_for"))
            .or_default() += 1;
    }
    assert!(
        per_tick.values().all(|n| *n == 1),
        "one run per tick: {per_tick:?}"
    );
    for f in fires {
        let expected = usize::from(f.outcome.as_str() == "enqueued");
        let got = per_tick.get(&f.fire_at).copied().unwrap_or(0);
        assert_eq!(
            got, expected,
            "tick {} ({}): {got} runs",
            f.fire_at, f.outcome
        );
        assert!(
            ["enqueued", "skipped_backlog"].contains(&f.outcome.as_str()),
            "{f:?}"
        );
    }
    assert_eq!(
        per_tick.len(),
        fires
            .iter()
            .filter(|f| f.outcome.as_str() == "enqueued")
            .count(),
        "every run belongs to a claimed tick"
    );
    let mut ticks: Vec<_> = fires.iter().map(|f| f.fire_at).collect();
    ticks.sort();
    for pair in ticks.windows(2) {
        assert_eq!((pair[1] - pair[0]).num_seconds(), 1, "no gap: {ticks:?}");
    }
    ticks.len()
}

/// Creates the schedule `body` through the API and triggers it once; the run it started.
pub(crate) async fn create_and_trigger(
    app: &TestApp,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, s) = app
        .client
        .post("/api/v1/schedules", Some(&app.admin), &body)
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().expect("id");
    let (status, run) = app
        .client
        .post(
            &format!("/api/v1/schedules/{id}/trigger"),
            Some(&app.admin),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    run
}
