//! `magflow bench export`: exports of 10,000 and of 100,000 offers (CSV and XLSX) from
//! PostgreSQL, each by a fresh `magflow worker` process: rows/s and the worker's peak
//! memory. Flat memory means the large export peaks where the small one does; the small
//! export, in the same run, is the baseline.

use anyhow::Context;
use jobs::{JobContext, JobKind, registry};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::sync::{duration, peak_rss_kib, wait_all};

#[derive(clap::Args, Debug)]
pub struct ExportBench {
    /// Offers in the large export (the small one has a tenth).
    #[arg(long, default_value_t = 100_000)]
    offers: usize,
    #[command(flatten)]
    stores: super::Stores,
}

pub async fn run(args: ExportBench) -> anyhow::Result<()> {
    let exports = tempfile::tempdir()?;
    let exports_dir = exports.path().display().to_string();
    let bench = args
        .stores
        .open(|c| c.exports_dir = exports_dir.clone())
        .await?;
    let ctx = &bench.ctx;
    let small = args.offers / 10;
    for (account, n) in [("small", small), ("large", args.offers)] {
        seed(ctx, account, n).await?;
    }
    let env = bench.worker_env(&[("MAGFLOW_EXPORTS_DIR", exports_dir.as_str())]);
    let mut results = Vec::new();
    for format in ["csv", "xlsx"] {
        for account in ["small", "large"] {
            // A fresh process per export: its peak memory is this export's alone.
            let mut worker = super::spawn_worker(&env)?;
            let params = json!({ "resource": "offers", "format": format, "account": account });
            let run = registry::start(JobKind::Export, &ctx.db, &ctx.queue, &params).await?;
            let run = wait_all(ctx, &[run.id])
                .await?
                .pop()
                .context("the export")?;
            let rss = worker.id().and_then(peak_rss_kib).unwrap_or(0);
            let _ = worker.start_kill();
            let _ = worker.wait().await;
            let seconds = duration(&run)?;
            results.push(json!({
                "format": format,
                "rows": run.processed,
                "seconds": seconds,
                "rows_per_second": run.processed as f64 / seconds,
                "bytes": run.result.as_ref().and_then(|r| r.get("bytes")).cloned(),
                "worker_peak_rss_mib": rss as f64 / 1024.0,
            }));
        }
    }
    let ratio = |format: &str| {
        let rss = |rows: usize| {
            results
                .iter()
                .find(|r| r["format"] == format && r["rows"] == rows)
                .and_then(|r| r["worker_peak_rss_mib"].as_f64())
                .unwrap_or(f64::NAN)
        };
        rss(args.offers) / rss(small)
    };
    println!(
        "{}",
        json!({
            "exports": results,
            "peak_rss_large_over_small_csv": ratio("csv"),
            "peak_rss_large_over_small_xlsx": ratio("xlsx"),
        })
    );
    bench.close().await;
    Ok(())
}

/// `n` offers of `account`, written by PostgreSQL itself (the benchmark is the export).
async fn seed(ctx: &JobContext, account: &str, n: usize) -> anyhow::Result<()> {
    ctx.db
        .execute_unprepared(&format!(
            "INSERT INTO offers (account, emag_id, part_number, part_number_key, ean, name, brand, \
             category_id, sale_price, recommended_price, min_sale_price, max_sale_price, currency, \
             vat_id, status, validation_status, offer_validation_status, stock, general_stock, \
             estimated_stock, raw, content_hash, first_seen_at, last_synced_at, updated_at) \
             SELECT '{account}', i, 'PN-' || i, 'K' || i, '[\"594000000\"]'::json, \
             'Produs de test numarul ' || i || ' cu un nume de lungime obisnuita', 'Marca', 1, \
             (i % 1000) + 0.99, (i % 1000) + 10.99, (i % 1000) * 0.5, (i % 1000) * 2 + 1, 'RON', \
             1, 1, 9, 1, '[{{\"warehouse_id\":1,\"value\":5}}]'::json, 5, 5, '{{}}'::json, \
             md5(i::text), now(), now(), now() FROM generate_series(1, {n}) AS i"
        ))
        .await?;
    Ok(())
}
