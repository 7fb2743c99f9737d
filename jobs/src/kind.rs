//! The job kinds by name (what `job_runs.kind` stores and what names their queues),
//! and the retry policy type each kind's `Job` impl sets.

use std::time::Duration;

use rand::Rng;

pub use entity::job_run::JobKind;

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
