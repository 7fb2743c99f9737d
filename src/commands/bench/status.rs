//! `magflow bench status --clients 100 --seconds 10`: latency of `GET /api/v1/status`
//! under N concurrent clients, against `GET /health` (no database) in the same run.
//! The data: two accounts synced in full from the simulator first.

use std::time::{Duration, Instant};

use anyhow::Context;
use entity::job_run;
use jobs::{
    Config, JobContext, JobKind, SecretUrl,
    accounts::{AccountKind, NewAccount},
    api_keys,
    emag::sim::{LimitMode, SimConfig, Simulator},
    registry,
};
use sea_orm::EntityTrait;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct StatusBench {
    #[arg(long, default_value_t = 100)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Offers (and orders) per account.
    #[arg(long, default_value_t = 5000)]
    items: usize,
}

pub async fn run(args: StatusBench) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let sim = Simulator::start(
        SimConfig {
            offers: args.items,
            orders: args.items,
            limits: LimitMode::Off,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await?;
    let config = Config {
        database_url: SecretUrl::new(format!("sqlite://{}/magflow.db", dir.path().display())),
        queue_url: SecretUrl::new(format!("sqlite://{}/queue.db", dir.path().display())),
        secret_key: Some(jobs::secrets::SecretKey::from_hex(
            &jobs::secrets::SecretKey::generate_hex(),
        )?),
        emag_rate_limit: false,
        emag_http_hosts: vec!["127.0.0.1".into()],
        ..Config::default()
    };
    let ctx = JobContext::connect(config, true).await?;
    for (name, kind, password) in [
        ("main", AccountKind::Main, "main-secret"),
        ("fbe", AccountKind::Fbe, "fbe-secret"),
    ] {
        let new = NewAccount {
            name: name.into(),
            kind,
            platform: None,
            base_url: Some(sim.base_url.clone()),
            username: name.into(),
            password: password.into(),
            auto_acknowledge: false,
        };
        jobs::actions::accounts::create(&ctx, new, "bench").await?;
    }
    sync_all(&ctx).await?;

    let (key, _) = api_keys::create(&ctx.db, api_keys::Role::Viewer, "bench").await?;
    let (base, api_stop) = super::serve_api(&ctx).await?;
    let health = load(&format!("{base}/health"), &key, &args).await?;
    let status = load(&format!("{base}/api/v1/status"), &key, &args).await?;
    api_stop.cancel();
    let row = |name: &str, s: &[f64]| json!({ "endpoint": name, "requests": s.len(), "p50_ms": percentile(s, 50.0), "p99_ms": percentile(s, 99.0), "max_ms": s.last() });
    println!(
        "{}",
        json!({
            "clients": args.clients,
            "seconds": args.seconds,
            "items_per_account": args.items,
            "status": row("/api/v1/status", &status),
            "baseline": row("/health", &health),
            "p99_ratio_to_health": percentile(&status, 99.0) / percentile(&health, 99.0),
        })
    );
    Ok(())
}

/// Syncs every account with a worker of its own, which stops once the sync ends.
async fn sync_all(ctx: &JobContext) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let worker_ctx = ctx.clone();
    let worker = tokio::spawn(async move {
        worker::run(worker_ctx, async move { signal.cancelled().await }).await
    });
    let parent = registry::start(
        JobKind::Sync,
        &ctx.db,
        &ctx.queue,
        &json!({ "accounts": "all", "resource": "all" }),
    )
    .await?;
    loop {
        let run = job_run::Entity::find_by_id(parent.id)
            .one(&ctx.db)
            .await?
            .context("parent run")?;
        if run.status.is_terminal() {
            anyhow::ensure!(run.processed > 0, "the setup sync did nothing");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.cancel();
    let _ = worker.await;
    Ok(())
}

/// `clients` loops of GET for `seconds`; sorted latencies in ms. Any non-200 fails.
async fn load(url: &str, key: &str, args: &StatusBench) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (http, url, key) = (http.clone(), url.to_owned(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = http.get(&url).bearer_auth(&key).send().await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "{url}: HTTP {}",
                    response.status()
                );
                let _ = response.bytes().await?;
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(samples)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by(f64::total_cmp);
    Ok(all)
}
