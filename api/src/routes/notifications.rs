//! `/api/v1/notifications`: who gets an e-mail when which runs end.

use chrono::{DateTime, Utc};
use entity::notification_subscription as subscription;
use jobs::{
    actions::{
        ActionError,
        notifications::{self, SubscribeError},
    },
    notification::{self, NewSubscription, subscriptions},
};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::ApiKey,
    body::Body,
    enums::{Locale, NotifyOn},
    error::ApiError,
    routes::ApiTags,
    state::AppState,
};

pub struct NotificationsApi {
    pub state: AppState,
}

#[derive(Object, Debug, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriptionRequest {
    /// E-mail addresses; each gets its own message.
    pub recipients: Vec<String>,
    /// Job kinds (`sync`, `bulk_update`, `export`, `ping`), or `"all"` (the default).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub kinds: Option<Value>,
    /// `success`, `failure` (failed or dead) or `both` (also cancelled); default `both`.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub on: Option<NotifyOn>,
    /// `ro` (default) or `en`.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub locale: Option<Locale>,
}

#[derive(Object, Debug)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub recipients: Value,
    /// A list of kinds, or `"all"`.
    pub kinds: Value,
    pub on: NotifyOn,
    pub locale: Locale,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<subscription::Model> for SubscriptionView {
    fn from(s: subscription::Model) -> Self {
        SubscriptionView {
            id: s.id,
            recipients: s.recipients,
            kinds: s.kinds,
            on: s.on.into(),
            locale: s.locale.into(),
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<SubscriptionView>),
}

/// An address the mail server refused for good; it is skipped until removed here.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct SuppressionView {
    pub address: String,
    /// The server's answer, e.g. `550 5.1.1 mailbox unavailable`.
    pub reason: String,
    /// The notification run that met the refusal.
    pub run_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// Subscribe to run endings
    ///
    /// When a top-level run of a matching kind ends with a matching outcome, each
    /// recipient gets an e-mail (HTML and plain text) with the run's figures and a link.
    #[oai(
        path = "/api/v1/notifications",
        method = "post",
        operation_id = "create_subscription"
    )]
    async fn create(
        &self,
        auth: ApiKey,
        body: Body<CreateSubscriptionRequest>,
    ) -> Result<Created, ApiError> {
        let principal = auth.admin()?;
        let kinds = match &body.kinds {
            None => None,
            Some(Value::String(s)) if s == "all" => None,
            Some(Value::Array(list)) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, k)| {
                        k.as_str().map(str::to_owned).ok_or_else(|| {
                            ApiError::invalid(format!("kinds[{i}]"), "must be a string")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(ApiError::invalid(
                    "kinds",
                    "must be a list of kinds or \"all\"",
                ));
            }
        };
        let new = NewSubscription {
            recipients: body.recipients.clone(),
            kinds,
            on: body.on.map_or(notification::NotifyOn::Both, Into::into),
            locale: body.locale.map_or(notification::Locale::Ro, Into::into),
        };
        let sub = notifications::subscribe(&self.state.ctx, new, &principal.actor())
            .await
            .map_err(|e| match e {
                SubscribeError::Invalid(e) => ApiError::invalid(e.field, e.message),
                SubscribeError::Db(db) => db.into(),
            })?;
        Ok(Created::Created(Json(sub.into())))
    }

    /// List subscriptions
    #[oai(
        path = "/api/v1/notifications",
        method = "get",
        operation_id = "list_subscriptions"
    )]
    async fn list(&self, _auth: ApiKey) -> Result<Json<Vec<SubscriptionView>>, ApiError> {
        let subs = subscriptions::list(&self.state.ctx.db).await?;
        Ok(Json(subs.into_iter().map(Into::into).collect()))
    }

    /// Delete a subscription
    #[oai(
        path = "/api/v1/notifications/:id",
        method = "delete",
        operation_id = "delete_subscription"
    )]
    async fn delete(&self, auth: ApiKey, id: Path<String>) -> Result<Deleted, ApiError> {
        let principal = auth.admin()?;
        let id = Uuid::parse_str(&id)
            .map_err(|_| ApiError::invalid("id", "is not a subscription id"))?;
        match notifications::unsubscribe(&self.state.ctx, id, &principal.actor()).await {
            Err(ActionError::NotFound) => Err(ApiError::not_found("subscription")),
            done => done.map_err(ApiError::from),
        }?;
        Ok(Deleted::Deleted)
    }

    /// List suppressed addresses
    ///
    /// Addresses whose mailbox the mail server refused for good (550, 551 or 553 to
    /// `RCPT TO`); notifications skip them. Admins only.
    #[oai(
        path = "/api/v1/notifications/suppressions",
        method = "get",
        operation_id = "list_suppressions"
    )]
    async fn suppressions(&self, auth: ApiKey) -> Result<Json<Vec<SuppressionView>>, ApiError> {
        auth.admin()?;
        let rows = subscriptions::suppressions(&self.state.ctx.db).await?;
        Ok(Json(
            rows.into_iter()
                .map(|s| SuppressionView {
                    address: s.address,
                    reason: s.reason,
                    run_id: s.run_id,
                    at: s.at,
                })
                .collect(),
        ))
    }

    /// Remove a suppressed address
    ///
    /// The address is tried again by the next notification. Admins only; audited.
    #[oai(
        path = "/api/v1/notifications/suppressions/:address",
        method = "delete",
        operation_id = "delete_suppression"
    )]
    async fn unsuppress(&self, auth: ApiKey, address: Path<String>) -> Result<Deleted, ApiError> {
        let principal = auth.admin()?;
        match notifications::unsuppress(&self.state.ctx, &address, &principal.actor()).await {
            Err(ActionError::NotFound) => Err(ApiError::not_found("suppressed address")),
            done => done.map_err(ApiError::from),
        }?;
        Ok(Deleted::Deleted)
    }
}
