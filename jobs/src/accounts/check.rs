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
    pub status: CheckStatus,
    pub message: String,
    pub latency_ms: u64,
}

/// How a check of an account's login ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    BadCredentials,
    IpNotWhitelisted,
    Unreachable,
    NeedsPassword,
    Error,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::BadCredentials => "bad_credentials",
            CheckStatus::IpNotWhitelisted => "ip_not_whitelisted",
            CheckStatus::Unreachable => "unreachable",
            CheckStatus::NeedsPassword => "needs_password",
            CheckStatus::Error => "error",
        }
    }
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
            status: CheckStatus::Error,
            message: format!("base_url {m}; nothing was sent"),
            latency_ms: 0,
        });
    }
    let login = match login(sealer, account) {
        Ok(login) => login,
        Err(e @ AccountError::NeedsPassword(_)) => {
            return Ok(CheckOutcome {
                status: CheckStatus::NeedsPassword,
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
        Ok(()) => (CheckStatus::Ok, "eMAG accepted the credentials".to_owned()),
        Err(e @ EmagError::BadCredentials { .. }) => (CheckStatus::BadCredentials, e.to_string()),
        Err(e @ EmagError::IpNotWhitelisted { .. }) => {
            (CheckStatus::IpNotWhitelisted, e.to_string())
        }
        Err(e @ (EmagError::Timeout | EmagError::Transport(_))) => {
            (CheckStatus::Unreachable, e.to_string())
        }
        Err(e) => (CheckStatus::Error, e.to_string()),
    };
    Ok(CheckOutcome {
        status,
        message,
        latency_ms,
    })
}
