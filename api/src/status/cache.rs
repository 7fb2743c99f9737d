//! A short-lived cache of status reports, so a wall of dashboards costs a few queries a
//! second, not a few per viewer. Shared through Redis when the queue is Redis (every
//! API process then serves the same report); in-process otherwise. One computation at a
//! time per process: when the entry expires under load, one request recomputes while the
//! others get the previous report (its `generated_at` tells its age) if it is at most
//! [`STALE_FACTOR`] × ttl old, and wait for the new one otherwise. Measured by
//! `magflow bench load`: under ten syncs, waiting put status at p99 550 ms. A report is
//! serialized once, when it is computed or fetched, and every request gets those bytes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use poem_openapi::types::ParseFromJSON;
use redis::aio::ConnectionManager;
use sea_orm::{DatabaseConnection, DbErr};

use super::{StatusReport, compute};
use crate::serialized::Serialized;

/// How many ttls old a report may be when it is served during a recomputation.
const STALE_FACTOR: u32 = 5;

/// A report, and its answer serialized once for every request that gets it.
pub struct Cached {
    pub report: StatusReport,
    pub json: Serialized<StatusReport>,
}

/// This process's copy: fresh until `until` (when its Redis entry expires too).
struct Local {
    fetched: Instant,
    until: Instant,
    cached: Arc<Cached>,
}

pub struct StatusCache {
    ttl: Duration,
    local: Mutex<HashMap<String, Local>>,
    redis: Option<(ConnectionManager, String)>,
    computing: tokio::sync::Mutex<()>,
}

impl StatusCache {
    pub fn new(ttl: Duration, redis: Option<(ConnectionManager, String)>) -> StatusCache {
        StatusCache {
            ttl,
            local: Mutex::default(),
            redis,
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// The report for `account` (`None`: every account), at most `ttl` old.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        sealer: Option<&jobs::secrets::Sealer>,
        account: Option<&str>,
    ) -> Result<Arc<Cached>, DbErr> {
        let key = account.unwrap_or("*").to_owned();
        if let Some(hit) = self.lookup(&key).await {
            return Ok(hit);
        }
        let _one_at_a_time = match self.computing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(stale) = self.stale(&key) {
                    return Ok(stale);
                }
                self.computing.lock().await
            }
        };
        if let Some(hit) = self.lookup(&key).await {
            return Ok(hit);
        }
        let report = compute(db, sealer, account).await?;
        Ok(self.store(&key, report).await)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This process's copy while it is fresh.
    fn fresh(&self, key: &str) -> Option<Arc<Cached>> {
        let now = Instant::now();
        let local = self.locked();
        local
            .get(key)
            .filter(|l| now < l.until)
            .map(|l| l.cached.clone())
    }

    /// This process's copy, if it was fetched less than [`STALE_FACTOR`] ttls ago.
    fn stale(&self, key: &str) -> Option<Arc<Cached>> {
        let local = self.locked();
        local
            .get(key)
            .filter(|l| l.fetched.elapsed() < self.ttl * STALE_FACTOR)
            .map(|l| l.cached.clone())
    }

    fn remember(&self, key: &str, report: StatusReport, fresh_for: Duration) -> Arc<Cached> {
        let cached = Arc::new(Cached {
            json: Serialized::new(&report),
            report,
        });
        let now = Instant::now();
        self.locked().insert(
            key.to_owned(),
            Local {
                fetched: now,
                until: now + fresh_for,
                cached: cached.clone(),
            },
        );
        cached
    }

    /// The fresh local copy; else the shared one in Redis, kept here for as long as it
    /// has left to live there (so every process still serves the same report, and asks
    /// Redis once per report, not once per request).
    async fn lookup(&self, key: &str) -> Option<Arc<Cached>> {
        if let Some(hit) = self.fresh(key) {
            return Some(hit);
        }
        let (conn, prefix) = self.redis.as_ref()?;
        let mut conn = conn.clone();
        let redis_key = format!("{prefix}:status:{key}");
        let (text, left_ms): (Option<String>, i64) = redis::pipe()
            .get(&redis_key)
            .pttl(&redis_key)
            .query_async(&mut conn)
            .await
            .ok()?;
        let value: serde_json::Value = serde_json::from_str(&text?).ok()?;
        let report = StatusReport::parse_from_json(Some(value)).ok()?;
        let left = Duration::from_millis(left_ms.max(0) as u64).min(self.ttl);
        Some(self.remember(key, report, left))
    }

    async fn store(&self, key: &str, report: StatusReport) -> Arc<Cached> {
        let cached = self.remember(key, report, self.ttl);
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let stored: Result<(), redis::RedisError> = redis::cmd("SET")
                .arg(format!("{prefix}:status:{key}"))
                .arg(cached.json.as_bytes())
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query_async(&mut conn)
                .await;
            if let Err(e) = stored {
                tracing::warn!(error = %e, "status cache: could not store in Redis");
            }
        }
        cached
    }
}
