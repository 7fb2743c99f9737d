//! `magflow api-key create --role admin|viewer --name NAME`

use clap::{Subcommand, ValueEnum};
use jobs::api_keys::{self, Role};

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key and print it (the last line of stdout; it is never shown again).
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Admin,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

pub async fn run(config: jobs::Config, command: ApiKeyCommand) -> anyhow::Result<()> {
    let db = jobs::db::connect(&config).await?;
    jobs::db::migrate(&db).await?;
    match command {
        ApiKeyCommand::Create { role, name } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 100,
                "--name: give 1 to 100 characters"
            );
            let role = role.into();
            let (key, model) = api_keys::create(&db, role, name).await?;
            jobs::audit::record(
                &db,
                "cli",
                jobs::audit::Action::ApiKeyCreate,
                &format!("api_key:{}", model.id),
                Some(serde_json::json!({ "name": name, "role": role.as_str() })),
            )
            .await?;
            println!(
                "created {} key {:?}; store it now, it is not shown again:",
                role.as_str(),
                name
            );
            println!("{key}");
            Ok(())
        }
    }
}
