//! One poller per API process reads what changed since its last read and fans it out to
//! every SSE and WebSocket client through a broadcast channel: the database sees one
//! query per interval however many clients watch.
//!
//! Rows are read with an overlap window and de-duplicated by revision (runs) and id
//! (events), because a row written by another process may commit slightly after a later
//! timestamp was already read.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::{job_run, run_event};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Something a stream client may want to see.
#[derive(Clone, Debug)]
pub enum Update {
    Run(Arc<job_run::Model>),
    Log(Arc<run_event::Model>),
}

#[derive(Clone)]
pub struct StreamHub {
    tx: broadcast::Sender<Update>,
    stop: CancellationToken,
    interval: Duration,
}

const OVERLAP: Duration = Duration::from_secs(3);
const BATCH: u64 = 1000;

impl StreamHub {
    /// Starts the poller; it ends when `stop` is cancelled.
    pub fn spawn(db: DatabaseConnection, interval: Duration, stop: CancellationToken) -> StreamHub {
        let (tx, _) = broadcast::channel(4096);
        let hub = StreamHub {
            tx: tx.clone(),
            stop: stop.clone(),
            interval,
        };
        tokio::spawn(poll_loop(db, tx, interval, stop));
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.tx.subscribe()
    }

    /// Cancelled when the API shuts down; open streams end with it.
    pub fn stopped(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }
}

async fn poll_loop(
    db: DatabaseConnection,
    tx: broadcast::Sender<Update>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut poller = Poller::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if tx.receiver_count() == 0 {
            // Nobody listens: skip the queries, but do not replay history to the next client.
            poller.skip_to_now();
            continue;
        }
        match poller.poll(&db).await {
            Ok(updates) => {
                for update in updates {
                    let _ = tx.send(update);
                }
            }
            Err(e) => tracing::warn!(error = %e, "stream poll failed"),
        }
    }
}

struct Poller {
    runs_since: DateTime<Utc>,
    events_since: DateTime<Utc>,
    run_revisions: HashMap<Uuid, (i64, DateTime<Utc>)>,
    seen_events: HashMap<i64, DateTime<Utc>>,
}

impl Poller {
    fn new() -> Poller {
        let now = Utc::now();
        Poller {
            runs_since: now,
            events_since: now,
            run_revisions: HashMap::new(),
            seen_events: HashMap::new(),
        }
    }

    fn skip_to_now(&mut self) {
        let now = Utc::now();
        self.runs_since = now;
        self.events_since = now;
    }

    async fn poll(&mut self, db: &DatabaseConnection) -> Result<Vec<Update>, sea_orm::DbErr> {
        let overlap = chrono::Duration::from_std(OVERLAP).unwrap_or_default();
        let mut out = Vec::new();

        let runs = job_run::Entity::find()
            .filter(job_run::Column::UpdatedAt.gte(self.runs_since - overlap))
            .order_by_asc(job_run::Column::UpdatedAt)
            .limit(BATCH)
            .all(db)
            .await?;
        for run in runs {
            self.runs_since = self.runs_since.max(run.updated_at);
            let newer = self
                .run_revisions
                .get(&run.id)
                .is_none_or(|(rev, _)| run.revision > *rev);
            if newer {
                self.run_revisions
                    .insert(run.id, (run.revision, run.updated_at));
                out.push(Update::Run(Arc::new(run)));
            }
        }

        let events = run_event::Entity::find()
            .filter(run_event::Column::At.gte(self.events_since - overlap))
            .order_by_asc(run_event::Column::At)
            .order_by_asc(run_event::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        for event in events {
            self.events_since = self.events_since.max(event.at);
            if self.seen_events.insert(event.id, event.at).is_none() {
                out.push(Update::Log(Arc::new(event)));
            }
        }

        // Forget what can no longer come back through the overlap window.
        let runs_floor = self.runs_since - overlap * 2;
        self.run_revisions.retain(|_, (_, at)| *at >= runs_floor);
        let events_floor = self.events_since - overlap * 2;
        self.seen_events.retain(|_, at| *at >= events_floor);
        Ok(out)
    }
}
