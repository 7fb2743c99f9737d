//! `magflow bench ratelimit --processes N`: N OS processes share one eMAG login through
//! the Redis rate limit, against the simulator enforcing eMAG's limits. Reports, per
//! bucket, requests/s achieved ÷ the limit, the most requests the simulator saw in any
//! sliding second, and 429s. The simulator's own request log is the measurement.

use std::{process::Stdio, time::Duration};

use anyhow::Context;
use jobs::emag::{
    EmagClient, Login,
    client::ClientOptions,
    rate_limit::{Limits, RateLimiter},
    sim::{LimitMode, SimConfig, SimLogin, Simulator},
};
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct RateLimitBench {
    /// Worker processes sharing the login.
    #[arg(long, default_value_t = 3)]
    processes: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// `other` (non-order routes only) or `mixed` (order and other routes, each with
    /// requests of its own always waiting).
    #[arg(long, default_value = "other", value_parser = ["other", "mixed"])]
    mix: String,
    /// Redis that holds the shared budget.
    #[arg(
        long,
        env = "MAGFLOW_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    redis_url: String,
    /// Print one JSON line instead of a table.
    #[arg(long)]
    json: bool,
    /// Fraction of the limit kept in reserve, as `MAGFLOW_EMAG_RATE_MARGIN` (0 to 0.5).
    #[arg(long, default_value_t = 0.0)]
    margin: f64,
    /// Keep every core busy meanwhile (one spinning process per core), as a loaded
    /// machine would: requests whose slot comes late must still not exceed the limit.
    #[arg(long)]
    load: bool,
}

/// One load process (started by `bench ratelimit`; not for direct use).
#[derive(clap::Args, Debug)]
pub struct RateLimitLoad {
    #[arg(long)]
    base_url: String,
    #[arg(long)]
    redis_url: String,
    #[arg(long)]
    prefix: String,
    #[arg(long)]
    seconds: u64,
    #[arg(long)]
    mix: String,
    #[arg(long)]
    margin: f64,
}

/// One busy-looping shell per core, killed when dropped.
fn cpu_hogs() -> anyhow::Result<Vec<tokio::process::Child>> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (0..cores)
        .map(|_| {
            tokio::process::Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("start a CPU hog")
        })
        .collect()
}

const LOGIN: &str = "bench";
const PASSWORD: &str = "bench-secret";

pub async fn run(args: RateLimitBench) -> anyhow::Result<()> {
    anyhow::ensure!(args.processes >= 1, "--processes must be at least 1");
    anyhow::ensure!(
        Limits::MARGINS.contains(&args.margin),
        "--margin must be between 0 and 0.5"
    );
    let config = SimConfig {
        logins: vec![SimLogin {
            username: LOGIN.into(),
            password: PASSWORD.into(),
            fbe: false,
        }],
        offers: 10,
        orders: 10,
        limits: LimitMode::Emag,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, "127.0.0.1:0").await?;
    let _hogs = if args.load { cpu_hogs()? } else { Vec::new() };
    let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for _ in 0..args.processes {
        let child = tokio::process::Command::new(&exe)
            .args([
                "bench",
                "ratelimit-load",
                "--base-url",
                &sim.base_url,
                "--redis-url",
                &args.redis_url,
                "--prefix",
                &prefix,
            ])
            .args(["--seconds", &args.seconds.to_string(), "--mix", &args.mix])
            .args(["--margin", &args.margin.to_string()])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start a load process")?;
        children.push(child);
    }
    for mut child in children {
        let status = child.wait().await?;
        anyhow::ensure!(status.success(), "a load process failed: {status}");
    }
    let report = per_bucket(&sim.state.requests(0));
    super::cleanup_redis(&args.redis_url, &prefix).await;
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!(
        "magflow bench ratelimit --processes {} --seconds {} --mix {}{}",
        args.processes,
        args.seconds,
        args.mix,
        if args.load { " --load" } else { "" }
    );
    println!("| bucket | requests | 429s | max in any 1 s | limit/s | achieved/s | utilisation |");
    println!("|---|---|---|---|---|---|---|");
    for (bucket, r) in report.as_object().into_iter().flatten() {
        println!(
            "| {bucket} | {} | {} | {} | {} | {:.3} | {:.3} |",
            r["requests"],
            r["rejected_429"],
            r["max_in_any_second"],
            r["limit_per_second"],
            r["achieved_per_second"].as_f64().unwrap_or(0.0),
            r["utilisation"].as_f64().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// What the simulator saw, per rate-limit bucket: requests, 429s, the most in any
/// second, and the rate achieved against the limit.
fn per_bucket(log: &[jobs::emag::sim::state::LogEntry]) -> serde_json::Value {
    let mut report = serde_json::Map::new();
    for (bucket, orders, limit) in [("other", false, 3.0), ("orders", true, 12.0)] {
        let mut times: Vec<f64> = log
            .iter()
            .filter(|r| r.route.starts_with("order") == orders && r.status != 429)
            .map(|r| r.t_ms)
            .collect();
        let rejected = log
            .iter()
            .filter(|r| r.route.starts_with("order") == orders && r.status == 429)
            .count();
        if times.is_empty() && rejected == 0 {
            continue;
        }
        times.sort_by(f64::total_cmp);
        let max_in_second = jobs::emag::rate_limit::max_in_window(&times, 1000.0);
        let span_s =
            (times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0)) / 1000.0;
        let rate = if span_s > 0.0 {
            (times.len() - 1) as f64 / span_s
        } else {
            0.0
        };
        report.insert(
            bucket.into(),
            json!({ "requests": times.len(), "rejected_429": rejected, "max_in_any_second": max_in_second, "limit_per_second": limit, "achieved_per_second": rate, "utilisation": rate / limit }),
        );
    }
    serde_json::Value::Object(report)
}

pub async fn load(args: RateLimitLoad) -> anyhow::Result<()> {
    let conn = jobs::emag::rate_limit::connect_redis(&args.redis_url).await?;
    let limits = Limits {
        margin: args.margin,
        ..Limits::EMAG
    };
    let limiter = RateLimiter::redis(conn, &args.prefix, limits);
    let login = Login {
        base_url: args.base_url,
        username: LOGIN.into(),
        password: PASSWORD.into(),
    };
    let client = EmagClient::new(
        &login,
        limiter,
        ClientOptions {
            max_attempts: 1,
            ..ClientOptions::default()
        },
    )?
    .on_wire(jobs::emag::Wire::start()?);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.seconds);
    // Several requests in flight per process, as a worker with concurrent jobs would have;
    // in `mixed`, four more that only call order routes, so that both buckets always
    // have requests waiting.
    let mixed = args.mix == "mixed";
    let mut tasks = Vec::new();
    for i in 0..if mixed { 8 } else { 4 } {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            while tokio::time::Instant::now() < deadline {
                let result = if i >= 4 {
                    client
                        .count("order", &json!({ "type": 3 }))
                        .await
                        .map(|_| ())
                } else {
                    client.vat_read().await.map(|_| ())
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "request failed");
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(())
}
