//! `magflow run --demo`: the embedded default plus an in-process eMAG simulator with two
//! demo accounts (`main` and `fbe`), a full sync of both with a progress bar per run, then
//! the API keeps serving.

use std::path::PathBuf;

use anyhow::Context;
use entity::job_run;
use jobs::{
    JobContext, JobKind,
    accounts::{self, AccountChange, AccountKind, NewAccount},
    emag::sim::{SimConfig, Simulator},
    registry,
    runs::{self, RunFilter},
    submit::SubmitError,
};
use serde_json::json;

use super::{follow, serve};

const LOOPBACK: &str = "127.0.0.1";

/// Three requests then span 1,111 ms where they need 1,000 (of the other routes' 3/s).
const DEMO_RATE_MARGIN: f64 = 0.1;

pub async fn run(mut config: jobs::Config) -> anyhow::Result<()> {
    // A newcomer looks around with the printed password at once; said at start-up.
    config.console_require_2fa = false;
    if config.secret_key.is_none() {
        config.secret_key = Some(demo_key(&config)?);
    }
    // The demo's eMAG shares this machine's cores with a debug build, which keeps them
    // busy: a request reached it over 50 ms after it was written (measured), where the
    // limiter allows for 15 ms on the way to eMAG's own machines. Unless one is set, the
    // demo keeps a reserve that covers that, so it meets no 429.
    if config.emag_rate_margin == 0.0 {
        config.emag_rate_margin = DEMO_RATE_MARGIN;
    }
    // The demo's simulator answers plain HTTP on this machine.
    if !config.emag_http_hosts.iter().any(|h| h == LOOPBACK) {
        config.emag_http_hosts.push(LOOPBACK.to_owned());
    }
    let sim = Simulator::start(SimConfig::default(), "127.0.0.1:0")
        .await
        .context("cannot start the eMAG simulator")?;
    let base_url = sim.base_url.clone();
    let hook: serve::Hook = Box::new(move |ctx| Box::pin(sync_demo(ctx, base_url)));
    let result = serve::run(config, serve::Parts::Both, Some(hook)).await;
    drop(sim);
    result
}

/// Demo passwords must be sealed like real ones: without `MAGFLOW_SECRET_KEY`, the demo
/// keeps a key of its own next to the SQLite database.
fn demo_key(config: &jobs::Config) -> anyhow::Result<jobs::secrets::SecretKey> {
    let url = config.database_url.expose();
    let path = url
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
        .map(PathBuf::from)
        .context("MAGFLOW_SECRET_KEY: set it to run the demo on a non-SQLite database")?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join("demo-secret.key");
    let hex = match std::fs::read_to_string(&file) {
        Ok(hex) => hex,
        Err(_) => {
            let hex = jobs::secrets::SecretKey::generate_hex();
            write_private(&file, &hex)?;
            hex
        }
    };
    Ok(jobs::secrets::SecretKey::from_hex(&hex)?)
}

fn write_private(file: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

async fn sync_demo(ctx: JobContext, base_url: String) -> anyhow::Result<()> {
    for (name, kind, password) in [
        ("main", AccountKind::Main, "main-secret"),
        ("fbe", AccountKind::Fbe, "fbe-secret"),
    ] {
        // The simulator listens on a new port each start: point the accounts at it.
        if accounts::find(&ctx.db, name).await?.is_some() {
            let change = AccountChange {
                base_url: Some(base_url.clone()),
                password: Some(password.into()),
                ..AccountChange::default()
            };
            accounts::update(&ctx.db, ctx.sealer.as_ref(), name, change, &[]).await?;
        } else {
            let new = NewAccount {
                name: name.into(),
                kind,
                platform: None,
                base_url: Some(base_url.clone()),
                username: name.into(),
                password: password.into(),
                auto_acknowledge: false,
            };
            jobs::actions::accounts::create(&ctx, new, "demo").await?;
        }
    }
    println!(
        "  Demo:       eMAG simulator at {base_url}; accounts main and fbe; full sync of both"
    );
    let params = json!({ "accounts": "all", "resource": "all", "mode": "full" });
    let id = match registry::start(JobKind::Sync, &ctx.db, &ctx.queue, &params).await {
        Ok(run) => run.id,
        Err(SubmitError::Conflict { run_id, .. }) => {
            println!("  (a demo sync is already running: following run {run_id})");
            runs::find(&ctx.db, run_id)
                .await?
                .and_then(|r| r.parent_id)
                .unwrap_or(run_id)
        }
        Err(e) => return Err(e.into()),
    };
    let ok = follow::follow(|| lines(&ctx, id)).await?;
    if !ok {
        println!("  The demo sync did not succeed; see GET /api/v1/runs/{id}");
    }
    Ok(())
}

async fn lines(ctx: &JobContext, id: uuid::Uuid) -> anyhow::Result<Vec<follow::RunLine>> {
    let filter = RunFilter {
        parent_id: Some(id),
        ..RunFilter::default()
    };
    let mut children = runs::list(&ctx.db, &filter, None, 100).await?;
    if children.is_empty() {
        children = runs::find(&ctx.db, id).await?.into_iter().collect();
    }
    children.reverse();
    Ok(children.iter().map(line).collect())
}

fn line(r: &job_run::Model) -> follow::RunLine {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    follow::RunLine {
        id: r.id.to_string(),
        label: format!(
            "{} {}",
            r.account.as_deref().unwrap_or("-"),
            r.params["resource"].as_str().unwrap_or(r.kind.as_str())
        ),
        status: r.status.as_str().to_owned(),
        processed: n(r.processed),
        total: r.total.map(n),
        throughput: r.throughput,
        eta_seconds: r.eta_seconds,
        error: r
            .error_message
            .as_ref()
            .map(|m| format!("{}: {m}", r.error_category.map_or("error", |c| c.as_str()))),
        created: n(r.created),
        updated: n(r.updated),
        unchanged: n(r.unchanged),
        failed: n(r.failed),
    }
}
