//! An admin's changes to who may use magflow, from the API or the console alike: API keys
//! (create, rotate, revoke) and console users (create, delete), each with its audit row.
//! A new key or password is returned once, in plain text, and never stored as such.

use chrono::{Duration, Utc};
use entity::{api_key, user};
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

use super::ActionError;
use crate::{
    JobContext,
    api_keys::{self, NewKey, RevokeError, Role},
    audit,
    users::{self, UserError},
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

/// Creates a console user with a generated password; returns it once.
pub async fn create_user(
    ctx: &JobContext,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<(String, user::Model), UserError> {
    let password = users::password::generate();
    let created = users::create(&ctx.db, name, role, &password).await?;
    let details = json!({ "name": created.name, "role": created.role.as_str() });
    let target = format!("user:{}", created.name);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::UserCreate,
        &target,
        Some(details),
    )
    .await?;
    Ok((password, created))
}

/// Deletes a user (their sessions go with them); never oneself, never the last admin.
pub async fn delete_user(
    ctx: &JobContext,
    id: Uuid,
    me: Uuid,
    actor: &str,
) -> Result<(), ActionError> {
    if id == me {
        return Err(ActionError::Conflict("you cannot delete yourself".into()));
    }
    let Some(gone) = users::find(&ctx.db, id).await? else {
        return Err(ActionError::NotFound);
    };
    if gone.role == Role::Admin {
        let admins = users::list(&ctx.db)
            .await?
            .iter()
            .filter(|u| u.role == Role::Admin)
            .count();
        if admins <= 1 {
            return Err(ActionError::Conflict(
                "the last admin cannot be deleted".into(),
            ));
        }
    }
    user::Entity::delete_by_id(id).exec(&ctx.db).await?;
    let target = format!("user:{}", gone.name);
    audit::record(&ctx.db, actor, audit::Action::UserDelete, &target, None).await?;
    Ok(())
}
