//! Schedules: each tick fires exactly once however many schedulers (in-process or worker
//! OS processes) run; changes through the API take effect within 2 s; misfire and
//! overlap policies; a schedule's `notify` list hears about its runs.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use entity::{job_run, schedule_fire};
use jobs::schedules::{fire, spec::ScheduleSpec, store};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::TestApp;

/// How soon a change made through the API must take effect.
const EFFECT: chrono::Duration = chrono::Duration::seconds(2);

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
    assert_eq!(
        runs.len(),
        fires.len(),
        "every claimed tick started one run"
    );
    one_run_per_second(&runs);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_through_the_api() {
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.client
                .post("/api/v1/schedules", Some(&app.admin), &body)
                .await
        }
    };
    for (body, field) in [
        (
            json!({"name": "a", "cron": "61 * * * *", "template": {"kind": "ping"}}),
            "cron",
        ),
        (
            json!({"name": "a", "cron": "* * * *", "template": {"kind": "ping"}}),
            "cron",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "timezone": "Mars/Olympus", "template": {"kind": "ping"}}),
            "timezone",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "template": {"kind": "ping", "params": {"steps": 0}}}),
            "template.params.steps",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "template": {"kind": "nope"}}),
            "template.kind",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "template": {"kind": "bulk_update", "params": {"items": []}}}),
            "template.kind",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "template": {"kind": "sync", "params": {"accounts": ["gone"]}}}),
            "template.params.accounts[0]",
        ),
        (
            json!({"name": "a", "cron": "* * * * *", "notify": ["nobody"], "template": {"kind": "ping"}}),
            "notify[0]",
        ),
    ] {
        let (status, answer) = post(body).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }

    let (status, s) = post(json!({
        "name": "every-second",
        "cron": "* * * * * *",
        "timezone": "Europe/Bucharest",
        "template": { "kind": "ping", "params": { "steps": 1 } },
        "overlap": "allow",
    }))
    .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().expect("id").to_owned();
    let (_, next) = app
        .client
        .get(
            &format!("/api/v1/schedules/{id}/next?count=3"),
            Some(&app.viewer),
        )
        .await;
    assert_eq!(next["fires"].as_array().expect("fires").len(), 3);

    let ticks = |app: &TestApp| {
        let path = format!("/api/v1/runs?schedule_id={id}&limit=200");
        let client = app.client.clone();
        let key = app.viewer.clone();
        async move {
            let (_, page) = client.get(&path, Some(&key)).await;
            let mut ticks: Vec<DateTime<Utc>> = page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|r| {
                    r["scheduled_for"]
                        .as_str()
                        .expect("scheduled_for")
                        .parse()
                        .expect("time")
                })
                .collect();
            ticks.sort();
            ticks
        }
    };
    // The first run of a tick after `t` appears, and that tick is within 2 s of `t`.
    let fires_again_after = |t: DateTime<Utc>| {
        let ticks = &ticks;
        let app = &app;
        async move {
            let until = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(first) = ticks(app).await.into_iter().find(|f| *f > t) {
                    assert!(first <= t + EFFECT, "first tick {first} after {t}");
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < until,
                    "nothing fired after {t}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // Time passes beyond the 2 s in which a change must take effect.
    let let_pass = |t: DateTime<Utc>| async move {
        while Utc::now() < t + EFFECT + chrono::Duration::seconds(1) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let act = |path: String, body: serde_json::Value| {
        let app = &app;
        async move {
            let (status, answer) = if path.ends_with("/put") {
                app.client
                    .put(path.trim_end_matches("/put"), Some(&app.admin), &body)
                    .await
            } else {
                app.client.post(&path, Some(&app.admin), &body).await
            };
            assert!(status == 200 || status == 202, "{path}: {status} {answer}");
            (Utc::now(), answer)
        }
    };

    // The in-process worker's scheduler fires it: runs appear, linked to the schedule.
    let created = Utc::now();
    fires_again_after(created).await;

    let (paused_at, paused) = act(format!("/api/v1/schedules/{id}/pause"), json!({})).await;
    assert_eq!(paused["next_fire_at"], serde_json::Value::Null);
    assert_eq!(paused["paused"], true);
    let_pass(paused_at).await;
    let (resumed_at, _) = act(format!("/api/v1/schedules/{id}/resume"), json!({})).await;
    fires_again_after(resumed_at).await;

    // Edited to once a year: quiet. Edited back to every second: fires again.
    let mut spec = json!({
        "name": "every-second",
        "cron": "0 0 1 1 *",
        "timezone": "Europe/Bucharest",
        "template": { "kind": "ping", "params": { "steps": 1 } },
        "overlap": "allow",
    });
    let (yearly_at, yearly) = act(format!("/api/v1/schedules/{id}/put"), spec.clone()).await;
    let next_fire: DateTime<Utc> = yearly["next_fire_at"]
        .as_str()
        .expect("next_fire_at")
        .parse()
        .expect("time");
    assert_eq!(
        next_fire
            .with_timezone(&chrono_tz::Europe::Bucharest)
            .format("%m-%d %H:%M")
            .to_string(),
        "01-01 00:00"
    );
    let_pass(yearly_at).await;
    spec["cron"] = json!("*/1 * * * * *");
    let (every_at, _) = act(format!("/api/v1/schedules/{id}/put"), spec).await;
    fires_again_after(every_at).await;

    // Triggered by hand: one run at once, linked to it; the schedule shows its last run.
    let (_, run) = act(format!("/api/v1/schedules/{id}/trigger"), json!({})).await;
    let run_id = run["id"].as_str().expect("run id").to_owned();
    let (_, shown) = app
        .client
        .get(&format!("/api/v1/schedules/{id}"), Some(&app.viewer))
        .await;
    assert!(shown["last_fire_at"].is_string(), "{shown}");
    assert!(shown["next_fire_at"].is_string(), "{shown}");
    assert!(shown["last_run_status"].is_string(), "{shown}");
    let ran = app
        .wait_status(
            run_id.parse().expect("uuid"),
            &["succeeded"],
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(ran["schedule_id"], json!(id), "{ran}");

    let (status, _) = app
        .client
        .delete(&format!("/api/v1/schedules/{id}"), Some(&app.admin))
        .await;
    assert_eq!(status, 204);
    let deleted_at = Utc::now();
    let (status, _) = app
        .client
        .get(&format!("/api/v1/schedules/{id}"), Some(&app.viewer))
        .await;
    assert_eq!(status, 404);
    let_pass(deleted_at).await;

    // No tick fired while paused, while yearly, or after the delete (2 s allowed each).
    for t in ticks(&app).await {
        let quiet = [
            (paused_at + EFFECT, resumed_at),
            (yearly_at + EFFECT, every_at),
            (deleted_at + EFFECT, DateTime::<Utc>::MAX_UTC),
        ];
        assert!(
            !quiet.iter().any(|(from, to)| t > *from && t <= *to),
            "tick {t} fired in a quiet window {quiet:?}"
        );
    }
    let actions: Vec<String> = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Target.contains(&id))
        .all(&app.ctx.db)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    for action in [
        "schedule.create",
        "schedule.pause",
        "schedule.resume",
        "schedule.update",
        "schedule.trigger",
        "schedule.delete",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
    app.shutdown().await;
}

/// A schedule as stored, its next tick moved back as if every worker had been down.
async fn missed_schedule(app: &TestApp, name: &str, misfire: &str) -> entity::schedule::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let spec: ScheduleSpec = serde_json::from_value(json!({
        "name": name,
        "cron": "0 * * * * *",
        "template": { "kind": "ping", "params": { "steps": 1 } },
        "misfire": misfire,
    }))
    .expect("spec");
    let s = store::create(&app.ctx.db, &spec, "test", Utc::now())
        .await
        .expect("schedule");
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
        let spec: ScheduleSpec = serde_json::from_value(json!({
            "name": name,
            "cron": "* * * * * *",
            "template": { "kind": "ping", "params": { "steps": 1 } },
        }))
        .expect("spec");
        made.push(
            store::create(&app.ctx.db, &spec, "test", created)
                .await
                .expect("schedule"),
        );
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
    assert_eq!(recorded[0].outcome, "invalid");
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
    let spec: ScheduleSpec = serde_json::from_value(json!({
        "name": "slow",
        "cron": "* * * * * *",
        "template": { "kind": "ping", "params": { "steps": 1 } },
        "overlap": "skip",
    }))
    .expect("spec");
    let s = store::create(&app.ctx.db, &spec, "test", Utc::now())
        .await
        .expect("schedule");
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
    assert!(one_run_per_second(&runs) >= 30, "30 ticks or more");
    assert_eq!(
        runs.len(),
        fires().await,
        "every claimed tick started one run"
    );
    app.shutdown().await;
}

/// The addresses in a schedule's `notify` hear about each of its runs, told why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedules_notify_list_hears_about_its_runs() {
    let sink = tests::smtp::SmtpSink::start();
    let opts = tests::Options {
        smtp_url: Some(sink.url()),
        ..tests::Options::default()
    };
    let app = TestApp::spawn_with(tests::Backend::Sqlite, opts).await;
    let (status, s) = app
        .client
        .post(
            "/api/v1/schedules",
            Some(&app.admin),
            &json!({
                "name": "nightly-offers",
                "cron": "0 3 * * *",
                "template": { "kind": "ping", "params": { "steps": 2 } },
                "notify": ["planner@shop.ro", "not an address"],
            }),
        )
        .await;
    assert_eq!(status, 422, "{s}");
    assert_eq!(s["field"], "notify[1]");
    let (status, s) = app
        .client
        .post(
            "/api/v1/schedules",
            Some(&app.admin),
            &json!({
                "name": "nightly-offers",
                "cron": "0 3 * * *",
                "template": { "kind": "ping", "params": { "steps": 2 } },
                "notify": ["planner@shop.ro"],
            }),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().expect("id");
    let (status, run) = app
        .client
        .post(
            &format!("/api/v1/schedules/{id}/trigger"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let mail = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(mail[0].rcpt_to, ["planner@shop.ro"]);
    let parsed = mailparse::parse_mail(&mail[0].raw).expect("mail");
    let text = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("text part")
        .get_body()
        .expect("body");
    assert!(text.contains(run["id"].as_str().expect("run id")), "{text}");
    assert!(text.contains("„nightly-offers”"), "told why: {text}");
    app.shutdown().await;
}
