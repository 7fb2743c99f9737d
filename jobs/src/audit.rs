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

/// One row per `(target, details)`, all by `actor` doing `action`, in one statement.
pub async fn record_all<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    action: Action,
    entries: Vec<(String, Option<Value>)>,
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = Utc::now();
    let rows = entries
        .into_iter()
        .map(|(target, details)| audit_log::ActiveModel {
            id: NotSet,
            at: Set(at),
            actor: Set(actor.to_owned()),
            action: Set(action),
            target: Set(target),
            details: Set(details),
        });
    audit_log::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The actions `given` names: one, or all that start with it when it ends in `.`.
pub fn actions_named(given: &str) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| match given.strip_suffix('.') {
            Some(_) => a.as_str().starts_with(given),
            None => a.as_str() == given,
        })
        .collect()
}

/// Which audit rows to read; every field optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub actions: Option<Vec<Action>>,
    pub target: Option<String>,
    pub since: Option<chrono::DateTime<Utc>>,
    pub until: Option<chrono::DateTime<Utc>>,
}

/// Newest first; `before` is the id of the last row of the previous page.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut q = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_log::Column::Actor.eq(actor.as_str()));
    }
    if let Some(actions) = &filter.actions {
        q = q.filter(audit_log::Column::Action.is_in(actions.iter().copied()));
    }
    if let Some(target) = &filter.target {
        q = q.filter(audit_log::Column::Target.eq(target.as_str()));
    }
    if let Some(since) = filter.since {
        q = q.filter(audit_log::Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        q = q.filter(audit_log::Column::At.lt(until));
    }
    if let Some(before) = before {
        q = q.filter(audit_log::Column::Id.lt(before));
    }
    q.order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
