//! Passwords at rest: sealed with XChaCha20-Poly1305 under `MAGFLOW_SECRET_KEY`
//! (64 hex characters). A sealed value is `v1:` + base64(nonce ‖ ciphertext); the random
//! 24-byte nonce makes two seals of the same password differ.

use std::fmt;

use base64::Engine;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// Wrong key, or the value was tampered with.
    #[error("the sealed value does not open with this key")]
    WrongKey,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

const PREFIX: &str = "v1:";

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and a valid key cannot fail.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let blob = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|b| b.len() > 24)
            .ok_or(SealError::Malformed)?;
        let (nonce, ciphertext) = blob.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        let plain = self
            .cipher
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_wrong_key() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).expect("key");
        let sealer = Sealer::new(&key);
        let a = sealer.seal("hunter2");
        let b = sealer.seal("hunter2");
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("hunter2"));
        assert_eq!(sealer.open(&a).as_deref(), Ok("hunter2"));
        let other = Sealer::new(&SecretKey::from_hex(&SecretKey::generate_hex()).expect("key"));
        assert_eq!(other.open(&a), Err(SealError::WrongKey));
        assert_eq!(sealer.open("v1:!!"), Err(SealError::Malformed));
        assert_eq!(format!("{key:?}"), "***");
        assert!(SecretKey::from_hex("abc").is_err());
    }
}
