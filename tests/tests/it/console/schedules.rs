//! A schedule made with the cron builder: weekly, Monday and Thursday at 08:30
//! Europe/Bucharest. The preview shows the expression and the right five instants as the
//! fields change; saved, it is listed with its next fire; a bad field is shown beside
//! its input; pause and delete from the list.

use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Bucharest;
use jobs::api_keys::Role;
use tests::{Backend, TestApp, browser::Browser};

use super::{PASSWORD, user};

both!(cron_builder_weekly_schedule, cron_builder_weekly_schedule);

/// The next `n` Mondays and Thursdays at 08:30 in Bucharest after now, as RFC 3339 UTC
/// instants: worked out here by walking the calendar, not by the cron library.
fn mondays_and_thursdays(n: usize) -> Vec<String> {
    let now = Utc::now();
    let today = now.with_timezone(&Bucharest).date_naive();
    let at = NaiveTime::from_hms_opt(8, 30, 0).expect("time");
    (0..30)
        .map(|d| today + Days::days(d))
        .filter(|day| matches!(day.weekday(), Weekday::Mon | Weekday::Thu))
        .filter_map(|day| Bucharest.from_local_datetime(&day.and_time(at)).single())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t > now)
        .take(n)
        .map(|t| t.to_rfc3339())
        .collect()
}

async fn cron_builder_weekly_schedule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A sync template needs an account to sync.
    let sim = tests::quick_simulator(10, 10).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    user(&app, "ana", Role::Admin).await;
    let base = app.client.base.clone();
    let browser = Browser::start(1280).await;
    browser.sign_in(&base, "ana", PASSWORD).await;
    browser.click("a[href='/schedules']").await;
    browser.find("[data-empty]").await;
    browser.click("a[data-action='new-schedule']").await;

    let name = browser.find("#f-name").await;
    name.send_keys("twice-weekly").await.expect("type name");
    browser.click("#f-mode option[value='weekly']").await;
    // Only the weekly fields show.
    assert!(
        browser
            .find("#f-day-thu")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    assert!(
        !browser
            .find("#f-every")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    let time = browser.find("#f-time").await;
    time.clear().await.expect("clear");
    time.send_keys("08:30").await.expect("type time");
    browser.click("#f-day-thu").await; // Monday is ticked already
    let zone = browser.find("#f-timezone").await;
    assert_eq!(
        zone.prop("value").await.expect("value").as_deref(),
        Some("Europe/Bucharest")
    );

    browser
        .until(
            "the preview's expression",
            "return document.getElementById('preview')?.dataset.expression === '30 8 * * 1,4';",
            Duration::from_secs(10),
        )
        .await;
    let shown = browser
        .eval("return [...document.querySelectorAll('#preview time')].map(t => t.getAttribute('datetime'));")
        .await;
    let expected = mondays_and_thursdays(5);
    let shown: Vec<String> = serde_json::from_value(shown).expect("strings");
    let as_instants = |v: &[String]| -> Vec<chrono::DateTime<Utc>> {
        v.iter().map(|s| s.parse().expect("rfc 3339")).collect()
    };
    assert_eq!(as_instants(&shown), as_instants(&expected));
    browser
        .screenshot(&format!("schedule-builder-{backend:?}"))
        .await;

    // A bad field is named beside its input, and nothing else is lost.
    time.clear().await.expect("clear");
    time.send_keys("25:00").await.expect("type time");
    browser.click("button[data-action='save']").await;
    browser.find("#e-time").await;
    assert_eq!(
        browser
            .find("#f-name")
            .await
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("twice-weekly")
    );
    let time = browser.find("#f-time").await;
    time.clear().await.expect("clear");
    time.send_keys("08:30").await.expect("type time");
    browser.click("button[data-action='save']").await;

    let next = "tr[data-schedule='twice-weekly'] time[data-field='next']";
    let listed = browser
        .find(next)
        .await
        .attr("datetime")
        .await
        .expect("attr");
    let listed: chrono::DateTime<Utc> = listed.expect("a next fire").parse().expect("rfc 3339");
    assert_eq!(listed, as_instants(&expected)[0]);
    let stored = jobs::schedules::store::list(&app.ctx.db).await.expect("db");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].cron, "30 8 * * 1,4");
    assert_eq!(stored[0].timezone, "Europe/Bucharest");
    browser.screenshot(&format!("schedules-{backend:?}")).await;

    // Pause, then delete behind its confirmation.
    browser
        .click("tr[data-schedule='twice-weekly'] button[data-action='pause']")
        .await;
    browser
        .click("tr[data-schedule='twice-weekly'] button[data-action='resume']")
        .await;
    browser
        .click("tr[data-schedule='twice-weekly'] summary[data-action='delete']")
        .await;
    browser
        .click("tr[data-schedule='twice-weekly'] button[data-confirm='delete']")
        .await;
    browser.find("[data-empty]").await;
    assert!(
        jobs::schedules::store::list(&app.ctx.db)
            .await
            .expect("db")
            .is_empty()
    );
    let (_, audit) = app
        .client
        .get("/api/v1/audit?action=schedule.", Some(&app.admin))
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(4), "{audit}");
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|a| a["actor"] == "user:ana")
    );
    browser.close().await;
    app.shutdown().await;
}
