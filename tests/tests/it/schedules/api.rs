//! Schedules through the API: validation, pause, resume, edit, delete, trigger, audit;
//! the `notify` list by e-mail through a real SMTP server.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::TestApp;

/// How soon a change made through the API must take effect.
const EFFECT: chrono::Duration = chrono::Duration::seconds(2);

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
        .map(|a| a.action.as_str().to_owned())
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
    let run = super::create_and_trigger(
        &app,
        json!({
            "name": "nightly-offers",
            "cron": "0 3 * * *",
            "template": { "kind": "ping", "params": { "steps": 2 } },
            "notify": ["planner@shop.ro"],
        }),
    )
    .await;
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
