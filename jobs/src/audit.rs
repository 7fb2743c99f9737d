//! The audit log: one row per mutation, written by whoever performs it.

use chrono::Utc;
use entity::audit_log;
pub use entity::audit_log::Action;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbErr, EntityTrait,
};
use serde_json::Value;

pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    action: Action,
    target: &str,
    details: Option<Value>,
) -> Result<(), DbErr> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: NotSet,
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(action),
        target: Set(target.to_owned()),
        details: Set(details),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
