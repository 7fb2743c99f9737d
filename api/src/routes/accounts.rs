//! `/api/v1/accounts`: the eMAG logins magflow syncs. Admins create, change and delete
//! them; viewers see everything but the password, which no response ever contains.

use chrono::{DateTime, Utc};
use entity::emag_account;
use jobs::accounts::{self, AccountChange, AccountError, NewAccount};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    auth::ApiKey,
    body::Body,
    enums::{AccountKind, CheckResult, Platform},
    error::ApiError,
    routes::ApiTags,
    state::AppState,
};

pub struct AccountsApi {
    pub state: AppState,
}

/// An account as the API shows it: never with its password.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountView {
    pub name: String,
    pub kind: AccountKind,
    /// Absent when a base URL was given.
    pub platform: Option<Platform>,
    pub base_url: String,
    pub username: String,
    /// The stored password cannot be used (sealed for another account, URL or username,
    /// e.g. after a change made directly in the database): runs of this account fail
    /// with `credentials` until an admin sets the password again.
    pub needs_password: bool,
    /// eMAG's callbacks are on: a secret exists (`POST …/callback-secret` makes one).
    pub callbacks: bool,
    /// When the current callback secret was made.
    pub callback_secret_set_at: Option<DateTime<Utc>>,
    /// New seller-fulfilled orders eMAG calls back about are acknowledged (1 → 2).
    pub auto_acknowledge: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AccountView {
    fn new(a: &emag_account::Model, sealer: Option<&jobs::secrets::Sealer>) -> Self {
        AccountView {
            needs_password: accounts::needs_password(sealer, a),
            name: a.name.clone(),
            kind: a.kind.into(),
            platform: a.platform.map(Into::into),
            base_url: a.base_url.clone(),
            username: a.username.clone(),
            callbacks: a.callback_secret_hash.is_some(),
            callback_secret_set_at: a.callback_secret_set_at,
            auto_acknowledge: a.auto_acknowledge,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Object, Debug, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// 1–64 lower-case letters, digits, `-`, `_`; what runs call the account.
    pub name: String,
    pub kind: AccountKind,
    /// eMAG's API host for that country. Give this or `base_url`.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub platform: Option<Platform>,
    /// An https URL (http only for loopback, e.g. the simulator).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub base_url: Option<String>,
    pub username: String,
    /// Stored sealed; never returned.
    #[oai(write_only)]
    pub password: String,
    /// Acknowledge new orders eMAG calls back about; default false.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub auto_acknowledge: Option<bool>,
}

#[derive(Object, Debug, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub kind: Option<AccountKind>,
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub platform: Option<Platform>,
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub base_url: Option<String>,
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub username: Option<String>,
    #[oai(write_only)]
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub auto_acknowledge: Option<bool>,
}

#[derive(Object, Debug)]
pub struct CheckView {
    pub status: CheckResult,
    pub message: String,
    pub latency_ms: u64,
}

#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<AccountView>),
}

/// A new callback secret, shown this once.
#[derive(Object, Debug)]
pub struct CallbackSecretView {
    pub account: AccountView,
    /// Not stored: only its SHA-256 is. Make a new one if it is lost.
    pub secret: String,
    /// Paste into eMAG's seller settings as the URL for new orders and for cancelled
    /// orders (eMAG appends `?order_id=…`).
    pub order_url: String,
}

#[derive(ApiResponse)]
pub enum SecretCreated {
    #[oai(status = 201)]
    Created(Json<CallbackSecretView>),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid { field, message } => ApiError::invalid(field, message),
            AccountError::Duplicate(_) => ApiError::conflict(e.to_string()),
            AccountError::NotFound(_) => ApiError::not_found("account"),
            AccountError::NoKey | AccountError::Sealed(_) => ApiError::unavailable(e.to_string()),
            AccountError::NeedsPassword(_) => ApiError::conflict(e.to_string()),
            AccountError::Db(db) => db.into(),
            other => ApiError::internal(&other),
        }
    }
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// List eMAG accounts
    #[oai(
        path = "/api/v1/accounts",
        method = "get",
        operation_id = "list_accounts"
    )]
    async fn list(&self, _auth: ApiKey) -> Result<Json<Vec<AccountView>>, ApiError> {
        let ctx = &self.state.ctx;
        let accounts = accounts::list(&ctx.db).await?;
        let sealer = ctx.sealer.as_ref();
        Ok(Json(
            accounts
                .iter()
                .map(|a| AccountView::new(a, sealer))
                .collect(),
        ))
    }

    /// Add an eMAG account
    #[oai(
        path = "/api/v1/accounts",
        method = "post",
        operation_id = "create_account"
    )]
    async fn create(
        &self,
        auth: ApiKey,
        body: Body<CreateAccountRequest>,
    ) -> Result<Created, ApiError> {
        let principal = auth.admin()?;
        let Body(req) = body;
        let ctx = &self.state.ctx;
        let new = NewAccount {
            name: req.name,
            kind: req.kind.into(),
            platform: req.platform.map(Into::into),
            base_url: req.base_url,
            username: req.username,
            password: req.password,
            auto_acknowledge: req.auto_acknowledge.unwrap_or(false),
        };
        let account = jobs::actions::accounts::create(ctx, new, &principal.actor()).await?;
        Ok(Created::Created(Json(AccountView::new(
            &account,
            ctx.sealer.as_ref(),
        ))))
    }

    /// Get an eMAG account
    #[oai(
        path = "/api/v1/accounts/:name",
        method = "get",
        operation_id = "get_account"
    )]
    async fn get(&self, _auth: ApiKey, name: Path<String>) -> Result<Json<AccountView>, ApiError> {
        let ctx = &self.state.ctx;
        match accounts::find(&ctx.db, &name).await? {
            Some(a) => Ok(Json(AccountView::new(&a, ctx.sealer.as_ref()))),
            None => Err(ApiError::not_found("account")),
        }
    }

    /// Change an eMAG account
    ///
    /// Only the fields given change; a new password replaces the sealed one.
    #[oai(
        path = "/api/v1/accounts/:name",
        method = "put",
        operation_id = "update_account"
    )]
    async fn update(
        &self,
        auth: ApiKey,
        name: Path<String>,
        body: Body<UpdateAccountRequest>,
    ) -> Result<Json<AccountView>, ApiError> {
        let principal = auth.admin()?;
        let Body(req) = body;
        let ctx = &self.state.ctx;
        let change = AccountChange {
            kind: req.kind.map(Into::into),
            platform: req.platform.map(Into::into),
            base_url: req.base_url,
            username: req.username,
            password: req.password,
            auto_acknowledge: req.auto_acknowledge,
        };
        let account =
            jobs::actions::accounts::update(ctx, &name, change, &principal.actor()).await?;
        Ok(Json(AccountView::new(&account, ctx.sealer.as_ref())))
    }

    /// Remove an eMAG account
    #[oai(
        path = "/api/v1/accounts/:name",
        method = "delete",
        operation_id = "delete_account"
    )]
    async fn delete(&self, auth: ApiKey, name: Path<String>) -> Result<Deleted, ApiError> {
        let principal = auth.admin()?;
        let ctx = &self.state.ctx;
        if !jobs::actions::accounts::delete(ctx, &name, &principal.actor()).await? {
            return Err(ApiError::not_found("account"));
        }
        Ok(Deleted::Deleted)
    }

    /// Check an account's credentials against eMAG
    ///
    /// Makes one cheap authenticated call (under the account's rate budget) and reports
    /// `ok`, `bad_credentials`, `ip_not_whitelisted`, `unreachable` or `error`.
    #[oai(
        path = "/api/v1/accounts/:name/check",
        method = "post",
        operation_id = "check_account"
    )]
    async fn check(&self, auth: ApiKey, name: Path<String>) -> Result<Json<CheckView>, ApiError> {
        auth.admin()?;
        let ctx = &self.state.ctx;
        let account = accounts::find(&ctx.db, &name)
            .await?
            .ok_or_else(|| ApiError::not_found("account"))?;
        let outcome = jobs::actions::accounts::check(ctx, &account).await?;
        Ok(Json(CheckView {
            status: outcome.status.into(),
            message: outcome.message,
            latency_ms: outcome.latency_ms,
        }))
    }

    /// Make (or replace) the account's callback secret
    ///
    /// Returns the secret and the URL to give eMAG, this once; the previous secret stops
    /// working at once. Polling stays on either way.
    #[oai(
        path = "/api/v1/accounts/:name/callback-secret",
        method = "post",
        operation_id = "rotate_callback_secret"
    )]
    async fn rotate_callback_secret(
        &self,
        auth: ApiKey,
        name: Path<String>,
    ) -> Result<SecretCreated, ApiError> {
        let principal = auth.admin()?;
        let ctx = &self.state.ctx;
        let (account, secret) =
            jobs::actions::accounts::rotate_callback_secret(ctx, &name, &principal.actor()).await?;
        let order_url = accounts::order_hook_url(&ctx.config.public_url(), &account.name, &secret);
        Ok(SecretCreated::Created(Json(CallbackSecretView {
            account: AccountView::new(&account, ctx.sealer.as_ref()),
            secret,
            order_url,
        })))
    }

    /// Turn the account's callbacks off
    #[oai(
        path = "/api/v1/accounts/:name/callback-secret",
        method = "delete",
        operation_id = "disable_callbacks"
    )]
    async fn disable_callbacks(
        &self,
        auth: ApiKey,
        name: Path<String>,
    ) -> Result<Deleted, ApiError> {
        let principal = auth.admin()?;
        let ctx = &self.state.ctx;
        jobs::actions::accounts::disable_callbacks(ctx, &name, &principal.actor()).await?;
        Ok(Deleted::Deleted)
    }
}
