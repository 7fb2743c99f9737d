//! The secret in the URLs eMAG calls when an order is created or cancelled. eMAG sends
//! no credentials of its own, so the URL is the credential: 32 random characters (about
//! 190 bits), shown once, kept only as its SHA-256 and compared in constant time.

use chrono::Utc;
use entity::emag_account;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use subtle::ConstantTimeEq;

use super::{AccountError, find};
use crate::api_keys;

const SECRET_LEN: usize = 32;

/// Gives the account a new callback secret, returned in plain text this once; the old
/// one stops working at once.
pub async fn rotate_callback_secret(
    db: &DatabaseConnection,
    name: &str,
) -> Result<(emag_account::Model, String), AccountError> {
    let secret = api_keys::random(SECRET_LEN);
    let account = set(db, name, Some(api_keys::hash(&secret))).await?;
    Ok((account, secret))
}

/// Turns callbacks off: every call is refused until a new secret is made.
pub async fn disable_callbacks(
    db: &DatabaseConnection,
    name: &str,
) -> Result<emag_account::Model, AccountError> {
    set(db, name, None).await
}

async fn set(
    db: &DatabaseConnection,
    name: &str,
    hash: Option<String>,
) -> Result<emag_account::Model, AccountError> {
    let current = find(db, name)
        .await?
        .ok_or_else(|| AccountError::NotFound(name.to_owned()))?;
    let now = Utc::now();
    let mut model: emag_account::ActiveModel = current.into();
    model.callback_secret_set_at = Set(hash.as_ref().map(|_| now));
    model.callback_secret_hash = Set(hash);
    model.updated_at = Set(now);
    Ok(model.update(db).await?)
}

/// Whether `secret` is the account's callback secret. The same work is done whether the
/// account exists, has callbacks on, or neither, so timing tells a caller nothing.
pub fn verify_callback(account: Option<&emag_account::Model>, secret: &str) -> bool {
    let given = api_keys::hash(secret);
    let stored = account.and_then(|a| a.callback_secret_hash.as_deref());
    let expected = stored.unwrap_or("-");
    let same: bool = given.as_bytes().ct_eq(expected.as_bytes()).into();
    same && stored.is_some()
}

/// The URL to give eMAG for new and cancelled orders (eMAG adds `?order_id=`).
pub fn order_hook_url(public_url: &str, account: &str, secret: &str) -> String {
    format!(
        "{}/hooks/emag/{account}/{secret}/order",
        public_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(hash: Option<String>) -> emag_account::Model {
        let now = Utc::now();
        emag_account::Model {
            id: uuid::Uuid::nil(),
            name: "main".into(),
            kind: emag_account::AccountKind::Main,
            platform: None,
            base_url: "https://x".into(),
            username: "u".into(),
            password_sealed: String::new(),
            degraded_until: None,
            degraded_reason: None,
            unreachable_since: None,
            callback_secret_hash: hash,
            callback_secret_set_at: None,
            auto_acknowledge: false,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn only_the_stored_secret_opens() {
        let on = account(Some(api_keys::hash("s3cret")));
        assert!(verify_callback(Some(&on), "s3cret"));
        assert!(!verify_callback(Some(&on), "s3cres"));
        assert!(!verify_callback(Some(&on), ""));
        assert!(!verify_callback(Some(&account(None)), "-"));
        assert!(!verify_callback(None, "s3cret"));
    }
}
