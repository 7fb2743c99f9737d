//! Who is told when which runs end, and telling them: when a top-level run ends, each
//! matching subscription gets a notification run. `job_runs.announced` makes that happen
//! once per run, whichever worker or API call sees the end first.

use chrono::Utc;
use entity::{
    job_run::{self, RunStatus},
    notification_subscription as subscription,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::NotificationJob;
use crate::{
    JobKind, Queue,
    error::RunsError,
    job::Job,
    params::ParamError,
    runs::{self, NewRun},
};
pub use entity::notification_subscription::{Locale, NotifyOn};

/// A subscription as asked for.
#[derive(Clone, Debug)]
pub struct NewSubscription {
    pub recipients: Vec<String>,
    /// Job kinds, or `None` for all.
    pub kinds: Option<Vec<String>>,
    pub on: NotifyOn,
    pub locale: Locale,
}

impl NewSubscription {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.recipients.is_empty() {
            return Err(ParamError::new(
                "recipients",
                "must name at least one address",
            ));
        }
        for (i, r) in self.recipients.iter().enumerate() {
            if r.parse::<lettre::Address>().is_err() {
                return Err(ParamError::new(
                    format!("recipients[{i}]"),
                    format!("{r:?} is not an e-mail address"),
                ));
            }
        }
        if let Some(kinds) = &self.kinds {
            if kinds.is_empty() {
                return Err(ParamError::new("kinds", "must name a kind, or be \"all\""));
            }
            for (i, k) in kinds.iter().enumerate() {
                if JobKind::parse(k).is_none() || k == "notification" {
                    return Err(ParamError::new(
                        format!("kinds[{i}]"),
                        format!("{k:?} is not a job kind (sync, bulk_update, export, ping)"),
                    ));
                }
            }
        }
        Ok(())
    }
}

pub async fn create(
    db: &DatabaseConnection,
    new: NewSubscription,
    created_by: &str,
) -> Result<subscription::Model, DbErr> {
    subscription::ActiveModel {
        id: Set(Uuid::now_v7()),
        recipients: Set(json!(new.recipients)),
        kinds: Set(new.kinds.map_or_else(|| json!("all"), |k| json!(k))),
        on: Set(new.on),
        locale: Set(new.locale),
        created_by: Set(created_by.to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .order_by_asc(subscription::Column::Id)
        .all(db)
        .await
}

pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    let r = subscription::Entity::delete_by_id(id).exec(db).await?;
    Ok(r.rows_affected > 0)
}

/// A subscription hears of the runs that end while it exists: a run that ended before
/// it, unannounced because nobody wanted it then, stays so when a worker looks for
/// announcements a crash lost.
fn matches(sub: &subscription::Model, run: &job_run::Model) -> bool {
    let after_it = run.finished_at.is_none_or(|at| at >= sub.created_at);
    let kind_ok = match &sub.kinds {
        Value::Array(kinds) => kinds.iter().any(|k| k.as_str() == Some(run.kind.as_str())),
        _ => true,
    };
    let outcome_ok = match sub.on {
        NotifyOn::Both => true,
        NotifyOn::Success => run.status == RunStatus::Succeeded,
        NotifyOn::Failure => matches!(run.status, RunStatus::Failed | RunStatus::Dead),
    };
    after_it && kind_ok && outcome_ok
}

/// If run `id` is a top-level run that has ended and was not announced yet, queues one
/// notification run per matching subscription, and one for the `notify` list of the
/// schedule that created it; how many.
pub async fn announce(
    db: &DatabaseConnection,
    queue: &Queue,
    id: Uuid,
) -> Result<usize, RunsError> {
    match runs::find(db, id).await? {
        Some(run) => announce_all_ended(db, queue, &[run])
            .await
            .pop()
            .unwrap_or(Ok(0)),
        None => Ok(0),
    }
}

/// [`announce`] for many runs as their callers just wrote them (status and all), without
/// reading them again, and reading the subscriptions once (not at all if none of the
/// runs is to be announced); one answer per run.
pub async fn announce_all_ended(
    db: &DatabaseConnection,
    queue: &Queue,
    runs: &[job_run::Model],
) -> Vec<Result<usize, RunsError>> {
    if !runs.iter().any(to_announce) {
        return runs.iter().map(|_| Ok(0)).collect();
    }
    let subscriptions = match list(db).await {
        Ok(subscriptions) => subscriptions,
        Err(e) => {
            let message = e.to_string();
            return runs
                .iter()
                .map(|_| Err(sea_orm::DbErr::Custom(message.clone()).into()))
                .collect();
        }
    };
    let mut answers = Vec::with_capacity(runs.len());
    for run in runs {
        answers.push(match to_announce(run) {
            true => announce_to(db, queue, run, &subscriptions).await,
            false => Ok(0),
        });
    }
    answers
}

/// An ended top-level run not announced yet (notifications announce nothing).
fn to_announce(run: &job_run::Model) -> bool {
    run.status.is_terminal()
        && run.parent_id.is_none()
        && !run.announced
        && run.kind != JobKind::Notification
}

async fn announce_to(
    db: &DatabaseConnection,
    queue: &Queue,
    run: &job_run::Model,
    subscriptions: &[subscription::Model],
) -> Result<usize, RunsError> {
    let id = run.id;
    let mut notices: Vec<Value> = subscriptions
        .iter()
        .filter(|s| matches(s, run))
        .map(|sub| {
            json!({
                "recipients": sub.recipients,
                "run_id": run.id,
                "locale": sub.locale,
                "subscription_id": sub.id,
            })
        })
        .collect();
    if let Some(schedule_id) = run.schedule_id
        && let Some(schedule) = entity::schedule::Entity::find_by_id(schedule_id)
            .one(db)
            .await?
        && schedule.notify.as_array().is_some_and(|to| !to.is_empty())
    {
        notices
            .push(json!({ "recipients": schedule.notify, "run_id": run.id, "locale": Locale::Ro }));
    }
    // Nothing to send: no flag to set either (it only keeps notices from going out twice).
    if notices.is_empty() {
        return Ok(0);
    }
    // The flag and the notification runs commit together: a crash between the two can
    // neither lose the notifications (flag set, no runs) nor send them twice.
    let txn = crate::db::begin_write(db).await?;
    let claimed = job_run::Entity::update_many()
        .col_expr(job_run::Column::Announced, Expr::value(true))
        .filter(job_run::Column::Id.eq(id))
        .filter(job_run::Column::Announced.eq(false))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(0);
    }
    let mut inserted = Vec::with_capacity(notices.len());
    for params in &notices {
        let new = NewRun {
            kind: JobKind::Notification,
            params: params.clone(),
            account: run.account.clone(),
            max_attempts: NotificationJob::RETRY.max_attempts,
            parent_id: None,
            lock_key: None,
        };
        inserted.push(runs::insert(&txn, new).await?);
    }
    txn.commit().await?;
    // Committed runs without a task yet: a crash here leaves them to the reaper, which
    // dispatches queued runs that have none.
    for run in inserted {
        runs::dispatch(db, queue, run, std::time::Duration::ZERO).await?;
    }
    Ok(notices.len())
}

/// Addresses the mail server refused for good, newest first (at most 1,000).
pub async fn suppressions(
    db: &DatabaseConnection,
) -> Result<Vec<entity::email_suppression::Model>, sea_orm::DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    entity::email_suppression::Entity::find()
        .order_by_desc(entity::email_suppression::Column::At)
        .limit(1000)
        .all(db)
        .await
}

/// Lets `address` be tried again; false if it was not suppressed.
pub async fn unsuppress(db: &DatabaseConnection, address: &str) -> Result<bool, sea_orm::DbErr> {
    let r = entity::email_suppression::Entity::delete_by_id(address.to_owned())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
