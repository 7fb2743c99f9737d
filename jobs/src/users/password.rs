//! Passwords: the policy (length, not common) and argon2id hashing. Hashing is slow on
//! purpose, so it runs on the blocking pool, never on a runtime thread.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use rand::{Rng, distr::Uniform};

/// The shortest password accepted.
pub const MIN_CHARS: usize = 12;
/// The longest: argon2 takes any length, but a megabyte "password" is only a cost.
pub const MAX_CHARS: usize = 256;

/// Why a password is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password: at least {MIN_CHARS} characters")]
    TooShort,
    #[error("password: at most {MAX_CHARS} characters")]
    TooLong,
    /// A common password, or one made of words, names, dates or patterns found in the
    /// lists attackers try first.
    #[error("password: too easy to guess (a common password or pattern); choose another")]
    Common,
}

impl PasswordError {
    /// A stable code for the console's translations.
    pub fn code(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooLong => "password_too_long",
            PasswordError::Common => "password_common",
        }
    }
}

/// Whether `password` may be set for the user called `name`.
pub fn check(password: &str, name: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    // zxcvbn knows the common-password lists (and words, names, keyboard walks, dates):
    // below "3" a password falls to an offline guessing attack on its list.
    let estimate = zxcvbn::zxcvbn(password, &[name, "magflow", "emag"]);
    if (estimate.score() as u8) < 3 {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// A password for a new user: 20 characters from 54 letters and digits (115 bits),
/// without look-alikes (0/O, 1/l/I) so it can be typed from a screen.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let pick = Uniform::new(0, ALPHABET.len()).unwrap_or_else(|_| unreachable!());
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.sample(pick)]))
        .collect()
}

/// Why a hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// An argon2id PHC string for `password` (OWASP's parameters: 19 MiB, 2 passes).
pub async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches `phc`. A malformed stored hash matches nothing.
pub async fn verify(phc: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing anyone knows: verified against when the user does not exist, so a
/// wrong name takes as long as a wrong password and does not tell names apart.
pub const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$bWFnZmxvdy1kZWNveQ$Vjbl2G8A3wQSN1Rj1r1wXdhXw3Wb4E8c1XW1dTh0M3E";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_what_is_wrong() {
        assert_eq!(check("short", "ana"), Err(PasswordError::TooShort));
        assert_eq!(check("password1234", "ana"), Err(PasswordError::Common));
        assert_eq!(check("qwertyuiop123", "ana"), Err(PasswordError::Common));
        assert_eq!(
            check("anamaria1234", "anamaria"),
            Err(PasswordError::Common)
        );
        assert_eq!(check(&"x".repeat(300), "ana"), Err(PasswordError::TooLong));
        assert_eq!(check("vapor-Lintel-orbit-92", "ana"), Ok(()));
        for _ in 0..20 {
            let p = generate();
            assert_eq!(check(&p, "admin"), Ok(()), "{p}");
        }
    }

    #[tokio::test]
    async fn hash_verifies_only_its_password() {
        let phc = hash("vapor-Lintel-orbit-92".into()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(phc.clone(), "vapor-Lintel-orbit-92".into()).await);
        assert!(!verify(phc, "vapor-Lintel-orbit-93".into()).await);
        assert!(
            PasswordHash::new(DECOY).is_ok(),
            "the decoy must cost a real verify"
        );
        assert!(!verify(DECOY.into(), "anything at all".into()).await);
        assert!(!verify("not a hash".into(), "anything at all".into()).await);
    }
}
