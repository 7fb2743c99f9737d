//! The second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of
//! clock drift either way), which any authenticator app reads from the enrolment's QR
//! code, and ten one-time recovery codes. The secret is sealed with the key that seals
//! eMAG passwords (`MAGFLOW_SECRET_KEY`), bound to its user; recovery codes are stored
//! as SHA-256 hashes only. Each TOTP code is accepted once.

use chrono::Utc;
use entity::user;
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use totp_rs::{Algorithm, Builder, Totp};

use crate::secrets::Sealer;

/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// The issuer authenticator apps show beside the user's name.
const ISSUER: &str = "magflow";

#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    /// No sealing key is configured, so a secret cannot be kept.
    #[error("a second factor needs MAGFLOW_SECRET_KEY to keep its secret")]
    NoKey,
    /// Enrolment was not started, or is already complete.
    #[error("no enrolment is in progress")]
    NotEnrolling,
    /// The stored secret cannot be opened (the sealing key changed).
    #[error("the stored second-factor secret cannot be opened with this MAGFLOW_SECRET_KEY")]
    Unreadable,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn context(user: &user::Model) -> Vec<u8> {
    format!("totp:{}", user.id).into_bytes()
}

fn totp(secret: Vec<u8>, user_name: &str) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(user_name.replace(':', "_"))
        .build_noncompliant()
}

fn secret_of(sealer: &Sealer, user: &user::Model) -> Result<Vec<u8>, TwoFactorError> {
    let sealed = user
        .totp_secret
        .as_deref()
        .ok_or(TwoFactorError::NotEnrolling)?;
    let b32 = sealer
        .open(sealed, &context(user))
        .map_err(|_| TwoFactorError::Unreadable)?;
    totp_rs::Secret::try_from_base32(&b32)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| TwoFactorError::Unreadable)
}

/// What an authenticator app is given at enrolment.
pub struct Enrolment {
    /// `otpauth://totp/magflow:NAME?secret=…&issuer=magflow` (the QR code's content).
    pub url: String,
    /// The secret in base32, for typing it in by hand.
    pub secret: String,
}

// By hand: the secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment { .. }")
    }
}

/// Starts (or shows again) the enrolment of `user`: a new secret is stored, sealed and
/// not yet in use, unless one is already waiting for its first code.
pub async fn enrolment<C: ConnectionTrait>(
    db: &C,
    sealer: Option<&Sealer>,
    user: &user::Model,
) -> Result<Enrolment, TwoFactorError> {
    let sealer = sealer.ok_or(TwoFactorError::NoKey)?;
    let secret = match secret_of(sealer, user) {
        Ok(secret) if user.totp_enabled_at.is_none() => secret,
        _ => {
            let secret: Vec<u8> = (0..20).map(|_| rand::rng().random::<u8>()).collect();
            let b32 = totp_rs::Secret::from(secret.clone()).to_base32();
            user::Entity::update(user::ActiveModel {
                id: Set(user.id),
                totp_secret: Set(Some(sealer.seal(&b32, &context(user)))),
                totp_enabled_at: Set(None),
                ..Default::default()
            })
            .exec(db)
            .await?;
            secret
        }
    };
    let t = totp(secret, &user.name);
    Ok(Enrolment {
        url: t.to_url().unwrap_or_default(),
        secret: t.secret().to_base32(),
    })
}

/// The TOTP step `code` matches now, if it does.
fn matching_step(secret: Vec<u8>, user: &user::Model, code: &str) -> Option<i64> {
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    totp(secret, &user.name)
        .check(&code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// Takes step `step` as used, unless it (or a later one) already was: the conditional
/// update makes two concurrent uses of one code count once.
async fn use_step<C: ConnectionTrait>(
    db: &C,
    user: &user::Model,
    step: i64,
) -> Result<bool, DbErr> {
    let done = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(user.id))
        .filter(
            user::Column::TotpLastStep
                .is_null()
                .or(user::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Completes enrolment with the first code from the app: the factor is in use from now
/// on; the recovery codes (shown once) are returned.
pub async fn confirm<C: ConnectionTrait>(
    db: &C,
    sealer: Option<&Sealer>,
    user: &user::Model,
    code: &str,
) -> Result<Option<Vec<String>>, TwoFactorError> {
    let sealer = sealer.ok_or(TwoFactorError::NoKey)?;
    if user.totp_enabled_at.is_some() {
        return Err(TwoFactorError::NotEnrolling);
    }
    let secret = secret_of(sealer, user)?;
    let Some(step) = matching_step(secret, user, code) else {
        return Ok(None);
    };
    if !use_step(db, user, step).await? {
        return Ok(None);
    }
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| hash_code(c)).collect();
    user::Entity::update(user::ActiveModel {
        id: Set(user.id),
        totp_enabled_at: Set(Some(Utc::now())),
        recovery_codes: Set(Some(serde_json::json!(hashes))),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Some(codes))
}

/// Whether `code` is the user's current TOTP code (not used before) or one of their
/// unused recovery codes, which is then used up.
pub async fn verify<C: ConnectionTrait>(
    db: &C,
    sealer: Option<&Sealer>,
    user: &user::Model,
    code: &str,
) -> Result<bool, TwoFactorError> {
    let code = code.trim();
    if code.contains('-') {
        return use_recovery_code(db, user, code).await.map_err(Into::into);
    }
    let sealer = sealer.ok_or(TwoFactorError::NoKey)?;
    let secret = secret_of(sealer, user)?;
    match matching_step(secret, user, code) {
        Some(step) => Ok(use_step(db, user, step).await?),
        None => Ok(false),
    }
}

async fn use_recovery_code<C: ConnectionTrait>(
    db: &C,
    user: &user::Model,
    code: &str,
) -> Result<bool, DbErr> {
    let stored: Vec<String> = user
        .recovery_codes
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let hash = hash_code(code);
    if !stored.contains(&hash) {
        return Ok(false);
    }
    let left: Vec<&String> = stored.iter().filter(|h| **h != hash).collect();
    // Conditional on the list read: two uses of one code at once count once. PostgreSQL's
    // `json` has no equality and keeps what it was sent (jsonb text, with spaces), so it
    // compares as jsonb there; SQLite keeps the text written.
    let read = serde_json::json!(stored);
    let same = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Expr::col(user::Column::RecoveryCodes)
            .cast_as(sea_orm::sea_query::Alias::new("jsonb"))
            .eq(Expr::val(read.to_string()).cast_as(sea_orm::sea_query::Alias::new("jsonb"))),
        _ => Expr::col(user::Column::RecoveryCodes).eq(read.to_string()),
    };
    let done = user::Entity::update_many()
        .col_expr(
            user::Column::RecoveryCodes,
            Expr::value(serde_json::json!(left)),
        )
        .filter(user::Column::Id.eq(user.id))
        .filter(same)
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// How many recovery codes `user` has left.
pub fn recovery_codes_left(user: &user::Model) -> usize {
    user.recovery_codes
        .as_ref()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
}

/// `abcde-fghij`: 50 bits, letters and digits without look-alikes.
fn recovery_code() -> String {
    let code = super::password::generate();
    format!("{}-{}", &code[..5], &code[5..10]).to_ascii_lowercase()
}

fn hash_code(code: &str) -> String {
    crate::api_keys::hash(&code.trim().to_ascii_lowercase())
}

/// The code for a base32 secret at `unix` seconds (tests play the authenticator app).
pub fn code_at(secret_base32: &str, unix: u64) -> Option<String> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    Some(
        totp(secret.as_bytes().to_vec(), "x")
            .generate(unix)
            .to_string(),
    )
}
