//! Subcommands. Each file is one command; this one only parses and dispatches.

mod analytics;
mod api_key;
mod bench;
mod demo;
mod emag_sim;
mod follow;
mod remote;
mod runs;
mod serve;
mod sync;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "magflow",
    version,
    about = "Keeps eMAG Marketplace accounts in sync with your database"
)]
pub struct Cli {
    /// A TOML file with settings (environment variables `MAGFLOW_*` override it).
    #[arg(long, global = true, env = "MAGFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// API and worker in one process, on the embedded default (SQLite) unless configured
    /// otherwise; migrates the database first.
    Run {
        /// Also start a local eMAG simulator with two demo accounts (main, fbe) and sync
        /// them in full, with a progress bar per run.
        #[arg(long)]
        demo: bool,
    },
    /// Only the HTTP API.
    Api,
    /// Only a worker.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Start a sync through the API (needs a running magflow and an admin key).
    Sync(sync::SyncArgs),
    /// Runs started elsewhere.
    Runs {
        #[command(subcommand)]
        command: runs::RunsCommand,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: api_key::ApiKeyCommand,
    },
    /// Manage console users.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Daily history (sales, products, stock) kept from the synced data.
    Analytics {
        #[command(subcommand)]
        command: analytics::AnalyticsCommand,
    },
    /// A local eMAG simulator (same contract as eMAG) for demos and tests.
    EmagSim(emag_sim::EmagSimArgs),
    /// Benchmarks (figures go to stdout; see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let config_file = cli.config.clone();
    let load = || jobs::Config::load(config_file.as_deref());
    match cli.command {
        Command::Run { demo: false } => serve::run(load()?, serve::Parts::Both, None).await,
        Command::Run { demo: true } => demo::run(load()?).await,
        Command::Sync(args) => sync::run(load()?, args).await,
        Command::Runs { command } => runs::run(load()?, command).await,
        Command::Api => serve::run(load()?, serve::Parts::Api, None).await,
        Command::Worker => serve::run(load()?, serve::Parts::Worker, None).await,
        Command::Migrate => {
            let config = load()?;
            let db = jobs::db::connect(&config).await?;
            jobs::db::migrate(&db).await?;
            println!("migrations applied to {}", config.database_url);
            Ok(())
        }
        Command::ApiKey { command } => api_key::run(load()?, command).await,
        Command::User { command } => user::run(load()?, command).await,
        Command::Analytics { command } => analytics::run(load()?, command).await,
        Command::Bench { command } => bench::run(command).await,
        Command::EmagSim(args) => emag_sim::run(args).await,
    }
}
