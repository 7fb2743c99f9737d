//! Settings that hold secrets: never printed, never serialized in clear.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::SetupError;

/// A secret setting that is plain text (a token): never printed, never serialized.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> SecretText {
        SecretText(text.into())
    }

    /// Whether `candidate` is this secret, in time that does not depend on where they
    /// differ (both are hashed first, then compared in constant time).
    pub fn matches(&self, candidate: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        let (a, b) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(candidate.as_bytes()),
        );
        a.ct_eq(&b).into()
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// A connection URL that may carry a password: `Debug` and `Display` print it as `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The real URL, for the one place that connects with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn scheme(&self) -> &str {
        self.0.split("://").next().unwrap_or_default()
    }

    pub(super) fn scheme_in(&self, setting: &str, allowed: &[&str]) -> Result<(), SetupError> {
        if !self.0.contains("://") {
            return Err(SetupError::Config(format!(
                "{setting}: {self} is not a URL (expected {}://…)",
                allowed[0]
            )));
        }
        if !allowed.contains(&self.scheme()) {
            return Err(SetupError::Config(format!(
                "{setting}: unsupported scheme '{}' (expected one of {})",
                self.scheme(),
                allowed.join(", ")
            )));
        }
        Ok(())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                f.write_str(u.as_str())
            }
            Ok(_) => f.write_str(&self.0),
            // Unparseable: do not risk echoing a secret.
            Err(_) => write!(f, "{}://***", self.scheme()),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}
