//! What can go wrong talking to eMAG, in variants a caller can act on.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EmagError {
    /// 429 from eMAG's gateway. Back off; the request may be sent again.
    #[error("eMAG rate limit exceeded")]
    RateLimited { retry_after: Option<Duration> },
    /// "You are not allowed to use this API.": wrong username or password, or no API rights.
    #[error("eMAG refused the credentials: {message}")]
    BadCredentials { message: String },
    /// "ERROR: Invalid vendor ip [...]": this machine's IP is not whitelisted for the account.
    #[error("eMAG refused this machine's IP address: {message}")]
    IpNotWhitelisted { message: String },
    /// `isError: true`, or a 400: the request itself is wrong. Not worth repeating as is.
    #[error("eMAG rejected the request: {}", messages.join("; "))]
    Validation { messages: Vec<String> },
    #[error("eMAG: not found: {message}")]
    NotFound { message: String },
    /// 5xx from eMAG or its gateway.
    #[error("eMAG server error (HTTP {status})")]
    Server { status: u16 },
    #[error("eMAG did not answer in time")]
    Timeout,
    #[error("could not reach eMAG: {0}")]
    Transport(String),
    /// HTML, a captcha page, or JSON that is not the envelope. `reason` is ours: a remote
    /// body is never echoed beyond eMAG's own `messages`.
    #[error("eMAG sent an unreadable response (HTTP {status}): {reason}")]
    InvalidBody { status: u16, reason: String },
    /// A 3xx: eMAG's API never redirects, and following one could carry the account's
    /// credentials to another host.
    #[error("eMAG answered with a redirect (HTTP {status}); redirects are not followed")]
    UnexpectedRedirect { status: u16 },
    /// A response body larger than the client reads.
    #[error("eMAG's response is larger than {limit_mib} MiB; it was not read")]
    ResponseTooLarge { limit_mib: u64 },
}

impl EmagError {
    /// Whether sending the same request again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EmagError::RateLimited { .. }
                | EmagError::Server { .. }
                | EmagError::Timeout
                | EmagError::Transport(_)
                | EmagError::InvalidBody { .. }
        )
    }

    /// A stable name for run errors and metrics.
    pub fn category(&self) -> &'static str {
        match self {
            EmagError::RateLimited { .. } => "rate_limited",
            EmagError::BadCredentials { .. } => "bad_credentials",
            EmagError::IpNotWhitelisted { .. } => "ip_not_whitelisted",
            EmagError::Validation { .. } => "validation",
            EmagError::NotFound { .. } => "not_found",
            EmagError::Server { .. } => "server_error",
            EmagError::Timeout => "timeout",
            EmagError::Transport(_) => "transport",
            EmagError::InvalidBody { .. } => "invalid_body",
            EmagError::UnexpectedRedirect { .. } => "unexpected_redirect",
            EmagError::ResponseTooLarge { .. } => "response_too_large",
        }
    }
}
