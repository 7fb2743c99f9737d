//! The job families, their queues and their retry policies.

use std::{fmt, time::Duration};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A job family. Its wire name is stored in `job_runs.kind` and names its queue:
/// never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Sync,
    BulkUpdate,
    Export,
    Notification,
    /// A no-op job that reports progress each step: for tests, benchmarks and smoke checks.
    Ping,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::Sync,
        JobKind::BulkUpdate,
        JobKind::Export,
        JobKind::Notification,
        JobKind::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Sync => "sync",
            JobKind::BulkUpdate => "bulk_update",
            JobKind::Export => "export",
            JobKind::Notification => "notification",
            JobKind::Ping => "ping",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The retry policy magflow applies (apalis' own backend retries are bypassed, see
    /// docs/stack-notes.md §5.2).
    pub fn retry_policy(self) -> RetryPolicy {
        match self {
            JobKind::Sync => RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300)),
            JobKind::BulkUpdate => {
                RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300))
            }
            JobKind::Export => RetryPolicy::new(3, Duration::from_secs(5), Duration::from_secs(60)),
            JobKind::Notification => {
                RetryPolicy::new(6, Duration::from_secs(10), Duration::from_secs(900))
            }
            JobKind::Ping => {
                RetryPolicy::new(3, Duration::from_millis(500), Duration::from_secs(5))
            }
        }
    }

    /// The longest one attempt may run before it counts as a timeout.
    pub fn default_timeout(self) -> Duration {
        match self {
            JobKind::Sync | JobKind::BulkUpdate => Duration::from_secs(4 * 3600),
            JobKind::Export => Duration::from_secs(3600),
            JobKind::Notification => Duration::from_secs(120),
            JobKind::Ping => Duration::from_secs(600),
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Exponential backoff with jitter, capped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub const fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        RetryPolicy {
            max_attempts,
            base_delay,
            max_delay,
        }
    }

    /// Delay before attempt `failed_attempt + 1`: base·2^(n−1), capped, then scaled by a
    /// random factor in [0.5, 1.0] so retries of many runs do not arrive together.
    pub fn delay_after(&self, failed_attempt: u32) -> Duration {
        let exp = failed_attempt.saturating_sub(1).min(20);
        let raw = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        raw.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::new(10, Duration::from_secs(1), Duration::from_secs(8));
        for _ in 0..50 {
            let d1 = p.delay_after(1);
            assert!(d1 >= Duration::from_millis(500) && d1 <= Duration::from_secs(1));
            let d3 = p.delay_after(3);
            assert!(d3 >= Duration::from_secs(2) && d3 <= Duration::from_secs(4));
            assert!(p.delay_after(30) <= Duration::from_secs(8));
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
