//! Analytics: the daily history a sync keeps, read through the API, equals what the
//! stored orders say when computed here independently (from `ordered_at` in UTC, turned
//! into Bucharest days by chrono-tz), across both DST changes of the year.

mod exports;
mod left;
mod products;

use std::{collections::BTreeMap, time::Duration};

use chrono::{Datelike, Duration as Days, NaiveDate, Utc, Weekday};
use entity::{order, order_line};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use tests::{TestApp, sim_admin};

/// One local day's orders, computed from the stored orders alone.
#[derive(Debug, Default, Clone, PartialEq)]
struct Day {
    orders: i64,
    finalised: i64,
    units_sold: i64,
    revenue: Decimal,
    cancelled: i64,
    cancelled_value: Decimal,
}

/// Every stored order of `account` by its Bucharest day.
async fn by_local_day(app: &TestApp, account: &str) -> BTreeMap<NaiveDate, Day> {
    let db = &app.ctx.db;
    let lines = order_line::Entity::find().all(db).await.expect("lines");
    let mut units: BTreeMap<i64, i64> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.account == account && l.status != Some(0))
    {
        *units.entry(l.order_id).or_default() += l.quantity;
    }
    let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    for o in order::Entity::find().all(db).await.expect("orders") {
        if o.account != account {
            continue;
        }
        let at = o.ordered_at.expect("every simulated order has a date");
        let local = at.with_timezone(&chrono_tz::Europe::Bucharest).date_naive();
        let day = days.entry(local).or_default();
        day.orders += 1;
        match o.status {
            4 => {
                day.finalised += 1;
                day.units_sold += units.get(&o.emag_id).copied().unwrap_or(0);
                day.revenue += o.total_with_vat;
            }
            0 => {
                day.cancelled += 1;
                day.cancelled_value += o.total_with_vat;
            }
            _ => {}
        }
    }
    days
}

/// A money string as the API writes it, against a sum computed here.
fn same_money(api: &Value, expected: Decimal) -> bool {
    let got: Decimal = api
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(Decimal::MIN);
    (got - expected.round_dp(4)).abs() <= Decimal::new(1, 2)
}

/// The last Sunday of `month` in `year`: when Europe changes its clocks.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("date");
    let mut day = next - Days::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Days::days(1);
    }
    day
}

/// The latest spring and autumn clock changes before today.
fn dst_days(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let past = |month| {
        let this = last_sunday(today.year(), month);
        if this < today {
            this
        } else {
            last_sunday(today.year() - 1, month)
        }
    };
    (past(3), past(10))
}

async fn sync(app: &TestApp, resource: &str, extra: Value) -> Value {
    let mut params = json!({ "accounts": ["main"], "resource": resource });
    if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    let id = app
        .start_run(json!({ "kind": "sync", "params": params }))
        .await;
    let run = app.wait_ended(id, Duration::from_secs(120)).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    run
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.client.get(path, Some(&app.viewer)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

both!(
    daily_sales_equal_the_orders_across_dst,
    daily_sales_equal_the_orders_across_dst
);

async fn daily_sales_equal_the_orders_across_dst(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(20, 300).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .date_naive();
    let (spring, autumn) = dst_days(today);
    // Finalised orders on each side of local midnight around both clock changes: in UTC
    // the first two fall on the same day as the ones before them.
    let orders = tests::sim_dump(&sim, "main", "orders").await;
    let dated = [
        format!("{} 23:59:00", spring - Days::days(1)),
        format!("{spring} 00:30:00"),
        format!("{} 23:30:00", autumn - Days::days(1)),
        format!("{autumn} 00:30:00"),
        format!("{autumn} 23:30:00"),
    ];
    let changes: Vec<Value> = orders
        .iter()
        .zip(&dated)
        .map(|(o, date)| json!({ "id": o["id"], "date": date, "status": 4 }))
        .collect();
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "orders": changes }),
    )
    .await;
    let from = spring.min(autumn) - Days::days(3);
    sync(
        &app,
        "orders",
        json!({ "created_after": format!("{from} 00:00:00") }),
    )
    .await;

    let expected = by_local_day(&app, "main").await;
    for (date, count) in [(spring - Days::days(1), 1), (spring, 1), (autumn, 2)] {
        assert!(
            expected.get(&date).is_some_and(|d| d.finalised >= count),
            "{date}: {:?}",
            expected.get(&date)
        );
    }
    let path = format!("/api/v1/analytics/sales?account=main&from={from}&to={today}&compare=none");
    let sales = get(&app, &path).await;
    check_days(&sales["current"]["points"], &expected, from, today);
    assert!(sales.get("compared").is_none(), "{sales}");
    assert_eq!(sales["currency"], "RON");

    // Weeks, against the weeks before: totals and their change.
    let weeks = get(
        &app,
        &format!(
            "/api/v1/analytics/sales?account=main&from={}&to={today}&interval=week",
            today - Days::days(55)
        ),
    )
    .await;
    let total = |from: NaiveDate, to: NaiveDate| {
        expected
            .range(from..=to)
            .fold(Decimal::ZERO, |a, (_, d)| a + d.revenue)
    };
    let now = total(today - Days::days(55), today);
    let before = total(today - Days::days(111), today - Days::days(56));
    assert!(
        same_money(&weeks["current"]["totals"]["revenue"], now),
        "{weeks}"
    );
    assert!(
        same_money(&weeks["compared"]["totals"]["revenue"], before),
        "{weeks}"
    );
    assert!(
        same_money(&weeks["change"]["revenue"]["absolute"], now - before),
        "{weeks}"
    );
    let points = weeks["current"]["points"].as_array().expect("points");
    assert!((8..=9).contains(&points.len()), "{weeks}");
    assert!(
        points.iter().skip(1).all(|p| {
            p["from"]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .map(|d| d.weekday())
                == Some(Weekday::Mon)
        }),
        "{weeks}"
    );

    // An order cancelled at eMAG: the incremental sync moves it between the figures.
    let moved = &orders[1];
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "orders": [{ "id": moved["id"], "status": 0 }] }),
    )
    .await;
    let since = format!("{} 00:00:00", today - Days::days(1));
    sync(&app, "orders", json!({ "modified_after": since })).await;
    let expected_after = by_local_day(&app, "main").await;
    assert_eq!(
        expected_after[&spring].cancelled,
        expected[&spring].cancelled + 1
    );
    let sales = get(&app, &path).await;
    check_days(&sales["current"]["points"], &expected_after, from, today);

    // A rebuild from scratch gives the same figures, also for orders stored before they
    // had a local day (what the migration and the rebuild fill from eMAG's `date`).
    let db = &app.ctx.db;
    let forgotten = db
        .execute_unprepared("UPDATE orders SET ordered_day = NULL")
        .await
        .expect("forget the days");
    let txn = jobs::db::begin_write(db).await.expect("txn");
    let report = jobs::analytics::rebuild(&txn).await.expect("rebuild");
    txn.commit().await.expect("commit");
    assert!(report.sales_rows > 0, "{report:?}");
    assert_eq!(report.days_filled, forgotten.rows_affected(), "{report:?}");
    assert_eq!(get(&app, &path).await, sales);
    app.shutdown().await;
}

/// Every day from `from` to `to` is a point, and each equals the independent figures
/// (a day without orders is zeros).
fn check_days(points: &Value, expected: &BTreeMap<NaiveDate, Day>, from: NaiveDate, to: NaiveDate) {
    let points = points.as_array().expect("points");
    assert_eq!(points.len() as i64, (to - from).num_days() + 1);
    let mut empty_days = 0;
    for p in points {
        let date: NaiveDate = p["from"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .expect("from");
        let want = expected.get(&date).cloned().unwrap_or_default();
        empty_days += usize::from(want.orders == 0);
        assert_eq!(p["orders"], want.orders, "{date}: {p}");
        assert_eq!(p["finalised_orders"], want.finalised, "{date}: {p}");
        assert_eq!(p["units_sold"], want.units_sold, "{date}: {p}");
        assert_eq!(p["cancelled_orders"], want.cancelled, "{date}: {p}");
        assert!(
            same_money(&p["revenue"], want.revenue),
            "{date}: {p} {want:?}"
        );
        assert!(
            same_money(&p["cancelled_value"], want.cancelled_value),
            "{date}: {p}"
        );
    }
    assert!(empty_days > 0, "some day of the range has no orders");
}
