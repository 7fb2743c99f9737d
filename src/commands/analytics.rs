//! `magflow analytics rebuild`: the daily history recomputed from the synced orders,
//! after an upgrade or when in doubt. Stock snapshots have no source to recompute from
//! and are kept.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum AnalyticsCommand {
    /// Recompute every account's daily sales from the stored orders, in one transaction
    /// (readers see the old figures until it commits).
    Rebuild,
}

pub async fn run(config: jobs::Config, command: AnalyticsCommand) -> anyhow::Result<()> {
    let db = jobs::db::connect(&config).await?;
    jobs::db::migrate(&db).await?;
    match command {
        AnalyticsCommand::Rebuild => {
            let started = std::time::Instant::now();
            let txn = jobs::db::begin_write(&db).await?;
            let report = jobs::analytics::rebuild(&txn).await?;
            txn.commit().await?;
            println!(
                "daily history rebuilt in {:.2} s: {} sales rows, {} product rows \
                 ({} orders got their local day)",
                started.elapsed().as_secs_f64(),
                report.sales_rows,
                report.product_rows,
                report.days_filled
            );
        }
    }
    Ok(())
}
