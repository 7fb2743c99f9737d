//! `magflow bench console --runs 100000 --accounts 20 --sessions 20 --seconds 10`: the
//! console's overview, runs list and a run detail, each under N signed-in sessions at
//! once, against `GET /health` (no database) in the same run. The database holds the
//! runs and accounts given (written directly: this measures reading them); SQLite by
//! default, or a fresh database on `--database-url` (PostgreSQL).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use entity::{
    job_run::{self, ErrorCategory, JobKind, RunStatus},
    run_event,
};
use jobs::{
    JobContext,
    accounts::{AccountKind, NewAccount, Platform},
    api_keys::Role,
    users::{self, sessions},
};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::percentile;

#[derive(clap::Args, Debug)]
pub struct ConsoleBench {
    #[arg(long, default_value_t = 100_000)]
    runs: usize,
    #[arg(long, default_value_t = 20)]
    accounts: usize,
    /// Signed-in sessions asking at once.
    #[arg(long, default_value_t = 20)]
    sessions: usize,
    /// Seconds per page.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// A PostgreSQL URL whose user may create databases (the benchmark makes its own and
    /// drops it); without it, a SQLite file.
    #[arg(long)]
    database_url: Option<String>,
}

pub async fn run(args: ConsoleBench) -> anyhow::Result<()> {
    let bench = super::BenchDb::open(args.database_url.as_deref()).await?;
    let ctx = &bench.ctx;
    let seeded = Instant::now();
    let names = seed_accounts(ctx, args.accounts).await?;
    let detail = seed_runs(ctx, &names, args.runs).await?;
    let seed_s = seeded.elapsed().as_secs_f64();
    let user = users::create(&ctx.db, "bench", Role::Admin, &users::password::generate()).await?;
    let mut cookies = Vec::new();
    for _ in 0..args.sessions {
        let started =
            sessions::start(&ctx.db, user.id, entity::console_session::Stage::Full, None).await?;
        cookies.push(format!("mf_session={}", started.token));
    }
    let (base, stop) = super::serve_api(ctx).await?;
    let pages = [
        ("/health", format!("{base}/health")),
        ("overview /", format!("{base}/")),
        ("runs /runs", format!("{base}/runs")),
        ("run detail /runs/{id}", format!("{base}/runs/{detail}")),
    ];
    let mut rows = Vec::new();
    let mut health_p95 = f64::NAN;
    for (name, url) in &pages {
        let (samples, bytes) = load(url, &cookies, args.seconds).await?;
        let p95 = percentile(&samples, 95.0);
        if *name == "/health" {
            health_p95 = p95;
        }
        rows.push(json!({
            "page": name, "requests": samples.len(), "bytes": bytes,
            "p50_ms": percentile(&samples, 50.0), "p95_ms": p95, "p99_ms": percentile(&samples, 99.0),
            "p95_ratio_to_health": p95 / health_p95,
            "within_50ms_p95": p95 <= 50.0,
        }));
    }
    stop.cancel();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "backend": bench.backend(),
            "runs": args.runs, "accounts": args.accounts, "sessions": args.sessions,
            "seconds_per_page": args.seconds, "seed_seconds": seed_s, "pages": rows,
        }))?
    );
    bench.finish().await;
    Ok(())
}

pub(super) async fn seed_accounts(ctx: &JobContext, n: usize) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("shop-{i:02}");
        let new = NewAccount {
            name: name.clone(),
            kind: if i % 4 == 3 {
                AccountKind::Fbe
            } else {
                AccountKind::Main
            },
            platform: Some([Platform::Ro, Platform::Bg, Platform::Hu][i % 3]),
            base_url: None,
            username: format!("user{i}"),
            password: "bench-password".into(),
            auto_acknowledge: false,
        };
        jobs::actions::accounts::create(ctx, new, "bench").await?;
        names.push(name);
    }
    Ok(names)
}

/// `n` ended runs over the last 30 days (mostly succeeded syncs, some dead or failed);
/// returns one with a hundred log lines, for the detail page.
async fn seed_runs(ctx: &JobContext, accounts: &[String], n: usize) -> anyhow::Result<Uuid> {
    let now = Utc::now();
    let kinds = [
        JobKind::Sync,
        JobKind::Sync,
        JobKind::Sync,
        JobKind::BulkUpdate,
        JobKind::Export,
    ];
    let mut ids = Vec::with_capacity(n);
    // Few enough columns × rows per statement for SQLite's and PostgreSQL's limits.
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        let batch = chunk.iter().map(|&i| {
            let at = now - chrono::Duration::seconds(((n - i) * 26) as i64);
            let status = match i % 50 {
                0 => RunStatus::Dead,
                1 => RunStatus::Failed,
                2 => RunStatus::Cancelled,
                _ => RunStatus::Succeeded,
            };
            let failed = matches!(status, RunStatus::Dead | RunStatus::Failed);
            let account = accounts.get(i % accounts.len().max(1)).cloned();
            let mut run = job_run::ActiveModel {
                id: Set(Uuid::now_v7()),
                parent_id: Set(None),
                kind: Set(kinds[i % kinds.len()]),
                queue_job_id: Set(None),
                account: Set(account.clone()),
                params: Set(json!({ "accounts": [account], "resource": "offers" })),
                status: Set(status),
                attempt: Set(1),
                max_attempts: Set(5),
                lock_key: Set(None),
                checkpoint: Set(None),
                throughput: Set(Some(850.0)),
                eta_seconds: Set(None),
                error_category: Set(failed.then_some(ErrorCategory::Transient)),
                error_message: Set(failed.then(|| "eMAG answered 503 five times".to_owned())),
                cancel_requested: Set(false),
                worker_id: Set(None),
                heartbeat_at: Set(None),
                next_attempt_at: Set(None),
                revision: Set(3),
                created_at: Set(at),
                started_at: Set(Some(at)),
                finished_at: Set(Some(at + chrono::Duration::seconds(12))),
                updated_at: Set(at + chrono::Duration::seconds(12)),
                result: Set(None),
                announced: Set(true),
                schedule_id: Set(None),
                scheduled_for: Set(None),
                discarded_at: Set(None),
                ..Default::default()
            };
            jobs::counters::Counters {
                total: Some(5000),
                processed: 5000,
                created: 12,
                updated: 230,
                unchanged: 4758,
                ..Default::default()
            }
            .set_on(&mut run);
            ids.push(run.id.clone().unwrap());
            run
        });
        let batch: Vec<_> = batch.collect();
        job_run::Entity::insert_many(batch).exec(&ctx.db).await?;
    }
    let detail = *ids.last().context("--runs must be at least 1")?;
    let events = (0..100).map(|i| run_event::ActiveModel {
        run_id: Set(detail),
        at: Set(now),
        level: Set(run_event::Level::Info),
        message: Set(format!("page {i} written: 100 offers")),
        ..Default::default()
    });
    run_event::Entity::insert_many(events).exec(&ctx.db).await?;
    Ok(detail)
}

/// Every session asks for `url` in a loop for `seconds`; sorted latencies in ms and the
/// page's size. Anything but 200 fails the benchmark.
async fn load(url: &str, cookies: &[String], seconds: u64) -> anyhow::Result<(Vec<f64>, usize)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(cookies.len())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for cookie in cookies {
        let (http, url, cookie) = (http.clone(), url.to_owned(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut bytes) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let started = Instant::now();
                let response = http.get(&url).header("cookie", &cookie).send().await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "{url}: HTTP {}",
                    response.status()
                );
                bytes = response.bytes().await?.len();
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok((samples, bytes))
        }));
    }
    let (mut all, mut size) = (Vec::new(), 0);
    for t in tasks {
        let (samples, bytes) = t.await??;
        all.extend(samples);
        size = bytes;
    }
    all.sort_by(f64::total_cmp);
    Ok((all, size))
}
