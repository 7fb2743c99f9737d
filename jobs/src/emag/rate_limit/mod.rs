//! One request budget per eMAG login and bucket, shared by every job and process.
//!
//! eMAG allows 12 requests/s (720/min) on order routes and 3/s (180/min) on everything
//! else together, per seller login (docs/emag.md §3.1). magflow spaces requests evenly
//! (GCRA with no burst): each acquire reserves the next free slot and sleeps until it;
//! then the request leaves only if the `limit`-th departure before it is a [`WINDOW`]
//! old, which catches a slot that came late.
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

mod local;
mod scripts;
use local::LocalSlots;
use scripts::{ACQUIRE, CORRECT, DEPART, PENALIZE};
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
    /// Fraction of the limit kept in reserve (within [`Limits::MARGINS`]; default 0).
    pub margin: f64,
}

impl Limits {
    /// eMAG's documented limits.
    pub const EMAG: Limits = Limits {
        orders_per_second: 12.0,
        other_per_second: 3.0,
        margin: 0.0,
    };

    /// The reserves a setting may ask for: at most half the budget.
    pub const MARGINS: std::ops::RangeInclusive<f64> = 0.0..=0.5;

    fn rate(&self, bucket: Bucket) -> f64 {
        match bucket {
            Bucket::Orders => self.orders_per_second,
            Bucket::Other => self.other_per_second,
        }
    }

    /// Time between two planned slots of `bucket`: a second divided by the rate (less the
    /// margin kept in reserve).
    pub fn spacing(&self, bucket: Bucket) -> Duration {
        let rate = self.rate(bucket)
            * (1.0
                - self
                    .margin
                    .clamp(*Self::MARGINS.start(), *Self::MARGINS.end()));
        if rate <= 0.0 || !rate.is_finite() {
            return Duration::ZERO;
        }
        Duration::from_secs(1).div_f64(rate)
    }

    /// Requests that may leave in any [`WINDOW`]: eMAG's per-second limit.
    pub fn per_window(&self, bucket: Bucket) -> usize {
        (self.rate(bucket).floor() as usize).max(1)
    }
}

/// eMAG counts the requests that arrive in a sliding second. A request may leave only
/// when the one `limit` departures before it left at least this long ago: a request whose
/// slot came late (a busy machine) delays only the requests after it, by as much as it
/// was late, instead of every request giving up a fixed allowance. A departure is
/// recorded when it is granted and moved to when the request is written if that is
/// later ([`RateLimiter::left`]; requests are written on a thread of their own,
/// [`crate::emag::Wire`], so nothing comes between the two). The 15 ms past the second
/// cover what is left, the write's way to eMAG's gateway: up to 8 ms measured with every
/// core busy (BENCHMARKS.md).
pub const WINDOW: Duration = Duration::from_millis(1015);

/// Departures later than this after they were recorded are corrected
/// ([`RateLimiter::left`]); below it the correction would cost more than it gives.
const LATE: Duration = Duration::from_millis(1);

/// A request's turn: how long it waited, and its recorded departure.
#[derive(Debug, Default)]
pub struct Departure {
    pub waited: Duration,
    /// The key, the time recorded, and when the departing call was made.
    recorded: Option<(String, Stamp, Instant)>,
}

#[derive(Debug, Clone, Copy)]
enum Stamp {
    /// Redis' clock, in microseconds.
    Redis(i64),
    Local(Instant),
}

#[derive(Clone)]
pub struct RateLimiter {
    store: Store,
    limits: Limits,
}

#[derive(Clone)]
enum Store {
    /// Unlimited (the simulator's `--limits off` counterpart, for benchmarks).
    Off,
    Local(Arc<Mutex<HashMap<String, LocalSlots>>>),
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

    /// Waits for this login's next slot in `bucket`, then until the request may leave
    /// (see [`WINDOW`]), and records its departure. Call [`RateLimiter::left`] with it
    /// just before the request is written.
    pub async fn acquire(
        &self,
        login: &str,
        bucket: Bucket,
    ) -> Result<Departure, redis::RedisError> {
        let spacing = self.limits.spacing(bucket);
        let limit = self.limits.per_window(bucket);
        let key = self.key(login, bucket);
        let mut asked = Instant::now();
        let (mut waited, mut stamp) = match &self.store {
            Store::Off => return Ok(Departure::default()),
            Store::Local(slots) => {
                let now = Instant::now();
                let mut slots = slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let slot = slots.entry(key.clone()).or_default();
                let tat = slot.tat.filter(|t| *t > now).unwrap_or(now);
                slot.tat = Some(tat + spacing);
                if tat > now {
                    (tat - now, None)
                } else {
                    match slot.depart(now, limit) {
                        Ok(at) => (Duration::ZERO, Some(Stamp::Local(at))),
                        Err(wait) => (wait, None),
                    }
                }
            }
            Store::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let script = Script::new(ACQUIRE);
                let mut call = script.key(format!("{key}.sent"));
                call.key(&key);
                call.arg(limit)
                    .arg(WINDOW.as_micros() as u64)
                    .arg(spacing.as_micros() as u64);
                let (micros, at): (i64, i64) = bounded(call.invoke_async(&mut conn)).await?;
                let wait = Duration::from_micros(micros.max(0) as u64);
                (wait, (at > 0).then_some(Stamp::Redis(at)))
            }
        };
        let mut wait = waited;
        while stamp.is_none() {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            asked = Instant::now();
            match self.depart(&key, limit).await? {
                Ok(at) => stamp = Some(at),
                Err(more) => {
                    wait = more;
                    waited += more;
                }
            }
        }
        Ok(Departure {
            waited,
            recorded: stamp.map(|at| (key, at, asked)),
        })
    }

    /// Departs now, or says how long to wait first.
    async fn depart(
        &self,
        key: &str,
        limit: usize,
    ) -> Result<Result<Stamp, Duration>, redis::RedisError> {
        match &self.store {
            Store::Off => Ok(Ok(Stamp::Local(Instant::now()))),
            Store::Local(slots) => {
                let mut slots = slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let slot = slots.entry(key.to_owned()).or_default();
                Ok(slot.depart(Instant::now(), limit).map(Stamp::Local))
            }
            Store::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let script = Script::new(DEPART);
                let mut call = script.key(format!("{key}.sent"));
                call.arg(limit).arg(WINDOW.as_micros() as u64);
                let (micros, at): (i64, i64) = bounded(call.invoke_async(&mut conn)).await?;
                Ok(if at > 0 {
                    Ok(Stamp::Redis(at))
                } else {
                    Err(Duration::from_micros(micros.max(0) as u64))
                })
            }
        }
    }

    /// The request is about to be written. When that is well after its departure was
    /// recorded (a busy machine: the task woke late), the record moves to now, so the
    /// requests after it wait for when it really left rather than all giving up a margin.
    pub fn left(&self, departure: Departure) {
        let Some((key, at, asked)) = departure.recorded else {
            return;
        };
        let late = asked.elapsed();
        if late < LATE {
            return;
        }
        match (&self.store, at) {
            (Store::Local(slots), Stamp::Local(at)) => {
                let mut slots = slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(slot) = slots.get_mut(&key) {
                    slot.correct(at, asked + late);
                }
            }
            (Store::Redis { conn, .. }, Stamp::Redis(at)) => {
                let mut conn = conn.clone();
                // Measured from before the departing call was sent: never earlier than
                // the request really leaves. Only the next `limit`-th request, a second
                // from now, reads it, so it need not hold this one up.
                let actual = at + late.as_micros() as i64;
                tokio::spawn(async move {
                    let script = Script::new(CORRECT);
                    let mut call = script.key(format!("{key}.sent"));
                    call.arg(at.to_string()).arg(actual.to_string());
                    if let Err(e) = bounded::<i64>(call.invoke_async(&mut conn)).await {
                        tracing::debug!(error = %e, "could not correct a late departure");
                    }
                });
            }
            _ => {}
        }
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
                let slot = slots.entry(key).or_default();
                slot.tat = Some(slot.tat.map_or(until, |t| t.max(until)));
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
mod tests;
