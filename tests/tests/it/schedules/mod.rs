//! Schedules: each tick fires exactly once however many schedulers (in-process or worker
//! OS processes) run; changes through the API take effect within 2 s; misfire and
//! overlap policies; a schedule's `notify` list hears about its runs.

mod api;
mod firing;
mod policies;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::job_run;
use jobs::schedules::{spec::ScheduleSpec, store};
use tests::TestApp;

/// Stores the schedule `spec` (JSON as an admin writes it) as if created at `now`.
async fn stored(
    app: &TestApp,
    spec: serde_json::Value,
    now: DateTime<Utc>,
) -> entity::schedule::Model {
    let spec: ScheduleSpec = serde_json::from_value(spec).expect("spec");
    store::create(&app.ctx.db, &spec, "test", now)
        .await
        .expect("schedule")
}

/// Asserts that the runs of an every-second schedule have one run per tick and no gap
/// between ticks; how many ticks.
fn one_run_per_second(runs: &[job_run::Model]) -> usize {
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
    let ticks: Vec<_> = per_tick.keys().copied().collect();
    for pair in ticks.windows(2) {
        assert_eq!((pair[1] - pair[0]).num_seconds(), 1, "no gap: {ticks:?}");
    }
    ticks.len()
}
