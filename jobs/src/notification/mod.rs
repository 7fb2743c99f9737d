//! `notification`: e-mail about a run, to each recipient separately, so one refused
//! address neither blocks nor repeats the others. Delivered addresses are kept in the
//! checkpoint (a retry does not send twice); addresses the server refuses for good are
//! recorded in `email_suppressions` and skipped from then on.

pub mod lost;
mod mail;
pub mod subscriptions;
pub mod templates;

use std::time::Duration;

use chrono::Utc;
use entity::{email_suppression, schedule};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

pub use subscriptions::{Locale, NewSubscription, NotifyOn, announce, announce_all_ended};

use crate::{
    context::JobContext,
    error::{ErrorCategory, JobError},
    job::Job,
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::{ItemOutcome, Level, Progress},
    runs,
};
use templates::Reason;

pub struct NotificationJob;

impl Job for NotificationJob {
    const KIND: JobKind = JobKind::Notification;
    const PLAIN: bool = true;
    const RETRY: RetryPolicy =
        RetryPolicy::new(6, Duration::from_secs(10), Duration::from_secs(900));
    const TIMEOUT: Duration = Duration::from_secs(120);
    const SHORT: bool = true;
    const UNSCHEDULABLE: Option<&'static str> =
        Some("notifications follow runs; use `notify` instead");
    type Params = NotificationParams;
    type Stored = NotificationParams;

    fn validate(params: &NotificationParams) -> Result<(), ParamError> {
        params.validate()
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        params: NotificationParams,
        _attempt: u32,
    ) -> Result<(), JobError> {
        run(ctx, progress, params).await
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationParams {
    pub recipients: Vec<String>,
    /// The run to report on.
    pub run_id: Uuid,
    #[serde(default = "ro")]
    pub locale: Locale,
    /// The subscription that asked for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<Uuid>,
}

fn ro() -> Locale {
    Locale::Ro
}

impl NotificationParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.recipients.is_empty() {
            return Err(ParamError::new(
                "params.recipients",
                "must name at least one address",
            ));
        }
        if let Some(bad) = self
            .recipients
            .iter()
            .position(|r| r.parse::<lettre::Address>().is_err())
        {
            return Err(ParamError::new(
                format!("params.recipients[{bad}]"),
                "is not an e-mail address",
            ));
        }
        Ok(())
    }
}

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: NotificationParams,
) -> Result<(), JobError> {
    let (smtp, from, message) = compose(ctx, &params).await?;
    let suppressed: Vec<String> = email_suppression::Entity::find()
        .filter(email_suppression::Column::Address.is_in(params.recipients.iter().cloned()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|s| s.address)
        .collect();
    let mut delivered: Vec<String> = progress
        .checkpoint()
        .and_then(|c| c.get("delivered"))
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    progress.set_total(params.recipients.len() as u64);
    let mut deferred = None;
    let mut rejected = 0u64;
    for to in &params.recipients {
        if delivered.contains(to) {
            continue;
        }
        if suppressed.contains(to) {
            rejected += 1;
            progress.record(ItemOutcome::Failed, 1);
            progress.log(Level::Warn, format!("{to} skipped: refused before"));
            continue;
        }
        match smtp.send(&from, to, &message).await {
            mail::Delivery::Sent => {
                delivered.push(to.clone());
                progress.record(ItemOutcome::Created, 1);
                progress.set_checkpoint(json!({ "delivered": delivered }));
            }
            mail::Delivery::Rejected(reason) => {
                rejected += 1;
                progress.record(ItemOutcome::Failed, 1);
                progress.log(Level::Warn, format!("{to} refused for good: {reason}"));
                suppress(ctx, to, &reason, progress.run_id()).await?;
            }
            mail::Delivery::Invalid(reason) => {
                rejected += 1;
                progress.record(ItemOutcome::Failed, 1);
                progress.log(Level::Warn, format!("{to} refused: {reason}"));
            }
            mail::Delivery::Config(reason) => {
                // Nobody is to blame but the settings: stop, suppress no one.
                progress.log(Level::Error, format!("not sent to {to}: {reason}"));
                return Err(JobError::permanent(
                    ErrorCategory::SmtpConfig,
                    format!("{reason}; check MAGFLOW_SMTP_URL and MAGFLOW_SMTP_FROM"),
                ));
            }
            mail::Delivery::Deferred(reason) => {
                progress.log(Level::Warn, format!("{to} not delivered yet: {reason}"));
                deferred.get_or_insert(reason);
            }
        }
        progress.flush().await?;
    }
    if let Some(reason) = deferred {
        return Err(JobError::transient(format!(
            "the mail server did not take every message ({reason}); the rest are tried again"
        )));
    }
    if delivered.is_empty() && rejected > 0 {
        return Err(JobError::permanent(
            ErrorCategory::EmailRejected,
            "every recipient was refused by the mail server",
        ));
    }
    Ok(())
}

/// The message about the run, and how to send it: the mail server and the sender.
async fn compose(
    ctx: &JobContext,
    params: &NotificationParams,
) -> Result<(mail::Smtp, lettre::message::Mailbox, templates::Rendered), JobError> {
    let Some(url) = &ctx.config.smtp_url else {
        return Err(JobError::permanent(
            ErrorCategory::NotConfigured,
            "MAGFLOW_SMTP_URL is not set: notifications cannot be sent",
        ));
    };
    let smtp = mail::Smtp::from_url(url)
        .map_err(|e| JobError::permanent(ErrorCategory::NotConfigured, e.to_string()))?;
    let from = ctx.config.smtp_from.parse().map_err(|_| {
        JobError::permanent(
            ErrorCategory::NotConfigured,
            "MAGFLOW_SMTP_FROM is not an address",
        )
    })?;
    let Some(run) = runs::find(&ctx.db, params.run_id).await? else {
        return Err(JobError::permanent(
            ErrorCategory::InvalidInput,
            format!("run {} does not exist", params.run_id),
        ));
    };
    let link = format!("{}/api/v1/runs/{}", ctx.config.public_url(), run.id);
    let reason = match (params.subscription_id, run.schedule_id) {
        (Some(id), _) => Reason::Subscription(id),
        (None, Some(id)) => match schedule::Entity::find_by_id(id).one(&ctx.db).await? {
            Some(s) => Reason::Schedule(s.name),
            None => Reason::Request,
        },
        (None, None) => Reason::Request,
    };
    // A scheduled export's notify list gets its file: what it was scheduled for.
    let file = match (&reason, run.kind, run.status) {
        (
            Reason::Schedule(_),
            JobKind::Export | JobKind::Report,
            entity::job_run::RunStatus::Succeeded,
        ) => export_file(ctx, &run).await?,
        _ => None,
    };
    let message = templates::run_ended(&run, params.locale, &link, &reason, file)
        .map_err(|e| JobError::permanent(ErrorCategory::Permanent, format!("template: {e}")))?;
    Ok((smtp, from, message))
}

async fn suppress(
    ctx: &JobContext,
    address: &str,
    reason: &str,
    run_id: Uuid,
) -> Result<(), JobError> {
    email_suppression::Entity::insert(email_suppression::ActiveModel {
        address: Set(address.to_owned()),
        reason: Set(reason.to_owned()),
        run_id: Set(Some(run_id)),
        at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(email_suppression::Column::Address)
            .update_columns([
                email_suppression::Column::Reason,
                email_suppression::Column::At,
            ])
            .to_owned(),
    )
    .exec_without_returning(&ctx.db)
    .await?;
    Ok(())
}

/// An export's file to attach, or to link when it is over
/// `MAGFLOW_MAIL_ATTACHMENT_MAX_BYTES`; none once retention has deleted it.
async fn export_file(
    ctx: &JobContext,
    run: &entity::job_run::Model,
) -> Result<Option<templates::FileNote>, JobError> {
    let offered = crate::export::files::offered(&ctx.config, run)
        .map_err(|e| JobError::permanent(ErrorCategory::InvalidInput, e.to_string()))?;
    let read_error = |e: std::io::Error| JobError::transient(format!("the export's file: {e}"));
    let bytes = match tokio::fs::metadata(&offered.path).await {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_error(e)),
    };
    if bytes > ctx.config.mail_attachment_max_bytes {
        return Ok(Some(templates::FileNote::Linked {
            name: offered.name,
            bytes,
            link: format!("{}/api/v1/exports/{}/file", ctx.config.public_url(), run.id),
        }));
    }
    let content = tokio::fs::read(&offered.path).await.map_err(read_error)?;
    Ok(Some(templates::FileNote::Attached(templates::Attachment {
        name: offered.name,
        content_type: offered.content_type,
        bytes: content,
    })))
}
