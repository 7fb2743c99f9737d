//! API keys: `mf_<prefix>_<secret>`. The prefix finds the row; only a SHA-256 of the whole
//! key is stored, so a database dump does not hand out working keys. Keys are 190 bits of
//! randomness, so a fast hash is enough (no password-stretching needed).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::api_key;
use ipnet::IpNet;
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub use entity::api_key::Role;

/// A caller that presented a valid key.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub role: Role,
    /// The key stops working then.
    pub expires_at: Option<DateTime<Utc>>,
    /// Client networks the key is accepted from; empty = anywhere.
    pub allowed: Vec<IpNet>,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("key:{}", self.name)
    }

    /// Whether the key may be used now from `client` (checked on every request, cached
    /// or not).
    pub fn admits(&self, client: Option<IpAddr>, now: DateTime<Utc>) -> bool {
        if self.expires_at.is_some_and(|t| t <= now) {
            return false;
        }
        self.allowed.is_empty()
            || client.is_some_and(|ip| {
                let ip = ip.to_canonical();
                self.allowed.iter().any(|net| net.contains(&ip))
            })
    }
}

/// A key to create.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed: Vec<IpNet>,
}

/// Parses `["10.0.0.0/8", "192.168.1.7"]` (a bare address is a /32 or /128); the error
/// names the entry.
pub fn parse_cidrs(raw: &[String]) -> Result<Vec<IpNet>, (usize, String)> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| (i, format!("{s:?} is not an IP network (e.g. 10.0.0.0/8)")))
        })
        .collect()
}

/// The key's client networks; `None` when the stored value does not parse (changed in
/// the database by hand): such a key is refused everywhere, never accepted from anywhere.
fn cidrs_of(row: &api_key::Model) -> Option<Vec<IpNet>> {
    match &row.allowed_cidrs {
        None => Some(Vec::new()),
        Some(v) => serde_json::from_value::<Vec<IpNet>>(v.clone()).ok(),
    }
}

/// `n` random letters and digits (also a console session's id and CSRF token).
pub(crate) fn random(n: usize) -> String {
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
    create_with(
        db,
        &NewKey {
            name: name.to_owned(),
            role,
            expires_at: None,
            allowed: Vec::new(),
        },
    )
    .await
}

/// [`create`] with an expiry and client networks.
pub async fn create_with<C: ConnectionTrait>(
    db: &C,
    new: &NewKey,
) -> Result<(String, api_key::Model), DbErr> {
    let prefix = random(8);
    let key = format!("mf_{prefix}_{}", random(32));
    let model = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.clone()),
        role: Set(new.role),
        prefix: Set(prefix),
        hash: Set(hash(&key)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        expires_at: Set(new.expires_at),
        allowed_cidrs: Set((!new.allowed.is_empty()).then(|| json!(new.allowed))),
    }
    .insert(db)
    .await?;
    Ok((key, model))
}

/// Every key, newest first (hashes included: callers show only what is safe).
pub async fn list(db: &DatabaseConnection) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<api_key::Model>, DbErr> {
    api_key::Entity::find_by_id(id).one(db).await
}

/// Whether `row` works now (not revoked, not expired).
pub fn is_active(row: &api_key::Model, now: DateTime<Utc>) -> bool {
    row.revoked_at.is_none() && row.expires_at.is_none_or(|t| t > now)
}

/// Why a key was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("this is the last working admin key; create another first")]
    LastAdmin,
    #[error("the key is already revoked")]
    AlreadyRevoked,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Locks the working admin keys for the rest of `txn` (PostgreSQL: `FOR UPDATE`; SQLite:
/// the IMMEDIATE transaction already holds the write lock) and returns their ids, so two
/// revocations cannot each believe the other key remains.
async fn lock_working_admins(txn: &DatabaseTransaction) -> Result<Vec<Uuid>, DbErr> {
    let now = Utc::now();
    let mut query = api_key::Entity::find()
        .filter(api_key::Column::Role.eq(Role::Admin.as_str()))
        .filter(api_key::Column::RevokedAt.is_null());
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query
        .all(txn)
        .await?
        .iter()
        .filter(|k| is_active(k, now))
        .map(|k| k.id)
        .collect())
}

/// Revokes key `id` now, unless it is the last working admin key; the check and the
/// revocation are one transaction holding the admin keys' rows.
pub async fn revoke(db: &DatabaseConnection, id: Uuid) -> Result<(), RevokeError> {
    let txn = crate::db::begin_write(db).await?;
    let admins = lock_working_admins(&txn).await?;
    if admins.contains(&id) && admins.len() == 1 {
        return Err(RevokeError::LastAdmin);
    }
    let r = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(RevokeError::AlreadyRevoked);
    }
    txn.commit().await?;
    Ok(())
}

/// Replaces key `old` with a new one of the same name, role, expiry and networks; the
/// old key keeps working for `grace`, then expires. Returns the new key in plain text.
/// Holds the admin keys' rows like [`revoke`], so the two cannot interleave.
pub async fn rotate(
    db: &DatabaseConnection,
    old: &api_key::Model,
    grace: Duration,
) -> Result<(String, api_key::Model), DbErr> {
    let txn = crate::db::begin_write(db).await?;
    lock_working_admins(&txn).await?;
    let new = NewKey {
        name: old.name.clone(),
        role: old.role,
        expires_at: old.expires_at,
        allowed: cidrs_of(old).unwrap_or_default(),
    };
    let until = Utc::now() + grace;
    let ends = old.expires_at.map_or(until, |t| t.min(until));
    api_key::Entity::update_many()
        .col_expr(api_key::Column::ExpiresAt, Expr::value(ends))
        .filter(api_key::Column::Id.eq(old.id))
        .exec(&txn)
        .await?;
    let (key, mut created) = create_with(&txn, &new).await?;
    if cidrs_of(old).is_none() {
        // Networks that do not parse refuse the key; the new key inherits that as it is.
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::AllowedCidrs,
                Expr::value(old.allowed_cidrs.clone()),
            )
            .filter(api_key::Column::Id.eq(created.id))
            .exec(&txn)
            .await?;
        created.allowed_cidrs = old.allowed_cidrs.clone();
    }
    txn.commit().await?;
    Ok((key, created))
}

/// Every key ever created, revoked and expired ones included.
pub async fn count_all(db: &DatabaseConnection) -> Result<u64, DbErr> {
    api_key::Entity::find().count(db).await
}

/// Keys that work now: neither revoked nor expired.
pub async fn count_working(db: &DatabaseConnection) -> Result<u64, DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(api_key::Column::ExpiresAt.is_null())
                .add(api_key::Column::ExpiresAt.gt(Utc::now())),
        )
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
    // Constant time: how much of the hash matched must not show in the answer's timing.
    let matches: bool = row.hash.as_bytes().ct_eq(hash(key).as_bytes()).into();
    if !matches || !is_active(&row, Utc::now()) {
        return Ok(None);
    }
    let Some(allowed) = cidrs_of(&row) else {
        tracing::warn!(key = %row.name, "the key's allowed_cidrs do not parse; the key is refused");
        return Ok(None);
    };
    let role = row.role;
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
        allowed,
        name: row.name,
        role,
        expires_at: row.expires_at,
    }))
}
