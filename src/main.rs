//! The one `magflow` binary: parses the command line and hands off to a command.

mod commands;
mod logging;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = commands::Cli::parse();
    logging::init(&cli);
    match commands::dispatch(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One clear line (with its causes) instead of a panic or a backtrace.
            eprintln!("magflow: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
