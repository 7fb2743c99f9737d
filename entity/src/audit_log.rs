//! Who changed what, and when: one row per mutation through the API or CLI.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// `key:<name>` for API callers, `cli` for local commands.
    pub actor: String,
    pub action: Action,
    pub target: String,
    pub details: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// What an audited change did: `<what>.<verb>`.
    pub enum Action {
        AccountCreate = "account.create",
        AccountUpdate = "account.update",
        AccountDelete = "account.delete",
        ApiKeyCreate = "api_key.create",
        ApiKeyRevoke = "api_key.revoke",
        ApiKeyRotate = "api_key.rotate",
        NotificationSubscribe = "notification.subscribe",
        NotificationUnsubscribe = "notification.unsubscribe",
        NotificationUnsuppress = "notification.unsuppress",
        QueuePause = "queue.pause",
        QueueResume = "queue.resume",
        RetentionPurge = "retention.purge",
        RunCreate = "run.create",
        RunCancel = "run.cancel",
        RunRetry = "run.retry",
        RunRetryMany = "run.retry_many",
        RunDiscard = "run.discard",
        RunDiscardMany = "run.discard_many",
        ScheduleCreate = "schedule.create",
        ScheduleUpdate = "schedule.update",
        ScheduleDelete = "schedule.delete",
        SchedulePause = "schedule.pause",
        ScheduleResume = "schedule.resume",
        ScheduleTrigger = "schedule.trigger",
        SessionSignIn = "session.sign_in",
        SessionSignInFailed = "session.sign_in_failed",
        SessionSignOut = "session.sign_out",
        SessionSignOutAll = "session.sign_out_all",
        UserCreate = "user.create",
        UserUpdate = "user.update",
        UserDelete = "user.delete",
    }
}
