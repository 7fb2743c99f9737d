//! `magflow bench analytics --accounts 20 --orders 50000`: two years of orders for each
//! account (1 million with the defaults, two lines each) written straight into the
//! database, then:
//! - `magflow analytics rebuild`'s work against a plain `INSERT … SELECT` of the same
//!   aggregates into tables of its own, in the same run (each twice, the faster kept);
//! - `GET /api/v1/analytics/sales` for a year of days of one account (and of every
//!   account), p50 / p95 over sequential requests;
//! - last month's PDF report for every account: seconds, and the process's resident
//!   memory after each of five, to show it does not grow.
//!
//! SQLite by default, or a fresh database on `--database-url` (PostgreSQL).

use std::time::Instant;

use chrono::{Duration, Utc};
use jobs::{JobContext, api_keys::Role, report::ReportParams};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::json;

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct AnalyticsBench {
    #[arg(long, default_value_t = 20)]
    accounts: usize,
    /// Orders per account, spread over the last two years.
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// Requests per API measurement.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// A PostgreSQL URL whose user may create databases (the benchmark makes its own and
    /// drops it); without it, a SQLite file.
    #[arg(long)]
    database_url: Option<String>,
}

/// Products per account.
const PRODUCTS: usize = 500;

pub async fn run(args: AnalyticsBench) -> anyhow::Result<()> {
    let bench = super::BenchDb::open(args.database_url.as_deref()).await?;
    let ctx = &bench.ctx;
    let seeded = Instant::now();
    let names = super::console::seed_accounts(ctx, args.accounts).await?;
    for name in &names {
        seed_orders(&ctx.db, name, args.orders).await?;
    }
    let seed_s = seeded.elapsed().as_secs_f64();
    let rebuild = rebuild_against_baseline(&ctx.db).await?;
    let api = api_latency(ctx, &names[0], args.requests).await?;
    let report = reports(&ctx.db).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "backend": bench.backend(),
            "accounts": args.accounts, "orders_per_account": args.orders,
            "orders": args.accounts * args.orders, "seed_seconds": seed_s,
            "rebuild": rebuild, "api": api, "report": report,
        }))?
    );
    bench.finish().await;
    Ok(())
}

/// `account`'s orders (status as eMAG's mix, every 631st minute back over two years) with
/// two lines each, and its offers, written by one statement per table.
async fn seed_orders(db: &DatabaseConnection, account: &str, n: usize) -> anyhow::Result<()> {
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let minutes = 730 * 1440;
    // The numbers 1..=count as a query of one column, `i`.
    let numbers = |count: usize| {
        if pg {
            format!("SELECT i FROM generate_series(1, {count}) AS g(i)")
        } else {
            format!(
                "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {count}) \
                 SELECT i FROM g"
            )
        }
    };
    let (at, day, amount) = if pg {
        (
            format!("now() - ((i * 631) % {minutes}) * interval '1 minute'"),
            format!(
                "CAST((now() - ((i * 631) % {minutes}) * interval '1 minute') AT TIME ZONE 'Europe/Bucharest' AS date)"
            ),
            "CAST(((i * 7919) % 200000) AS numeric) / 100 + 10".to_owned(),
        )
    } else {
        (
            format!(
                "strftime('%Y-%m-%d %H:%M:%S+00:00', 'now', '-' || ((i * 631) % {minutes}) || ' minutes')"
            ),
            format!("date('now', '-' || ((i * 631) % {minutes}) || ' minutes', '+2 hours')"),
            "((i * 7919) % 200000) / 100.0 + 10".to_owned(),
        )
    };
    let (offer_numbers, numbers) = (numbers(PRODUCTS), numbers(n));
    let json = if pg { "CAST('{}' AS json)" } else { "'{}'" };
    let now = if pg {
        "now()"
    } else {
        "strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')"
    };
    let status = "CASE (i * 7) % 8 WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 3 WHEN 6 THEN 0 WHEN 7 THEN 5 ELSE 4 END";
    let account = account.replace('\'', "''");
    let orders = format!(
        "INSERT INTO orders (account, emag_id, order_type, status, ordered_at, ordered_day, \
         lines_total, vat_total, vouchers_total, shipping_tax, total_with_vat, currency, raw, \
         content_hash, first_seen_at, last_synced_at, updated_at) \
         SELECT '{account}', i, 3, {status}, {at}, {day}, {amount}, 0, 0, 0, {amount}, 'RON', \
         {json}, 'bench', {now}, {now}, {now} FROM ({numbers}) AS s"
    );
    let lines = format!(
        "INSERT INTO order_lines (account, order_id, line_id, product_id, status, quantity, \
         sale_price, vat_rate, currency) \
         SELECT '{account}', i, i * 10 + k, (i * (k + 3) * 13) % {PRODUCTS}, 1, 1 + (i + k) % 3, \
         ((i * 31 + k * 17) % 50000) / 100.0 + 5, 0.21, 'RON' \
         FROM ({numbers}) AS s CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) AS ks"
    );
    let offers = format!(
        "INSERT INTO offers (account, emag_id, name, status, general_stock, raw, content_hash, \
         first_seen_at, last_synced_at, updated_at) \
         SELECT '{account}', i - 1, 'Produs ' || CAST(i AS text), 1, (i * 37) % 60, {json}, 'bench', \
         {now}, {now}, {now} FROM ({offer_numbers}) AS s"
    );
    for sql in [orders, lines, offers] {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

/// Seconds of the rebuild, and of a plain `INSERT … SELECT` of the same aggregates.
async fn rebuild_against_baseline(db: &DatabaseConnection) -> anyhow::Result<serde_json::Value> {
    for table in ["sales_daily", "product_sales_daily"] {
        let copy = format!("CREATE TABLE bench_{table} AS SELECT * FROM {table} WHERE 1 = 0");
        db.execute_unprepared(&copy).await?;
    }
    let plain = [
        "INSERT INTO bench_sales_daily (account, day, status, orders, units, value, currency) \
         SELECT account, ordered_day, status, COUNT(*), 0, SUM(total_with_vat), MAX(currency) \
         FROM orders WHERE ordered_day IS NOT NULL GROUP BY account, ordered_day, status",
        "INSERT INTO bench_product_sales_daily (account, day, product_id, status, units, revenue) \
         SELECT o.account, o.ordered_day, l.product_id, o.status, SUM(l.quantity), \
                SUM(l.sale_price * l.quantity * (1 + l.vat_rate)) \
         FROM orders o JOIN order_lines l ON l.account = o.account AND l.order_id = o.emag_id \
         WHERE o.ordered_day IS NOT NULL AND l.product_id IS NOT NULL \
         GROUP BY o.account, o.ordered_day, l.product_id, o.status",
    ];
    let (mut baseline, mut rebuild) = (f64::MAX, f64::MAX);
    let mut rows = (0, 0);
    for _ in 0..2 {
        db.execute_unprepared("DELETE FROM bench_sales_daily")
            .await?;
        db.execute_unprepared("DELETE FROM bench_product_sales_daily")
            .await?;
        let started = Instant::now();
        let txn = jobs::db::begin_write(db).await?;
        for sql in plain {
            txn.execute_unprepared(sql).await?;
        }
        txn.commit().await?;
        baseline = baseline.min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let txn = jobs::db::begin_write(db).await?;
        let report = jobs::analytics::rebuild(&txn).await?;
        txn.commit().await?;
        rebuild = rebuild.min(started.elapsed().as_secs_f64());
        rows = (report.sales_rows, report.product_rows);
    }
    Ok(json!({
        "sales_rows": rows.0, "product_rows": rows.1,
        "rebuild_seconds": rebuild, "insert_select_seconds": baseline,
        "rebuild_to_insert_select": rebuild / baseline,
    }))
}

/// p50 / p95 of a year of daily sales, one account and every account.
async fn api_latency(
    ctx: &JobContext,
    account: &str,
    requests: usize,
) -> anyhow::Result<serde_json::Value> {
    let (key, _) = jobs::api_keys::create(&ctx.db, Role::Viewer, "bench").await?;
    let (base, stop) = super::serve_api(ctx).await?;
    let http = reqwest::Client::new();
    let to = Utc::now().date_naive();
    let from = to - Duration::days(364);
    let mut out = Vec::new();
    for scope in [account, "all"] {
        let url = format!("{base}/api/v1/analytics/sales?account={scope}&from={from}&to={to}");
        let mut samples = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = Instant::now();
            let resp = http.get(&url).bearer_auth(&key).send().await?;
            anyhow::ensure!(resp.status().is_success(), "{url}: {}", resp.status());
            resp.bytes().await?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        let p95 = percentile(&samples, 95.0);
        out.push(json!({
            "account": scope, "days": 365, "requests": requests,
            "p50_ms": percentile(&samples, 50.0), "p95_ms": p95, "within_50ms_p95": p95 <= 50.0,
        }));
    }
    stop.cancel();
    Ok(json!(out))
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Last month's report for every account, five times: seconds and memory after each.
async fn reports(db: &DatabaseConnection) -> anyhow::Result<serde_json::Value> {
    let params: ReportParams = serde_json::from_value(json!({ "period": "last_month" }))?;
    let mut seconds = Vec::new();
    let mut rss = Vec::new();
    let mut bytes = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let (pdf, _) = jobs::report::render(db, &params)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        seconds.push(started.elapsed().as_secs_f64());
        bytes = pdf.len();
        rss.push(rss_kib().unwrap_or(0));
    }
    let growth = rss.last().copied().unwrap_or(0) as i64 - rss.get(1).copied().unwrap_or(0) as i64;
    Ok(json!({
        "period": "last_month", "accounts": "all", "pdf_bytes": bytes,
        "seconds": seconds, "max_seconds": seconds.iter().copied().fold(0.0, f64::max),
        "within_2s": seconds.iter().all(|s| *s <= 2.0),
        "rss_kib_after_each": rss, "rss_growth_kib_2nd_to_5th": growth,
    }))
}
