//! API keys: `mf_<prefix>_<secret>`. The prefix finds the row; only a SHA-256 of the whole
//! key is stored, so a database dump does not hand out working keys. Keys are 190 bits of
//! randomness, so a fast hash is enough (no password-stretching needed).

use chrono::{Duration, Utc};
use entity::api_key;
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May read, stream and change everything.
    Admin,
    /// May read and stream.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A caller that presented a valid key.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("key:{}", self.name)
    }
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// SHA-256 of a key, hex: what is stored, and what caches are keyed on.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key and returns it in plain text: the only time it is ever visible.
pub async fn create(
    db: &DatabaseConnection,
    role: Role,
    name: &str,
) -> Result<(String, api_key::Model), DbErr> {
    let prefix = random(8);
    let key = format!("mf_{prefix}_{}", random(32));
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        prefix: Set(prefix),
        hash: Set(hash(&key)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((key, model))
}

/// Keys that have not been revoked.
pub async fn count_active(db: &DatabaseConnection) -> Result<u64, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await
}

/// The caller behind `key`, or `None` for an unknown, malformed or revoked key.
pub async fn authenticate(db: &DatabaseConnection, key: &str) -> Result<Option<Principal>, DbErr> {
    let Some(prefix) = key
        .strip_prefix("mf_")
        .and_then(|rest| rest.split('_').next())
    else {
        return Ok(None);
    };
    let Some(row) = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.hash != hash(key) {
        return Ok(None);
    }
    let Some(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    // Recording every use would add a write to every read; once a minute is plenty.
    let now = Utc::now();
    if row
        .last_used_at
        .is_none_or(|t| now - t > Duration::seconds(60))
    {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Principal {
        key_id: row.id,
        name: row.name,
        role,
    }))
}
