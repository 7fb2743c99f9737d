//! `magflow bench …`: figures for BENCHMARKS.md.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// No-op ping jobs per second through one worker, and enqueue→start latency.
    Queue {
        #[arg(long, value_parser = ["redis", "sqlite"])]
        backend: String,
        #[arg(long, default_value_t = 1000)]
        jobs: usize,
        /// Redis for `--backend redis`.
        #[arg(
            long,
            env = "MAGFLOW_BENCH_REDIS_URL",
            default_value = "redis://127.0.0.1:6379/"
        )]
        redis_url: String,
    },
}

pub async fn run(_command: BenchCommand) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
