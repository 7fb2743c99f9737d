//! `magflow user create --role admin|viewer --name NAME [--password-stdin]`

use std::io::BufRead;

use clap::Subcommand;
use jobs::users;

use super::api_key::RoleArg;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a console user. Prints a generated password (the last line of stdout; it is
    /// never shown again) unless `--password-stdin` gives one.
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(config: jobs::Config, command: UserCommand) -> anyhow::Result<()> {
    let db = jobs::db::connect(&config).await?;
    jobs::db::migrate(&db).await?;
    match command {
        UserCommand::Create {
            role,
            name,
            password_stdin,
        } => {
            let role = role.into();
            let given = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let password = given.clone().unwrap_or_else(users::password::generate);
            let user = users::create(&db, name.trim(), role, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            jobs::audit::record(
                &db,
                "cli",
                jobs::audit::Action::UserCreate,
                &format!("user:{}", user.id),
                Some(serde_json::json!({ "name": user.name, "role": role.as_str() })),
            )
            .await?;
            if given.is_some() {
                println!("created {} user {:?}", role.as_str(), user.name);
            } else {
                println!(
                    "created {} user {:?}; its password is not shown again:",
                    role.as_str(),
                    user.name
                );
                println!("{password}");
            }
            Ok(())
        }
    }
}
