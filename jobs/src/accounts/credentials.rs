//! An account's eMAG password, sealed at rest and bound to the account it was given for.

use entity::emag_account;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::AccountError;
use crate::{
    emag::Login,
    error::SetupError,
    secrets::{SealError, Sealer},
};

/// What a sealed password belongs to: it opens only for this account id, base URL and
/// username, so it never follows a changed URL to another host.
pub(super) fn sealing_context(id: Uuid, base_url: &str, username: &str) -> Vec<u8> {
    format!("magflow emag account\0{id}\0{base_url}\0{username}").into_bytes()
}

/// The login of an account, its password opened.
pub fn login(
    sealer: Option<&Sealer>,
    account: &emag_account::Model,
) -> Result<Login, AccountError> {
    let sealer = sealer.ok_or(AccountError::NoKey)?;
    let context = sealing_context(account.id, &account.base_url, &account.username);
    let password = sealer
        .open(&account.password_sealed, &context)
        .map_err(|e| match e {
            SealError::WrongKey => AccountError::Sealed(account.name.clone()),
            _ => AccountError::NeedsPassword(account.name.clone()),
        })?;
    Ok(Login {
        base_url: account.base_url.clone(),
        username: account.username.clone(),
        password,
    })
}

/// Whether the account's stored password cannot be used as it is (no key, or sealed for
/// another account, URL or username): an admin must set it again.
pub fn needs_password(sealer: Option<&Sealer>, account: &emag_account::Model) -> bool {
    login(sealer, account).is_err()
}

/// Start-up check: sealed passwords exist ⇒ the key must be set and must be the one they
/// were sealed with. Then passwords sealed by older versions (no account binding) are
/// sealed again, bound to their account.
pub async fn verify_key(
    db: &DatabaseConnection,
    sealer: Option<&Sealer>,
) -> Result<(), SetupError> {
    let setup = |e: DbErr| SetupError::Migrate(e.to_string());
    let all = emag_account::Entity::find().all(db).await.map_err(setup)?;
    if all.is_empty() {
        return Ok(());
    }
    let Some(sealer) = sealer else {
        return Err(SetupError::Config(format!(
            "MAGFLOW_SECRET_KEY: not set, but {} eMAG account password(s) are sealed with it; set the key they were saved with",
            all.len()
        )));
    };
    let ours = |a: &&emag_account::Model| {
        Sealer::sealed_key_id(&a.password_sealed) == Some(sealer.key_id())
            || (Sealer::is_legacy(&a.password_sealed)
                && sealer.open_legacy(&a.password_sealed).is_ok())
    };
    if !all.iter().any(|a| ours(&a)) {
        return Err(SetupError::Config(format!(
            "MAGFLOW_SECRET_KEY: does not open the sealed password of account {:?}; is it the key the accounts were saved with?",
            all[0].name
        )));
    }
    for account in all.iter().filter(|a| Sealer::is_legacy(&a.password_sealed)) {
        let Ok(password) = sealer.open_legacy(&account.password_sealed) else {
            continue; // reported as needing a password
        };
        let context = sealing_context(account.id, &account.base_url, &account.username);
        // Conditional on the old value: a password set meanwhile is not overwritten.
        emag_account::Entity::update_many()
            .col_expr(
                emag_account::Column::PasswordSealed,
                sea_orm::sea_query::Expr::value(sealer.seal(&password, &context)),
            )
            .filter(emag_account::Column::Id.eq(account.id))
            .filter(emag_account::Column::PasswordSealed.eq(account.password_sealed.clone()))
            .exec(db)
            .await
            .map_err(setup)?;
        tracing::info!(account = %account.name, "sealed password bound to its account");
    }
    Ok(())
}
