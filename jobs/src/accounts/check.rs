//! `POST /api/v1/accounts/{name}/check`: one cheap authenticated call to eMAG.

use std::time::Instant;

use entity::emag_account;
use serde::Serialize;

use super::{AccountError, login, validate_base_url};
use crate::{
    emag::{EmagClient, EmagError, RateLimiter, client::ClientOptions},
    secrets::Sealer,
};

/// What `POST /accounts/{name}/check` found.
#[derive(Clone, Debug, Serialize)]
pub struct CheckOutcome {
    /// `ok`, `bad_credentials`, `ip_not_whitelisted`, `unreachable`, `needs_password`
    /// or `error`.
    pub status: &'static str,
    pub message: String,
    pub latency_ms: u64,
}

/// One cheap authenticated call (`vat/read`) under the account's rate budget.
pub async fn check(
    sealer: Option<&Sealer>,
    limiter: &RateLimiter,
    http_hosts: &[String],
    account: &emag_account::Model,
) -> Result<CheckOutcome, AccountError> {
    if let Err(m) = validate_base_url(&account.base_url, http_hosts) {
        return Ok(CheckOutcome {
            status: "error",
            message: format!("base_url {m}; nothing was sent"),
            latency_ms: 0,
        });
    }
    let login = match login(sealer, account) {
        Ok(login) => login,
        Err(e @ AccountError::NeedsPassword(_)) => {
            return Ok(CheckOutcome {
                status: "needs_password",
                message: e.to_string(),
                latency_ms: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let options = ClientOptions {
        max_attempts: 2,
        timeout: std::time::Duration::from_secs(15),
        ..ClientOptions::default()
    };
    let started = Instant::now();
    let result = match EmagClient::new(&login, limiter.clone(), options) {
        Ok(client) => client
            .for_account(&account.name)
            .vat_read()
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status, message) = match result {
        Ok(()) => ("ok", "eMAG accepted the credentials".to_owned()),
        Err(e @ EmagError::BadCredentials { .. }) => ("bad_credentials", e.to_string()),
        Err(e @ EmagError::IpNotWhitelisted { .. }) => ("ip_not_whitelisted", e.to_string()),
        Err(e @ (EmagError::Timeout | EmagError::Transport(_))) => ("unreachable", e.to_string()),
        Err(e) => ("error", e.to_string()),
    };
    Ok(CheckOutcome {
        status,
        message,
        latency_ms,
    })
}
