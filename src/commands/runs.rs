//! `magflow runs watch ID`: follow a run started elsewhere (the API, a schedule).

use super::{
    remote::{Remote, RemoteArgs},
    sync::watch,
};

#[derive(clap::Subcommand, Debug)]
pub enum RunsCommand {
    /// Show a run's progress until it ends; exit non-zero unless it succeeded.
    Watch {
        /// The run's id (a parent's id follows each of its runs).
        id: uuid::Uuid,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

pub async fn run(config: jobs::Config, command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::Watch { id, remote } => {
            let remote = Remote::new(&remote, &config)?;
            watch(&remote, &id.to_string()).await
        }
    }
}
