//! `magflow user create --role admin|viewer --name NAME [--password-stdin]` and
//! `magflow user reset --name NAME [--password-stdin] [--two-factor]`: the way back in
//! for an admin who lost their password or their second factor.

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
    /// Give a user a new password (their sessions end; a lock from failed sign-ins is
    /// lifted). Prints a generated one as the last line of stdout unless
    /// `--password-stdin` gives one.
    Reset {
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
        /// Also turn off their second factor (they enrol again where it is required).
        #[arg(long)]
        two_factor: bool,
    },
}

/// A password from the first line of stdin, or `None` to generate one.
fn given_password(from_stdin: bool) -> anyhow::Result<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
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
            let given = given_password(password_stdin)?;
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
        UserCommand::Reset {
            name,
            password_stdin,
            two_factor,
        } => {
            reset(
                &db,
                name.trim(),
                given_password(password_stdin)?,
                two_factor,
            )
            .await
        }
    }
}

async fn reset(
    db: &sea_orm::DatabaseConnection,
    name: &str,
    given: Option<String>,
    two_factor: bool,
) -> anyhow::Result<()> {
    let Some(user) = users::find_by_name(db, name).await? else {
        anyhow::bail!("no user named {name:?}");
    };
    let password = given.clone().unwrap_or_else(users::password::generate);
    users::set_password(db, &user, &password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if two_factor {
        users::clear_two_factor(db, &user).await?;
    }
    let details = serde_json::json!({ "password": "reset", "two_factor": if two_factor { "reset" } else { "kept" } });
    let target = format!("user:{}", user.name);
    jobs::audit::record(
        db,
        "cli",
        jobs::audit::Action::UserUpdate,
        &target,
        Some(details),
    )
    .await?;
    if given.is_some() {
        println!("new password set for {:?}; their sessions ended", user.name);
    } else {
        println!(
            "new password for {:?} (their sessions ended); it is not shown again:",
            user.name
        );
        println!("{password}");
    }
    Ok(())
}
