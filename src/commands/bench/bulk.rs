//! `magflow bench bulk`: a bulk price/stock update end to end against the simulator with
//! eMAG's limits, through one worker process. The ceiling is eMAG's: 3 requests/s of 50
//! items = 150 items/s; the figures are items/s ÷ that ceiling, in the same run: from
//! the run's start to its end, and while sending (from the first save eMAG received to
//! the last: the budget used, without the run's set-up and the last answer's wait).

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
    bench
        .add_account("b0", &sim.base_url, LOGIN, PASSWORD)
        .await?;
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

    let report = report(&run, &sim.state.requests(before), &args.latency_ms)?;
    println!("{report}");
    bench.close().await;
    Ok(())
}

/// Items/s from the run's start to its end and while sending, against eMAG's ceiling.
fn report(
    run: &entity::job_run::Model,
    log: &[jobs::emag::sim::state::LogEntry],
    latency_ms: &str,
) -> anyhow::Result<serde_json::Value> {
    let seconds = duration(run)?;
    let mut saves: Vec<f64> = log
        .iter()
        .filter(|r| r.route == "offer/save" && r.status != 429)
        .map(|r| r.t_ms)
        .collect();
    let rejected = log.iter().filter(|r| r.status == 429).count();
    saves.sort_by(f64::total_cmp);
    let items_per_second = run.processed as f64 / seconds;
    let sending_span_s = match (saves.first(), saves.last()) {
        (Some(a), Some(b)) if b > a => (b - a) / 1000.0,
        _ => f64::NAN,
    };
    // Requests per second over the span, times the items each carried on average.
    let sending = (saves.len().saturating_sub(1)) as f64 / sending_span_s * run.processed as f64
        / saves.len().max(1) as f64;
    Ok(json!({
        "items": run.processed,
        "accepted": run.updated,
        "rejected": run.failed,
        "save_latency_ms": latency_ms,
        "seconds": seconds,
        "offer_save_requests": saves.len(),
        "rejected_429": rejected,
        "items_per_second": items_per_second,
        "ceiling_items_per_second": CEILING_ITEMS_PER_SECOND,
        "ratio_to_ceiling": items_per_second / CEILING_ITEMS_PER_SECOND,
        "sending_seconds": sending_span_s,
        "sending_items_per_second": sending,
        "sending_ratio_to_ceiling": sending / CEILING_ITEMS_PER_SECOND,
        "max_saves_in_any_second": jobs::emag::rate_limit::max_in_window(&saves, 1000.0),
    }))
}
