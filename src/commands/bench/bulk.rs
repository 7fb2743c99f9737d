//! `magflow bench bulk`: a bulk price/stock update end to end against the simulator with
//! eMAG's limits, through one worker process. The ceiling is eMAG's: 3 requests/s of 50
//! items = 150 items/s; the figure is items/s achieved ÷ that ceiling, in the same run.

use anyhow::Context;
use entity::offer;
use jobs::{
    JobKind,
    bulk_update::{self, Cell, RawItem},
    emag::sim::{Faults, LimitMode, SimConfig, SimLogin, Simulator},
    registry,
};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde_json::json;

use super::sync::{duration, wait_all};

#[derive(clap::Args, Debug)]
pub struct BulkBench {
    /// Offers to change (all of one account).
    #[arg(long, default_value_t = 3000)]
    items: usize,
    /// Simulated eMAG answer time of a save in ms, e.g. `800-1200`.
    #[arg(long, default_value = "800-1200")]
    latency_ms: String,
    #[command(flatten)]
    stores: super::Stores,
}

const LOGIN: &str = "bench";
const PASSWORD: &str = "bench-secret";
/// eMAG: 3 requests/s outside orders, 50 items per `offer/save`.
const CEILING_ITEMS_PER_SECOND: f64 = 3.0 * 50.0;

/// An item per offer: its price up 1%, a new stock.
fn price_changes(offers: &[offer::Model]) -> Vec<RawItem> {
    offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let price = o.sale_price.unwrap_or(Decimal::ONE) * Decimal::new(101, 2);
            let cell = Cell::Text;
            RawItem {
                row: u32::try_from(i + 1).unwrap_or(u32::MAX),
                fields: vec![
                    ("account".into(), cell("b0".into())),
                    ("id".into(), cell(o.emag_id.to_string())),
                    ("sale_price".into(), cell(price.round_dp(2).to_string())),
                    ("stock".into(), cell((i % 50).to_string())),
                ],
            }
        })
        .collect()
}

pub async fn run(args: BulkBench) -> anyhow::Result<()> {
    let sim = Simulator::start(
        SimConfig {
            logins: vec![SimLogin {
                username: LOGIN.into(),
                password: PASSWORD.into(),
                fbe: false,
            }],
            offers: args.items,
            orders: 1,
            limits: LimitMode::Emag,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let bench = args.stores.open(|_| {}).await?;
    let ctx = &bench.ctx;
    bench.add_account("b0", &sim, LOGIN, PASSWORD).await?;
    let env = bench.worker_env(&[]);
    let mut worker = super::spawn_worker(&env)?;

    // The offers must be in the database first: a bulk update is checked against it.
    let sync = registry::start(
        JobKind::Sync,
        &ctx.db,
        &ctx.queue,
        &json!({ "accounts": ["b0"], "resource": "offers" }),
    )
    .await?;
    wait_all(ctx, &[sync.id]).await?;

    let raw = price_changes(&offer::Entity::find().all(&ctx.db).await?);
    *sim.state
        .faults
        .lock()
        .map_err(|_| anyhow::anyhow!("faults"))? =
        Faults::parse(&format!("latency={}", args.latency_ms))?;
    let before = sim.state.requests(0).len();
    let run = bulk_update::accept(&ctx.db, &ctx.queue, &raw, None).await?;
    let run = wait_all(ctx, &[run.id])
        .await?
        .pop()
        .context("the bulk run")?;
    let _ = worker.start_kill();

    let seconds = duration(&run)?;
    let saves: Vec<f64> = sim
        .state
        .requests(before)
        .iter()
        .filter(|r| r.route == "offer/save" && r.status != 429)
        .map(|r| r.t_ms)
        .collect();
    let rejected = sim
        .state
        .requests(before)
        .iter()
        .filter(|r| r.status == 429)
        .count();
    let items_per_second = run.processed as f64 / seconds;
    let report = json!({
        "items": run.processed,
        "accepted": run.updated,
        "rejected": run.failed,
        "save_latency_ms": args.latency_ms,
        "seconds": seconds,
        "offer_save_requests": saves.len(),
        "rejected_429": rejected,
        "items_per_second": items_per_second,
        "ceiling_items_per_second": CEILING_ITEMS_PER_SECOND,
        "ratio_to_ceiling": items_per_second / CEILING_ITEMS_PER_SECOND,
    });
    println!("{report}");
    bench.close().await;
    Ok(())
}
