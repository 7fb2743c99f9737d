//! What an admin does to accounts, from the API or the console alike: the change with its
//! audit row (which fields changed, never a password).

use entity::emag_account;
use serde_json::json;

use crate::accounts::{AccountChange, AccountError, CheckOutcome, NewAccount};
use crate::{JobContext, audit};

pub async fn create(
    ctx: &JobContext,
    new: NewAccount,
    actor: &str,
) -> Result<emag_account::Model, AccountError> {
    let hosts = &ctx.config.emag_http_hosts;
    let account = crate::accounts::create(&ctx.db, ctx.sealer.as_ref(), new, hosts).await?;
    let details = json!({
        "kind": account.kind.as_str(),
        "base_url": account.base_url,
        "username": account.username,
    });
    let target = format!("account:{}", account.name);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::AccountCreate,
        &target,
        Some(details),
    )
    .await?;
    Ok(account)
}

/// Changes the fields given; a new password replaces the sealed one.
pub async fn update(
    ctx: &JobContext,
    name: &str,
    change: AccountChange,
    actor: &str,
) -> Result<emag_account::Model, AccountError> {
    let changed: Vec<&str> = [
        ("kind", change.kind.is_some()),
        ("platform", change.platform.is_some()),
        ("base_url", change.base_url.is_some()),
        ("username", change.username.is_some()),
        ("password", change.password.is_some()),
        ("auto_acknowledge", change.auto_acknowledge.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, set)| set.then_some(f))
    .collect();
    let hosts = &ctx.config.emag_http_hosts;
    let account =
        crate::accounts::update(&ctx.db, ctx.sealer.as_ref(), name, change, hosts).await?;
    let target = format!("account:{}", account.name);
    let details = json!({ "changed": changed });
    audit::record(
        &ctx.db,
        actor,
        audit::Action::AccountUpdate,
        &target,
        Some(details),
    )
    .await?;
    Ok(account)
}

/// A new callback secret for the account (the old one stops working): the account and
/// the secret in plain text, shown this once. The audit row says only that it changed.
pub async fn rotate_callback_secret(
    ctx: &JobContext,
    name: &str,
    actor: &str,
) -> Result<(emag_account::Model, String), AccountError> {
    let (account, secret) = crate::accounts::rotate_callback_secret(&ctx.db, name).await?;
    audit_callbacks(ctx, &account, actor, "rotated").await?;
    Ok((account, secret))
}

/// Turns the account's callbacks off.
pub async fn disable_callbacks(
    ctx: &JobContext,
    name: &str,
    actor: &str,
) -> Result<emag_account::Model, AccountError> {
    let account = crate::accounts::disable_callbacks(&ctx.db, name).await?;
    audit_callbacks(ctx, &account, actor, "disabled").await?;
    Ok(account)
}

async fn audit_callbacks(
    ctx: &JobContext,
    account: &emag_account::Model,
    actor: &str,
    what: &str,
) -> Result<(), sea_orm::DbErr> {
    let target = format!("account:{}", account.name);
    let details = json!({ "changed": ["callback_secret"], "callback_secret": what });
    audit::record(
        &ctx.db,
        actor,
        audit::Action::AccountUpdate,
        &target,
        Some(details),
    )
    .await
}

/// Deletes the account and everything synced from it; false if there is none.
pub async fn delete(ctx: &JobContext, name: &str, actor: &str) -> Result<bool, AccountError> {
    if !crate::accounts::delete(&ctx.db, name).await? {
        return Ok(false);
    }
    let target = format!("account:{name}");
    audit::record(&ctx.db, actor, audit::Action::AccountDelete, &target, None).await?;
    Ok(true)
}

/// One cheap authenticated call to eMAG with the account's login.
pub async fn check(
    ctx: &JobContext,
    account: &emag_account::Model,
) -> Result<CheckOutcome, AccountError> {
    let hosts = &ctx.config.emag_http_hosts;
    crate::accounts::check(ctx.sealer.as_ref(), &ctx.limiter, hosts, account).await
}
