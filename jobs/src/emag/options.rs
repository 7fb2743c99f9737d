//! What a client is built from (a login, timeouts and retry policy) and what it reports
//! (request counters for a run's progress).

use std::{fmt, sync::atomic::AtomicU64, time::Duration};

/// Which eMAG seller login to use. `Debug` never shows the password.
#[derive(Clone)]
pub struct Login {
    pub base_url: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Timeouts and the retry policy of one client.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long a 429 stops every user of the login's bucket.
    pub penalty: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(30),
            penalty: Duration::from_secs(1),
        }
    }
}

/// What a client did, for a run's counters.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub rate_limit_waits: AtomicU64,
    pub rate_limited: AtomicU64,
    pub retries: AtomicU64,
    /// Requests that failed, whether or not a retry then succeeded.
    pub errors: AtomicU64,
    /// Summed response time of answered requests.
    pub latency_ms: AtomicU64,
}
