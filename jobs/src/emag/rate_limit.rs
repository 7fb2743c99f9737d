//! One request budget per eMAG login and bucket, shared by every job and process.
//!
//! eMAG allows 12 requests/s (720/min) on order routes and 3/s (180/min) on everything
//! else together, per seller login (docs/emag.md §3.1). magflow spaces requests evenly
//! (GCRA with no burst): each acquire reserves the next free slot and sleeps until it.
//! Even spacing never exceeds either window (3/s × 60 s = 180/min) and keeps any one
//! process from bursting. With Redis the slot clock lives in Redis (one atomic script per
//! acquire, Redis' own clock), so all processes share it; with the embedded backend
//! it lives in this process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use redis::{Script, aio::ConnectionManager};
use sha2::{Digest, Sha256};
// tokio's clock, so tests can pause time.
use tokio::time::Instant;

/// eMAG's two budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `order/*` routes: 12/s, 720/min.
    Orders,
    /// Everything else together: 3/s, 180/min.
    Other,
}

impl Bucket {
    /// The bucket of a route such as `order/read` or `product_offer/save`.
    pub fn for_route(route: &str) -> Bucket {
        if route.trim_start_matches('/').starts_with("order") {
            Bucket::Orders
        } else {
            Bucket::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Orders => "orders",
            Bucket::Other => "other",
        }
    }
}

/// Requests per second per bucket, and how much of it to leave unused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub orders_per_second: f64,
    pub other_per_second: f64,
    /// Fraction of the limit kept in reserve (0.0 to 0.5; default 0).
    pub margin: f64,
}

impl Limits {
    /// eMAG's documented limits.
    pub const EMAG: Limits = Limits {
        orders_per_second: 12.0,
        other_per_second: 3.0,
        margin: 0.0,
    };

    /// Time between two requests of `bucket`: a second plus [`JITTER_ALLOWANCE`], divided
    /// by the rate. eMAG counts arrivals in a sliding second; a request that leaves late
    /// (a busy machine, a slow connection) arrives closer to the next one. Spreading the
    /// allowance over the window keeps any second at or under the limit as long as no
    /// request is delayed by more than the allowance, at the cost of ~5% of the budget.
    pub fn spacing(&self, bucket: Bucket) -> Duration {
        let rate = match bucket {
            Bucket::Orders => self.orders_per_second,
            Bucket::Other => self.other_per_second,
        } * (1.0 - self.margin.clamp(0.0, 0.5));
        if rate <= 0.0 || !rate.is_finite() {
            return Duration::ZERO;
        }
        (Duration::from_secs(1) + JITTER_ALLOWANCE).div_f64(rate)
    }
}

/// How late a request may leave without pushing a second over eMAG's limit.
pub const JITTER_ALLOWANCE: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub struct RateLimiter {
    store: Store,
    limits: Limits,
}

#[derive(Clone)]
enum Store {
    /// Unlimited (the simulator's `--limits off` counterpart, for benchmarks).
    Off,
    Local(Arc<Mutex<HashMap<String, Instant>>>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = match self.store {
            Store::Off => "off",
            Store::Local(_) => "local",
            Store::Redis { .. } => "redis",
        };
        f.debug_struct("RateLimiter")
            .field("store", &store)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Reserve the next slot: returns how many microseconds to wait for it.
const ACQUIRE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local spacing = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next = tat + spacing
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.floor((next - now) / 1000) + 2000)
return tat - now
";

/// Push the next free slot to at least now + pause.
const PENALIZE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_ then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 2000)
end
return 0
";

impl RateLimiter {
    pub fn off() -> RateLimiter {
        RateLimiter {
            store: Store::Off,
            limits: Limits::EMAG,
        }
    }

    pub fn local(limits: Limits) -> RateLimiter {
        RateLimiter {
            store: Store::Local(Arc::default()),
            limits,
        }
    }

    pub fn redis(conn: ConnectionManager, prefix: &str, limits: Limits) -> RateLimiter {
        RateLimiter {
            store: Store::Redis {
                conn,
                prefix: prefix.to_owned(),
            },
            limits,
        }
    }

    fn key(&self, login: &str, bucket: Bucket) -> String {
        // Logins are identified by base URL + username; hashed so any characters are safe.
        let digest = hex::encode(&Sha256::digest(login.as_bytes())[..8]);
        let prefix = match &self.store {
            Store::Redis { prefix, .. } => prefix.as_str(),
            _ => "local",
        };
        format!("{prefix}.ratelimit.{}.{digest}", bucket.as_str())
    }

    /// Waits for this login's next slot in `bucket`; returns how long it waited.
    pub async fn acquire(
        &self,
        login: &str,
        bucket: Bucket,
    ) -> Result<Duration, redis::RedisError> {
        let spacing = self.limits.spacing(bucket);
        let wait = match &self.store {
            Store::Off => Duration::ZERO,
            Store::Local(slots) => {
                let key = self.key(login, bucket);
                let now = Instant::now();
                let mut slots = slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let tat = slots.get(&key).copied().filter(|t| *t > now).unwrap_or(now);
                slots.insert(key, tat + spacing);
                tat - now
            }
            Store::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let script = Script::new(ACQUIRE);
                let mut call = script.key(self.key(login, bucket));
                call.arg(spacing.as_micros() as u64);
                let micros: i64 = bounded(call.invoke_async(&mut conn)).await?;
                Duration::from_micros(micros.max(0) as u64)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(wait)
    }

    /// After a 429: nobody using this login sends in `bucket` for `pause`.
    pub async fn penalize(
        &self,
        login: &str,
        bucket: Bucket,
        pause: Duration,
    ) -> Result<(), redis::RedisError> {
        match &self.store {
            Store::Off => Ok(()),
            Store::Local(slots) => {
                let key = self.key(login, bucket);
                let until = Instant::now() + pause;
                let mut slots = slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let slot = slots.entry(key).or_insert(until);
                *slot = (*slot).max(until);
                Ok(())
            }
            Store::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let script = Script::new(PENALIZE);
                let mut call = script.key(self.key(login, bucket));
                call.arg(pause.as_micros() as u64);
                let _: i64 = bounded(call.invoke_async(&mut conn)).await?;
                Ok(())
            }
        }
    }
}

/// A Redis call that gives up after 5 s: a connection lost mid-command (Redis
/// restarting) could otherwise leave a run waiting for its slot forever, heartbeating.
async fn bounded<T>(
    call: impl std::future::Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, redis::RedisError> {
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(result) => result,
        Err(_) => Err(redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the rate limiter's Redis did not answer within 5 s",
        ))),
    }
}

/// A Redis connection for a limiter outside a [`crate::JobContext`] (benchmarks).
pub async fn connect_redis(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    redis::Client::open(url)?.get_connection_manager().await
}

/// The most timestamps (ms, sorted) inside any window (t − width, t]: how close a log of
/// requests came to a limit of that many per window (the benchmarks and their tests).
pub fn max_in_window(sorted: &[f64], width: f64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end] - sorted[start] >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_counts() {
        // (t − 1 s, t]: at 1,300 ms the window holds 400, 800, 1,000 and 1,300.
        assert_eq!(
            max_in_window(&[0.0, 400.0, 800.0, 1000.0, 1300.0], 1000.0),
            4
        );
        // At exactly 1,000 ms the request at 0 has left the window.
        assert_eq!(
            max_in_window(&[0.0, 400.0, 800.0, 1000.0, 2100.0], 1000.0),
            3
        );
        assert_eq!(max_in_window(&[0.0, 1.0, 2.0, 3.0], 1000.0), 4);
        assert_eq!(max_in_window(&[], 1000.0), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn local_limiter_spaces_requests_evenly() {
        let limiter = RateLimiter::local(Limits::EMAG);
        let start = tokio::time::Instant::now();
        let mut waited = Vec::new();
        for _ in 0..7 {
            waited.push(
                limiter
                    .acquire("login", Bucket::Other)
                    .await
                    .expect("local never fails"),
            );
        }
        // 7 requests at 3/s: six gaps of 1.05 s / 3 = 350 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(2100));
        assert!(waited[0].is_zero());
        // Another login and the other bucket are independent.
        assert!(
            limiter
                .acquire("other login", Bucket::Other)
                .await
                .expect("ok")
                .is_zero()
        );
        assert!(
            limiter
                .acquire("login", Bucket::Orders)
                .await
                .expect("ok")
                .is_zero()
        );
    }
}
