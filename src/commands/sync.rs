//! `magflow sync`: start a sync through the API, and with `--follow` watch it to the end.

use anyhow::bail;
use serde_json::json;

use super::{
    follow,
    remote::{Remote, RemoteArgs, message},
};

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Account name (repeat for several), or `all`.
    #[arg(long = "account", required = true)]
    pub accounts: Vec<String>,
    /// `offers`, `orders` or `all`.
    #[arg(long, default_value = "all")]
    pub resource: String,
    /// `full` or `incremental`.
    #[arg(long, default_value = "full")]
    pub mode: String,
    /// Show progress until the run ends; exit non-zero unless it succeeded.
    #[arg(long)]
    pub follow: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

pub async fn run(config: jobs::Config, args: SyncArgs) -> anyhow::Result<()> {
    let remote = Remote::new(&args.remote, &config)?;
    let accounts = if args.accounts.iter().any(|a| a == "all") {
        json!("all")
    } else {
        json!(args.accounts)
    };
    let body = json!({
        "kind": "sync",
        "params": { "accounts": accounts, "resource": args.resource, "mode": args.mode },
    });
    let (status, answer) = remote.post("/api/v1/runs", &body).await?;
    let id = match status {
        202 => answer["id"].as_str().unwrap_or_default().to_owned(),
        409 if args.follow => {
            let holder = answer["run_id"].as_str().unwrap_or_default().to_owned();
            eprintln!("{}; following it", message(&answer));
            holder
        }
        _ => bail!(
            "the API refused the sync (HTTP {status}): {}",
            message(&answer)
        ),
    };
    println!("run {id}");
    if !args.follow {
        return Ok(());
    }
    watch(&remote, &id).await
}

/// Follows a run (or a parent's runs) to the end; an error unless all succeeded.
pub async fn watch(remote: &Remote, id: &str) -> anyhow::Result<()> {
    if follow::follow(|| remote.run_lines(id)).await? {
        Ok(())
    } else {
        bail!("run {id} did not succeed")
    }
}
