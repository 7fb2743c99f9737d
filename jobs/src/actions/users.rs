//! Changes to console users, from the console (and `magflow user`): an admin creates,
//! deletes, changes the role of, resets the password or the second factor of someone
//! else; anyone changes their own password. Each writes its audit row. A generated
//! password is returned once, in plain text, and never stored as such. Never oneself
//! where it could lock one out, never the last admin.

use entity::user;
use sea_orm::{DbErr, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::{
    JobContext,
    api_keys::Role,
    audit,
    users::{self, UserError, sign_in::SignInError},
};

/// Why a change to a user did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UserActionError {
    #[error("user not found")]
    NotFound,
    /// Not allowed for this user; the message says why.
    #[error("{0}")]
    Refused(&'static str),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("too many wrong passwords; try again later")]
    Locked,
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Db(#[from] DbErr),
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
) -> Result<(), UserActionError> {
    let gone = someone_else(ctx, id, me, "you cannot delete yourself").await?;
    if gone.role == Role::Admin && admins(ctx).await? <= 1 {
        return Err(UserActionError::Refused("the last admin cannot be deleted"));
    }
    user::Entity::delete_by_id(id).exec(&ctx.db).await?;
    let target = format!("user:{}", gone.name);
    audit::record(&ctx.db, actor, audit::Action::UserDelete, &target, None).await?;
    Ok(())
}

/// Gives another user `role`; the last admin stays one.
pub async fn change_role(
    ctx: &JobContext,
    id: Uuid,
    role: Role,
    me: Uuid,
    actor: &str,
) -> Result<user::Model, UserActionError> {
    let target = someone_else(ctx, id, me, "you cannot change your own role").await?;
    if target.role == role {
        return Ok(target);
    }
    if target.role == Role::Admin && admins(ctx).await? <= 1 {
        return Err(UserActionError::Refused(
            "the last admin cannot stop being an admin",
        ));
    }
    users::set_role(&ctx.db, &target, role).await?;
    let details = json!({ "role": { "from": target.role.as_str(), "to": role.as_str() } });
    updated(ctx, actor, &target, details).await?;
    Ok(user::Model { role, ..target })
}

/// Gives another user a new generated password, returned once; their sessions end and a
/// lock from failed sign-ins is lifted.
pub async fn reset_password(
    ctx: &JobContext,
    id: Uuid,
    me: Uuid,
    actor: &str,
) -> Result<(String, user::Model), UserActionError> {
    let target = someone_else(ctx, id, me, "change your own password on your own page").await?;
    let password = users::password::generate();
    users::set_password(&ctx.db, &target, &password).await?;
    updated(ctx, actor, &target, json!({ "password": "reset" })).await?;
    Ok((password, target))
}

/// Turns another user's second factor off (a lost phone and lost codes); their sessions
/// end, and they enrol again at their next sign-in where it is required.
pub async fn reset_two_factor(
    ctx: &JobContext,
    id: Uuid,
    me: Uuid,
    actor: &str,
) -> Result<user::Model, UserActionError> {
    let target = someone_else(
        ctx,
        id,
        me,
        "manage your own second factor on your own page",
    )
    .await?;
    users::clear_two_factor(&ctx.db, &target).await?;
    updated(ctx, actor, &target, json!({ "two_factor": "reset" })).await?;
    Ok(target)
}

/// Changes one's own password, given the current one; every session of theirs ends
/// (this browser signs in again with the new one).
pub async fn change_own_password(
    ctx: &JobContext,
    me: &user::Model,
    current: &str,
    new: &str,
) -> Result<(), UserActionError> {
    // Checked as a sign-in is: a wrong one counts towards the lock, so a borrowed
    // session cannot be used to guess the password.
    match users::sign_in::check_password(&ctx.db, &me.name, current).await {
        Ok(_) => {}
        Err(SignInError::Refused) => return Err(UserActionError::WrongPassword),
        Err(SignInError::Locked(_)) => return Err(UserActionError::Locked),
        Err(SignInError::Db(e)) => return Err(e.into()),
    }
    users::set_password(&ctx.db, me, new).await?;
    let actor = format!("user:{}", me.name);
    updated(ctx, &actor, me, json!({ "password": "changed" })).await?;
    Ok(())
}

async fn someone_else(
    ctx: &JobContext,
    id: Uuid,
    me: Uuid,
    refusal: &'static str,
) -> Result<user::Model, UserActionError> {
    if id == me {
        return Err(UserActionError::Refused(refusal));
    }
    users::find(&ctx.db, id)
        .await?
        .ok_or(UserActionError::NotFound)
}

async fn admins(ctx: &JobContext) -> Result<usize, DbErr> {
    Ok(users::list(&ctx.db)
        .await?
        .iter()
        .filter(|u| u.role == Role::Admin)
        .count())
}

async fn updated(
    ctx: &JobContext,
    actor: &str,
    target: &user::Model,
    details: serde_json::Value,
) -> Result<(), DbErr> {
    let target = format!("user:{}", target.name);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::UserUpdate,
        &target,
        Some(details),
    )
    .await
}
