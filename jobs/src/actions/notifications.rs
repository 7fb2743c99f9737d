//! Subscriptions to run endings and the e-mail suppression list, changed from the API or
//! the console alike, each change with its audit row.

use entity::notification_subscription as subscription;
use uuid::Uuid;

use super::ActionError;
use crate::{
    JobContext, audit,
    notification::subscriptions::{self, NewSubscription},
    params::ParamError,
};

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error(transparent)]
    Invalid(#[from] ParamError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub async fn subscribe(
    ctx: &JobContext,
    new: NewSubscription,
    actor: &str,
) -> Result<subscription::Model, SubscribeError> {
    new.validate()?;
    let sub = subscriptions::create(&ctx.db, new, actor).await?;
    let target = format!("subscription:{}", sub.id);
    audit::record(
        &ctx.db,
        actor,
        audit::Action::NotificationSubscribe,
        &target,
        None,
    )
    .await?;
    Ok(sub)
}

pub async fn unsubscribe(ctx: &JobContext, id: Uuid, actor: &str) -> Result<(), ActionError> {
    if !subscriptions::delete(&ctx.db, id).await? {
        return Err(ActionError::NotFound);
    }
    let target = format!("subscription:{id}");
    audit::record(
        &ctx.db,
        actor,
        audit::Action::NotificationUnsubscribe,
        &target,
        None,
    )
    .await?;
    Ok(())
}

/// Lets `address` be tried again.
pub async fn unsuppress(ctx: &JobContext, address: &str, actor: &str) -> Result<(), ActionError> {
    if !subscriptions::unsuppress(&ctx.db, address).await? {
        return Err(ActionError::NotFound);
    }
    let target = format!("address:{address}");
    audit::record(
        &ctx.db,
        actor,
        audit::Action::NotificationUnsuppress,
        &target,
        None,
    )
    .await?;
    Ok(())
}
