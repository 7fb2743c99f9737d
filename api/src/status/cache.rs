//! A short-lived cache of status reports, so a wall of dashboards costs a few queries a
//! second, not a few per viewer. Shared through Redis when the queue is Redis (every
//! API process then serves the same report); in-process otherwise. One computation at a
//! time per process: when the entry expires under load, one request recomputes while the
//! others get the previous report (its `generated_at` tells its age) if it is at most
//! [`STALE_FACTOR`] × ttl old, and wait for the new one otherwise. Measured by
//! `magflow bench load`: under ten syncs, waiting put status at p99 550 ms.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use poem_openapi::types::{ParseFromJSON, ToJSON};
use redis::aio::ConnectionManager;
use sea_orm::{DatabaseConnection, DbErr};

use super::{StatusReport, compute};

/// How many ttls old a report may be when it is served during a recomputation.
const STALE_FACTOR: u32 = 5;

pub struct StatusCache {
    ttl: Duration,
    local: Mutex<HashMap<String, (Instant, StatusReport)>>,
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
    ) -> Result<StatusReport, DbErr> {
        let key = account.unwrap_or("*").to_owned();
        if let Some(hit) = self.lookup(&key).await {
            return Ok(hit);
        }
        let _one_at_a_time = match self.computing.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(stale) = self.local_within(&key, self.ttl * STALE_FACTOR) {
                    return Ok(stale);
                }
                self.computing.lock().await
            }
        };
        if let Some(hit) = self.lookup(&key).await {
            return Ok(hit);
        }
        let report = compute(db, sealer, account).await?;
        self.store(&key, &report).await;
        Ok(report)
    }

    /// This process's copy of the report, if it is younger than `age`.
    fn local_within(&self, key: &str, age: Duration) -> Option<StatusReport> {
        let local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        local
            .get(key)
            .filter(|(at, _)| at.elapsed() < age)
            .map(|(_, report)| report.clone())
    }

    fn remember(&self, key: &str, report: &StatusReport) {
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        local.insert(key.to_owned(), (Instant::now(), report.clone()));
    }

    async fn lookup(&self, key: &str) -> Option<StatusReport> {
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let text: Option<String> = redis::cmd("GET")
                .arg(format!("{prefix}:status:{key}"))
                .query_async(&mut conn)
                .await
                .ok()?;
            let value: serde_json::Value = serde_json::from_str(&text?).ok()?;
            let report = StatusReport::parse_from_json(Some(value)).ok()?;
            self.remember(key, &report);
            return Some(report);
        }
        self.local_within(key, self.ttl)
    }

    async fn store(&self, key: &str, report: &StatusReport) {
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let text = report.to_json().map(|v| v.to_string()).unwrap_or_default();
            let stored: Result<(), redis::RedisError> = redis::cmd("SET")
                .arg(format!("{prefix}:status:{key}"))
                .arg(text)
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query_async(&mut conn)
                .await;
            if let Err(e) = stored {
                tracing::warn!(error = %e, "status cache: could not store in Redis");
            }
        }
        self.remember(key, report);
    }
}
