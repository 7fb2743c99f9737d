//! An admin's changes to API keys, from the API or the console alike: create, rotate,
//! revoke, each with its audit row. A new key is returned once, in plain text, and never
//! stored as such. Console users are in [`super::users`].

use chrono::{Duration, Utc};
use entity::api_key;
use serde_json::json;
use uuid::Uuid;

use super::ActionError;
use crate::{
    JobContext,
    api_keys::{self, NewKey, RevokeError},
    audit,
};

/// Creates a key; returns it in plain text with its row.
pub async fn create_key(
    ctx: &JobContext,
    new: &NewKey,
    actor: &str,
) -> Result<(String, api_key::Model), sea_orm::DbErr> {
    let (key, model) = api_keys::create_with(&ctx.db, new).await?;
    let details = json!({ "name": model.name, "role": model.role });
    let target = format!("api_key:{}", model.id);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::ApiKeyCreate,
        &target,
        Some(details),
    )
    .await?;
    Ok((key, model))
}

/// Revokes key `id` (not the last working admin key).
pub async fn revoke_key(ctx: &JobContext, id: Uuid, actor: &str) -> Result<(), RevokeError> {
    api_keys::revoke(&ctx.db, id).await?;
    let target = format!("api_key:{id}");
    audit::record(&ctx.db, actor, audit::Action::ApiKeyRevoke, &target, None).await?;
    Ok(())
}

/// A new key in place of `old`, which keeps working for `grace`.
pub async fn rotate_key(
    ctx: &JobContext,
    old: &api_key::Model,
    grace: Duration,
    actor: &str,
) -> Result<(String, api_key::Model), ActionError> {
    if !api_keys::is_active(old, Utc::now()) {
        return Err(ActionError::Conflict(
            "only a working key can be rotated".into(),
        ));
    }
    let (key, model) = api_keys::rotate(&ctx.db, old, grace).await?;
    let details = json!({ "new_key": model.id, "grace_seconds": grace.num_seconds() });
    let target = format!("api_key:{}", old.id);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::ApiKeyRotate,
        &target,
        Some(details),
    )
    .await?;
    Ok((key, model))
}
