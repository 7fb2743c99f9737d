//! Gauges read from the database (the truth shared by every process), refreshed by the
//! API process: queue depth, running runs, the oldest wait, paused queues, runs that
//! stopped making progress, degraded accounts, and eMAG's rate limits. Counters (eMAG
//! requests, run outcomes) are recorded where they happen, in each process.

use std::{collections::HashMap, time::Instant};

use chrono::Utc;
use entity::{
    emag_account,
    job_run::{self, RunStatus},
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    config::Config,
    emag::rate_limit::Limits,
    kind::JobKind,
    metrics::{
        ACCOUNT_DEGRADED, EMAG_RATE_LIMIT, QUEUE_DEPTH, QUEUE_OLDEST_AGE, QUEUE_PAUSED,
        QUEUE_RUNNING, RUN_STALLED,
    },
    queues,
};

/// Remembers when each running run last changed its counters, across refreshes.
#[derive(Debug, Default)]
pub struct Gauges {
    progress: HashMap<Uuid, ((i64, i32), Instant)>,
}

impl Gauges {
    pub async fn refresh(&mut self, db: &DatabaseConnection, config: &Config) -> Result<(), DbErr> {
        for s in queues::stats(db, Utc::now()).await? {
            let kind = s.kind.as_str();
            metrics::gauge!(QUEUE_DEPTH, "kind" => kind).set(s.depth as f64);
            metrics::gauge!(QUEUE_RUNNING, "kind" => kind).set(s.running as f64);
            metrics::gauge!(QUEUE_OLDEST_AGE, "kind" => kind)
                .set(s.oldest_waiting_s.unwrap_or(0.0));
            metrics::gauge!(QUEUE_PAUSED, "kind" => kind).set(if s.paused { 1.0 } else { 0.0 });
        }
        self.refresh_stalls(db).await?;

        let accounts: Vec<(String, Option<chrono::DateTime<Utc>>)> = emag_account::Entity::find()
            .select_only()
            .column(emag_account::Column::Name)
            .column(emag_account::Column::DegradedUntil)
            .into_tuple()
            .all(db)
            .await?;
        let now = Utc::now();
        for (name, until) in accounts {
            let degraded = until.is_some_and(|t| t > now);
            metrics::gauge!(ACCOUNT_DEGRADED, "account" => name).set(if degraded {
                1.0
            } else {
                0.0
            });
        }

        let keep = 1.0 - config.emag_rate_margin;
        let limits = Limits::EMAG;
        metrics::gauge!(EMAG_RATE_LIMIT, "bucket" => "orders").set(limits.orders_per_second * keep);
        metrics::gauge!(EMAG_RATE_LIMIT, "bucket" => "other").set(limits.other_per_second * keep);
        Ok(())
    }

    /// Per kind, the longest a running run has gone without its counters changing.
    async fn refresh_stalls(&mut self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let running: Vec<(Uuid, String, i64, i32)> = job_run::Entity::find()
            .select_only()
            .column(job_run::Column::Id)
            .column(job_run::Column::Kind)
            .column(job_run::Column::Processed)
            .column(job_run::Column::PagesDone)
            .filter(job_run::Column::Status.eq(RunStatus::Running))
            .into_tuple()
            .all(db)
            .await?;
        let now = Instant::now();
        let mut worst: HashMap<&str, f64> =
            JobKind::ALL.iter().map(|k| (k.as_str(), 0.0)).collect();
        let mut seen = HashMap::new();
        for (id, kind, processed, pages) in &running {
            let counters = (*processed, *pages);
            let since = match self.progress.get(id) {
                Some((before, since)) if *before == counters => *since,
                _ => now,
            };
            seen.insert(*id, (counters, since));
            if let Some(w) = worst.get_mut(kind.as_str()) {
                *w = w.max(now.duration_since(since).as_secs_f64());
            }
        }
        self.progress = seen;
        for (kind, age) in worst {
            metrics::gauge!(RUN_STALLED, "kind" => kind).set(age);
        }
        Ok(())
    }
}
