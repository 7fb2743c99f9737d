//! Best sellers, days of cover and the stock trend, against the stored rows; and what
//! the analytics routes say to bad input.

use std::collections::BTreeMap;

use chrono::{Duration as Days, NaiveDate, Utc};
use entity::{offer, order, order_line};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{TestApp, sim_admin};

use super::{get, same_money, sync};

/// Per product over local days `from..=to` of orders with a status in `statuses`:
/// (units, revenue with VAT).
async fn product_sales(
    app: &TestApp,
    from: NaiveDate,
    to: NaiveDate,
    statuses: &[i32],
) -> BTreeMap<i64, (i64, Decimal)> {
    let db = &app.ctx.db;
    let orders: BTreeMap<i64, order::Model> = order::Entity::find()
        .all(db)
        .await
        .expect("orders")
        .into_iter()
        .map(|o| (o.emag_id, o))
        .collect();
    let mut out: BTreeMap<i64, (i64, Decimal)> = BTreeMap::new();
    for l in order_line::Entity::find().all(db).await.expect("lines") {
        let Some(o) = orders.get(&l.order_id) else {
            continue;
        };
        let day = o
            .ordered_at
            .expect("date")
            .with_timezone(&chrono_tz::Europe::Bucharest)
            .date_naive();
        if l.status == Some(0) || !statuses.contains(&o.status) || day < from || day > to {
            continue;
        }
        let e = out.entry(l.product_id.expect("product")).or_default();
        e.0 += l.quantity;
        e.1 += l.sale_price * Decimal::from(l.quantity) * (Decimal::ONE + l.vat_rate);
    }
    out
}

both!(best_sellers_cover_and_stock, best_sellers_cover_and_stock);

async fn best_sellers_cover_and_stock(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(30, 400).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    sync(&app, "all", json!({})).await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .date_naive();

    // Best sellers of the last 60 days, by revenue and by units.
    let from = today - Days::days(59);
    let sold = product_sales(&app, from, today, &[4]).await;
    let top = get(
        &app,
        &format!("/api/v1/analytics/products?account=main&from={from}&to={today}&limit=5"),
    )
    .await;
    let items = top["items"].as_array().expect("items");
    assert_eq!(items.len(), 5, "{top}");
    let mut by_revenue: Vec<(i64, Decimal)> = sold.iter().map(|(id, (_, r))| (*id, *r)).collect();
    by_revenue.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (item, (id, revenue)) in items.iter().zip(&by_revenue) {
        assert_eq!(item["product_id"], *id, "{top}");
        assert!(same_money(&item["revenue"], *revenue), "{item} {revenue}");
        assert_eq!(item["units"], sold[id].0);
        assert!(item["name"].is_string(), "{item}");
    }
    let top = get(
        &app,
        &format!("/api/v1/analytics/products?account=main&from={from}&to={today}&by=units&limit=3"),
    )
    .await;
    let most_units = sold.values().map(|(u, _)| *u).max().expect("a sale");
    assert_eq!(top["items"][0]["units"], most_units, "{top}");

    // The product ordered most in the last 28 days, left with one unit: running out.
    let pace = product_sales(&app, today - Days::days(27), today, &[1, 2, 3, 4]).await;
    let (&busiest, &(units, _)) = pace.iter().max_by_key(|(_, (u, _))| *u).expect("orders");
    let change =
        json!({ "id": busiest, "general_stock": 1, "stock": [{ "warehouse_id": 1, "value": 1 }] });
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "offers": [change] }),
    )
    .await;
    sync(&app, "offers", json!({})).await;
    let days = 1.0 / (units as f64 / 28.0);
    let out = get(&app, "/api/v1/analytics/running-out?account=main").await;
    let item = out["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["product_id"] == busiest)
        .unwrap_or_else(|| panic!("{busiest} is running out: {out}"));
    assert_eq!(item["stock"], 1);
    assert_eq!(item["units"], units);
    let got = item["days"].as_f64().expect("days");
    assert!((got - days).abs() <= 0.051, "{got} against {days}");
    assert!(
        out["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["days"].as_f64().is_some_and(|d| d < 7.0)),
        "{out}"
    );
    let one = get(
        &app,
        &format!("/api/v1/analytics/cover?account=main&product_id={busiest}"),
    )
    .await;
    assert_eq!(one["items"][0]["product_id"], busiest, "{one}");
    assert_eq!(one["pace_days"], 28);

    // Stock: today's snapshot is the offers' stock; the days before any sync have none.
    let offers = offer::Entity::find()
        .all(&app.ctx.db)
        .await
        .expect("offers");
    let units_in_stock: i64 = offers
        .iter()
        .filter(|o| o.removed_at.is_none())
        .map(|o| o.general_stock.unwrap_or(0).max(0))
        .sum();
    let trend = get(
        &app,
        &format!(
            "/api/v1/analytics/stock?account=main&from={}",
            today - Days::days(2)
        ),
    )
    .await;
    let points = trend["points"].as_array().expect("points");
    assert_eq!(points.len(), 3, "{trend}");
    assert_eq!(points[2]["units_in_stock"], units_in_stock, "{trend}");
    assert_eq!(points[2]["offers"], offers.len(), "{trend}");
    assert!(points[0].get("units_in_stock").is_none(), "{trend}");
    app.shutdown().await;
}

both!(analytics_bad_input, analytics_bad_input);

async fn analytics_bad_input(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, status, field) in [
        (
            "/api/v1/analytics/sales?from=2026-02-01&to=2026-01-01",
            422,
            "from",
        ),
        (
            "/api/v1/analytics/sales?from=2020-01-01&to=2026-01-01",
            422,
            "to",
        ),
        ("/api/v1/analytics/sales?account=nobody", 422, "account"),
        ("/api/v1/analytics/sales?interval=hour", 400, "interval"),
        ("/api/v1/analytics/sales?from=yesterday", 400, "from"),
        ("/api/v1/analytics/products?limit=0", 422, "limit"),
        ("/api/v1/analytics/cover?under=-1", 422, "under"),
        ("/api/v1/analytics/running-out?days=0", 422, "days"),
    ] {
        let (got, body) = app.client.get(path, Some(&app.viewer)).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    let (got, body) = app.client.get("/api/v1/analytics/sales", None).await;
    assert_eq!(got, 401, "{body}");
    // No orders yet: every day is there, as zeros.
    let sales = get(&app, "/api/v1/analytics/sales").await;
    let points = sales["current"]["points"].as_array().expect("points");
    assert_eq!(points.len(), 30, "{sales}");
    assert!(
        points
            .iter()
            .all(|p| p["orders"] == 0 && p["revenue"] == "0"),
        "{sales}"
    );
    app.shutdown().await;
}
