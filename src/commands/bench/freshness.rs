//! `magflow bench freshness`: how soon a new eMAG order is in the database. Orders are
//! created in the simulator at a steady rate; each one's time from creation to its stored
//! row is measured twice in the same run: with eMAG calling back (the account's callback
//! URL set in the simulator), and with polling alone (an incremental orders sync every
//! `--poll-seconds`, as a schedule would start). One worker process, the API in-process.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::Context;
use entity::order;
use jobs::{
    JobContext, JobKind,
    emag::sim::{Faults, LimitMode, SimConfig, SimLogin, Simulator},
    registry,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct FreshnessBench {
    /// New orders per second at eMAG.
    #[arg(long, default_value_t = 2.0)]
    orders_per_second: f64,
    /// How long orders are created, in each of the two phases.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The polling phase's interval between incremental syncs.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
    /// Simulated eMAG answer time in ms.
    #[arg(long, default_value = "100-300")]
    latency_ms: String,
    #[command(flatten)]
    stores: super::Stores,
}

const LOGIN: &str = "bench";
const PASSWORD: &str = "bench-secret";
const ACCOUNT: &str = "b0";

pub async fn run(args: FreshnessBench) -> anyhow::Result<()> {
    let sim = Simulator::start(
        SimConfig {
            logins: vec![SimLogin {
                username: LOGIN.into(),
                password: PASSWORD.into(),
                fbe: false,
            }],
            offers: 10,
            orders: 1,
            limits: LimitMode::Emag,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    *sim.state
        .faults
        .lock()
        .map_err(|_| anyhow::anyhow!("faults"))? =
        Faults::parse(&format!("latency={}", args.latency_ms))?;
    let bench = args.stores.open(|_| {}).await?;
    let ctx = &bench.ctx;
    bench
        .add_account(ACCOUNT, &sim.base_url, LOGIN, PASSWORD)
        .await?;
    let mut worker = super::spawn_worker(&bench.worker_env(&[]))?;
    let (api, api_stop) = super::serve_api(ctx).await?;
    let (_, secret) = jobs::accounts::rotate_callback_secret(&ctx.db, ACCOUNT).await?;
    let hook = jobs::accounts::order_hook_url(&api, ACCOUNT, &secret);
    let sim_admin = Admin {
        http: reqwest::Client::new(),
        base: sim.base_url.trim_end_matches("/api-3").to_owned(),
    };

    sim_admin
        .post("callbacks", json!({ "login": LOGIN, "order_url": hook }))
        .await?;
    let called = measure(ctx, &sim_admin, &args, None).await?;
    sim_admin
        .post("callbacks", json!({ "login": LOGIN, "order_url": null }))
        .await?;
    let poll = Duration::from_secs(args.poll_seconds);
    let polled = measure(ctx, &sim_admin, &args, Some(poll)).await?;
    let _ = worker.start_kill();
    api_stop.cancel();

    let report = json!({
        "orders_per_second": args.orders_per_second,
        "seconds_per_phase": args.seconds,
        "emag_latency_ms": args.latency_ms,
        "callbacks": summary(&called),
        "polling": summary(&polled),
        "poll_seconds": args.poll_seconds,
        "callback_calls_delivered": sim.state.callbacks.delivered.load(std::sync::atomic::Ordering::Relaxed),
        "callback_calls_failed": sim.state.callbacks.failed.load(std::sync::atomic::Ordering::Relaxed),
        "p95_polling_over_callbacks": percentile(&polled, 95.0) / percentile(&called, 95.0),
    });
    println!("{report}");
    bench.close().await;
    Ok(())
}

fn summary(seconds: &[f64]) -> Value {
    json!({
        "orders": seconds.len(),
        "p50_s": percentile(seconds, 50.0),
        "p95_s": percentile(seconds, 95.0),
        "max_s": seconds.last().copied().unwrap_or(f64::NAN),
    })
}

/// The simulator's `/__sim` routes.
struct Admin {
    http: reqwest::Client,
    base: String,
}

impl Admin {
    async fn post(&self, route: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(format!("{}/__sim/{route}", self.base))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(resp.json().await.unwrap_or(Value::Null))
    }
}

/// Creates orders at the steady rate and waits for each to be stored: the seconds each
/// took, sorted. With `poll`, an incremental orders sync starts every `poll`.
async fn measure(
    ctx: &JobContext,
    sim: &Admin,
    args: &FreshnessBench,
    poll: Option<Duration>,
) -> anyhow::Result<Vec<f64>> {
    let total = (args.orders_per_second * args.seconds as f64).round() as usize;
    let mut create = tokio::time::interval(Duration::from_secs_f64(1.0 / args.orders_per_second));
    let mut check = tokio::time::interval(Duration::from_millis(50));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds + 2 * args.poll_seconds + 120);
    let mut next_poll = started;
    let (mut created, mut pending) = (0usize, HashMap::<i64, Instant>::new());
    let mut took = Vec::new();
    while created < total || !pending.is_empty() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} orders never stored",
            pending.len()
        );
        if let Some(every) = poll.filter(|_| Instant::now() >= next_poll) {
            let params =
                json!({ "accounts": [ACCOUNT], "resource": "orders", "mode": "incremental" });
            // A poll still running when the next is due: that one is skipped.
            let _ = registry::start(JobKind::Sync, &ctx.db, &ctx.queue, &params).await;
            next_poll += every;
        }
        tokio::select! {
            _ = create.tick(), if created < total => {
                let added = sim.post("mutate", json!({ "login": LOGIN, "add_orders": 1 })).await?;
                let id = added["added_orders"][0].as_i64().context("the new order's id")?;
                pending.insert(id, Instant::now());
                created += 1;
            }
            _ = check.tick() => {
                let ids: Vec<i64> = pending.keys().copied().collect();
                let stored: Vec<i64> = order::Entity::find()
                    .select_only()
                    .column(order::Column::EmagId)
                    .filter(order::Column::EmagId.is_in(ids))
                    .into_tuple()
                    .all(&ctx.db)
                    .await?;
                for id in stored {
                    if let Some(at) = pending.remove(&id) {
                        took.push(at.elapsed().as_secs_f64());
                    }
                }
            }
        }
    }
    took.sort_by(f64::total_cmp);
    Ok(took)
}
