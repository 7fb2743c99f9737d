//! Subcommands. Each file is one command; this one only parses and dispatches.

mod api_key;
mod bench;
mod emag_sim;
mod serve;

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
    Run,
    /// Only the HTTP API.
    Api,
    /// Only a worker.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: api_key::ApiKeyCommand,
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
        Command::Run => serve::run(load()?, serve::Parts::Both).await,
        Command::Api => serve::run(load()?, serve::Parts::Api).await,
        Command::Worker => serve::run(load()?, serve::Parts::Worker).await,
        Command::Migrate => {
            let config = load()?;
            let db = jobs::db::connect(&config).await?;
            jobs::db::migrate(&db).await?;
            println!("migrations applied to {}", config.database_url);
            Ok(())
        }
        Command::ApiKey { command } => api_key::run(load()?, command).await,
        Command::Bench { command } => bench::run(command).await,
        Command::EmagSim(args) => emag_sim::run(args).await,
    }
}
