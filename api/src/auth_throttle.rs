//! Failed authentications per client address: past the allowed number in a minute
//! (`MAGFLOW_API_AUTH_FAILURES_PER_MINUTE`, default 20) the address gets 429 until the
//! minute is over, so keys cannot be guessed at speed. Per API process.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use jobs::metrics::AUTH_FAILURES;

const WINDOW: Duration = Duration::from_secs(60);
/// Bounded memory whatever callers send: expired windows are dropped past this, and the
/// map is emptied if that is not enough.
const MAX_ADDRESSES: usize = 50_000;

pub struct AuthThrottle {
    per_minute: u32,
    /// Address → (start of its window, failures in it).
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl AuthThrottle {
    pub fn new(per_minute: u32) -> AuthThrottle {
        AuthThrottle {
            per_minute: per_minute.max(1),
            failures: Mutex::default(),
        }
    }

    /// Seconds until `ip` may try again, if it is throttled now.
    pub fn blocked(&self, ip: Option<IpAddr>) -> Option<u64> {
        let ip = ip?;
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (start, count) = failures.get(&ip.to_canonical())?;
        let left = WINDOW.checked_sub(start.elapsed())?;
        if *count >= self.per_minute {
            metrics::counter!(AUTH_FAILURES, "outcome" => "throttled").increment(1);
            Some(left.as_secs().max(1))
        } else {
            None
        }
    }

    /// Notes a failed authentication from `ip`.
    pub fn failed(&self, ip: Option<IpAddr>) {
        metrics::counter!(AUTH_FAILURES, "outcome" => "refused").increment(1);
        let Some(ip) = ip else { return };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_ADDRESSES {
            failures.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if failures.len() >= MAX_ADDRESSES {
                failures.clear();
            }
        }
        let entry = failures
            .entry(ip.to_canonical())
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_allowance() {
        let throttle = AuthThrottle::new(3);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(throttle.blocked(Some(a)), None);
            throttle.failed(Some(a));
        }
        assert!(throttle.blocked(Some(a)).is_some_and(|s| s <= 60));
        assert_eq!(throttle.blocked(Some(b)), None, "per address");
    }
}
