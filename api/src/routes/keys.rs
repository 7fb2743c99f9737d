//! `/api/v1/keys`: API keys (admin only): list with last use, create with an optional
//! expiry and client networks, revoke, rotate with a grace period.

use chrono::{DateTime, Duration, Utc};
use entity::api_key;
use jobs::{
    actions::admin,
    api_keys::{self, NewKey, Role},
};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::{auth::ApiKey, body::Body, enums, error::ApiError, routes::ApiTags, state::AppState};

/// A rotated key works this long by default (one day), at most 30 days.
const DEFAULT_GRACE_S: i64 = 86_400;
const MAX_GRACE_S: i64 = 30 * 86_400;

pub struct KeysApi {
    pub state: AppState,
}

#[derive(Object, Debug, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// Who or what uses it (shown in the audit log as `key:NAME`).
    pub name: String,
    pub role: enums::Role,
    /// When the key stops working (RFC 3339); none = never.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Client networks the key is accepted from (`10.0.0.0/8`, `192.168.1.7`); none =
    /// anywhere.
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub allowed_cidrs: Option<Vec<String>>,
}

#[derive(Object, Debug, Default, serde::Deserialize)]
#[oai(skip_serializing_if_is_none)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old key keeps working, in seconds (default 86,400; at most 30 days).
    #[serde(default, deserialize_with = "crate::body::not_null")]
    pub grace_seconds: Option<i64>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    pub role: enums::Role,
    /// `mf_<prefix>_…`: enough to recognise a key, not to use it.
    pub prefix: String,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub allowed_cidrs: Option<serde_json::Value>,
}

impl From<&api_key::Model> for KeyView {
    fn from(k: &api_key::Model) -> Self {
        let state = if k.revoked_at.is_some() {
            "revoked"
        } else if api_keys::is_active(k, Utc::now()) {
            "active"
        } else {
            "expired"
        };
        KeyView {
            id: k.id,
            name: k.name.clone(),
            role: k.role.into(),
            prefix: k.prefix.clone(),
            state: state.to_owned(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            allowed_cidrs: k.allowed_cidrs.clone(),
        }
    }
}

#[derive(Object, Debug)]
pub struct NewKeyView {
    /// The key itself: shown this once, never again.
    pub key: String,
    #[oai(flatten)]
    pub info: KeyView,
}

#[derive(Object, Debug)]
pub struct KeyList {
    pub items: Vec<KeyView>,
}

#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<NewKeyView>),
}

#[OpenApi(tag = "ApiTags::Keys")]
impl KeysApi {
    /// List API keys
    #[oai(path = "/api/v1/keys", method = "get", operation_id = "list_keys")]
    async fn list(&self, auth: ApiKey) -> Result<Json<KeyList>, ApiError> {
        auth.admin()?;
        let keys = api_keys::list(&self.state.ctx.db).await?;
        Ok(Json(KeyList {
            items: keys.iter().map(KeyView::from).collect(),
        }))
    }

    /// Create an API key
    ///
    /// The answer holds the key; it is never shown again.
    #[oai(path = "/api/v1/keys", method = "post", operation_id = "create_key")]
    async fn create(
        &self,
        auth: ApiKey,
        body: Body<CreateKeyRequest>,
    ) -> Result<Created, ApiError> {
        let principal = auth.admin()?;
        let req = body.0;
        let name = req.name.trim();
        if name.is_empty() || name.len() > 64 {
            return Err(ApiError::invalid("name", "1 to 64 characters"));
        }
        let role = Role::from(req.role);
        if req.expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(ApiError::invalid("expires_at", "must be in the future"));
        }
        let allowed = api_keys::parse_cidrs(req.allowed_cidrs.as_deref().unwrap_or_default())
            .map_err(|(i, m)| ApiError::invalid(format!("allowed_cidrs[{i}]"), m))?;
        let new = NewKey {
            name: name.to_owned(),
            role,
            expires_at: req.expires_at,
            allowed,
        };
        let (key, model) = admin::create_key(&self.state.ctx, &new, &principal.actor()).await?;
        Ok(Created::Created(Json(NewKeyView {
            key,
            info: KeyView::from(&model),
        })))
    }

    /// Revoke an API key
    ///
    /// It stops working at once in this API process, within 2 s in others. The last
    /// working admin key cannot be revoked (409).
    #[oai(
        path = "/api/v1/keys/:id/revoke",
        method = "post",
        operation_id = "revoke_key"
    )]
    async fn revoke(&self, auth: ApiKey, id: Path<String>) -> Result<Json<KeyView>, ApiError> {
        let principal = auth.admin()?;
        let key = self.load(&id).await?;
        admin::revoke_key(&self.state.ctx, key.id, &principal.actor())
            .await
            .map_err(|e| match e {
                api_keys::RevokeError::Db(db) => ApiError::from(db),
                other => ApiError::conflict(other.to_string()),
            })?;
        self.state.keys.forget_key(key.id);
        let key = self.load(&id).await?;
        Ok(Json(KeyView::from(&key)))
    }

    /// Rotate an API key
    ///
    /// A new key with the same name, role and networks; the old one keeps working for
    /// `grace_seconds`, then expires.
    #[oai(
        path = "/api/v1/keys/:id/rotate",
        method = "post",
        operation_id = "rotate_key"
    )]
    async fn rotate(
        &self,
        auth: ApiKey,
        id: Path<String>,
        body: Body<RotateRequest>,
    ) -> Result<Created, ApiError> {
        let principal = auth.admin()?;
        let grace = body.0.grace_seconds.unwrap_or(DEFAULT_GRACE_S);
        if !(0..=MAX_GRACE_S).contains(&grace) {
            return Err(ApiError::invalid(
                "grace_seconds",
                format!("must be between 0 and {MAX_GRACE_S}"),
            ));
        }
        let old = self.load(&id).await?;
        let (key, model) = admin::rotate_key(
            &self.state.ctx,
            &old,
            Duration::seconds(grace),
            &principal.actor(),
        )
        .await?;
        self.state.keys.forget_key(old.id);
        Ok(Created::Created(Json(NewKeyView {
            key,
            info: KeyView::from(&model),
        })))
    }
}

impl KeysApi {
    async fn load(&self, id: &str) -> Result<api_key::Model, ApiError> {
        let id = Uuid::parse_str(id).map_err(|_| ApiError::bad_field("id", "is not a key id"))?;
        api_keys::find(&self.state.ctx.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("API key"))
    }
}
