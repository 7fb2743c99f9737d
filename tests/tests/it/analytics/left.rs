//! A crash between a page of orders and its sync's end leaves the page's days marked
//! and their figures stale; a worker's sweep recomputes them without another sync.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::json;
use tests::TestApp;

use super::{get, sync};

both!(
    days_a_crash_left_stale_are_recomputed,
    days_a_crash_left_stale_are_recomputed
);

async fn days_a_crash_left_stale_are_recomputed(backend: tests::Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = tests::quick_simulator(10, 120).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    sync(&app, "orders", json!({})).await;
    let path = "/api/v1/analytics/sales?account=main&compare=none&from=2020-01-01&to=2022-12-31";
    let whole = "/api/v1/analytics/sales?account=main&compare=none";
    let before = get(&app, whole).await;
    assert!(
        before["current"]["totals"]["orders"].as_i64() > Some(0),
        "{before}"
    );
    assert_eq!(get(&app, path).await["current"]["totals"]["orders"], 0);

    // What the crash leaves: the orders and the marks written, the figures not.
    let db = &app.ctx.db;
    db.execute_unprepared("DELETE FROM sales_daily")
        .await
        .expect("stale");
    db.execute_unprepared(
        "INSERT INTO analytics_dirty (account, day) \
         SELECT DISTINCT account, ordered_day FROM orders WHERE ordered_day IS NOT NULL",
    )
    .await
    .expect("marks");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = get(&app, whole).await;
        if now == before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sweep never recomputed: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM analytics_dirty",
        ))
        .await
        .expect("count")
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    assert_eq!(left, Some(0), "every mark claimed");
    app.shutdown().await;
}
