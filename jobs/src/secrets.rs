//! Passwords at rest: sealed with XChaCha20-Poly1305 under `MAGFLOW_SECRET_KEY`
//! (64 hex characters). The random 24-byte nonce makes two seals of the same password
//! differ.
//!
//! A sealed value is `v2:` + the key's id + `:` + base64(nonce ‖ ciphertext), sealed
//! with associated data that names what the secret belongs to (for an eMAG password: the
//! account's id, base URL and username). A blob copied to another row, or a row whose
//! URL was changed behind magflow's back, no longer opens: the password cannot follow a
//! URL to another host. The key id (a hash of the key, not the key) tells a wrong key
//! apart from a blob that was moved. `v1:` + base64(…) without associated data is what
//! older versions wrote; [`Sealer::open_legacy`] reads it once, to seal it again.

use std::fmt;

use base64::Engine;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::SetupError;

/// The 32-byte sealing key. Never printed: `Debug` and `Serialize` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub fn from_hex(text: &str) -> Result<SecretKey, SetupError> {
        let bytes = hex::decode(text.trim()).map_err(|_| {
            SetupError::Config("MAGFLOW_SECRET_KEY: must be 64 hex characters (32 bytes)".into())
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            SetupError::Config("MAGFLOW_SECRET_KEY: must be 64 hex characters (32 bytes)".into())
        })?;
        Ok(SecretKey(key))
    }

    /// A fresh random key, as 64 hex characters (for `magflow secret-key generate`).
    pub fn generate_hex() -> String {
        hex::encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for SecretKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SecretKey, D::Error> {
        let text = String::deserialize(d)?;
        SecretKey::from_hex(&text)
            .map_err(|_| serde::de::Error::custom("must be 64 hex characters (32 bytes)"))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    #[error("the sealed value is malformed")]
    Malformed,
    /// Sealed under another key.
    #[error("the sealed value does not open with this key")]
    WrongKey,
    /// The right key, but sealed for something else (copied from another row, or what
    /// it belongs to changed), or tampered with.
    #[error("the sealed value belongs to something else")]
    Moved,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

const LEGACY: &str = "v1:";
const PREFIX: &str = "v2:";

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        let id = Sha256::new()
            .chain_update(b"magflow sealing key id\0")
            .chain_update(key.0)
            .finalize();
        Sealer {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
            key_id: hex::encode(&id[..8]),
        }
    }

    /// A short public name of the key (16 hex characters of a SHA-256 of it).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Seals `plaintext` for `context` (what it belongs to): it opens only with the same
    /// key and the same context.
    pub fn seal(&self, plaintext: &str, context: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and a valid key cannot fail.
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context,
                },
            )
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}{}:{}",
            self.key_id,
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    /// The key id a sealed value names, if it is of the current format.
    pub fn sealed_key_id(sealed: &str) -> Option<&str> {
        sealed
            .strip_prefix(PREFIX)?
            .split_once(':')
            .map(|(id, _)| id)
    }

    pub fn is_legacy(sealed: &str) -> bool {
        sealed.starts_with(LEGACY)
    }

    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<String, SealError> {
        let (id, body) = sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or(SealError::Malformed)?;
        if id != self.key_id {
            return Err(SealError::WrongKey);
        }
        self.decrypt(body, context)
    }

    /// Opens a value sealed by an older version (no context), to seal it again.
    pub fn open_legacy(&self, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(LEGACY).ok_or(SealError::Malformed)?;
        self.decrypt(body, b"").map_err(|e| {
            if e == SealError::Moved {
                SealError::WrongKey
            } else {
                e
            }
        })
    }

    fn decrypt(&self, body: &str, context: &[u8]) -> Result<String, SealError> {
        let blob = base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()
            .filter(|b| b.len() > 24)
            .ok_or(SealError::Malformed)?;
        let (nonce, ciphertext) = blob.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Moved)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_wrong_key_and_moved() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).expect("key");
        let sealer = Sealer::new(&key);
        let a = sealer.seal("hunter2", b"account-1");
        let b = sealer.seal("hunter2", b"account-1");
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("hunter2"));
        assert_eq!(sealer.open(&a, b"account-1").as_deref(), Ok("hunter2"));
        assert_eq!(sealer.open(&a, b"account-2"), Err(SealError::Moved));
        let other = Sealer::new(&SecretKey::from_hex(&SecretKey::generate_hex()).expect("key"));
        assert_eq!(other.open(&a, b"account-1"), Err(SealError::WrongKey));
        assert_eq!(sealer.open("v2:!!", b""), Err(SealError::Malformed));
        assert_eq!(format!("{key:?}"), "***");
        assert!(SecretKey::from_hex("abc").is_err());
    }

    #[test]
    fn legacy_values_open_once_to_be_sealed_again() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).expect("key");
        let sealer = Sealer::new(&key);
        // What version 1 wrote: no context, no key id.
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = XChaCha20Poly1305::new((&key.0).into())
            .encrypt(&nonce, b"hunter2".as_slice())
            .expect("encrypt");
        let legacy = format!(
            "{LEGACY}{}",
            base64::engine::general_purpose::STANDARD.encode([nonce.to_vec(), ciphertext].concat())
        );
        assert!(Sealer::is_legacy(&legacy));
        assert_eq!(sealer.open_legacy(&legacy).as_deref(), Ok("hunter2"));
        assert!(
            sealer.open(&legacy, b"").is_err(),
            "never opened as current"
        );
    }
}
