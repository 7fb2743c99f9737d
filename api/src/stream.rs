//! One poller per API process reads what changed since its last read and fans it out to
//! every SSE and WebSocket client through a broadcast channel: the database sees one
//! query per interval however many clients watch.
//!
//! Rows are read with an overlap window and de-duplicated by revision (runs) and id
//! (events), because a row written by another process may commit slightly after a later
//! timestamp was already read. The window is read a page at a time on `(timestamp, id)`,
//! so any number of rows sharing one second (5,000 log lines, 2,000 runs resumed at once)
//! all come through: a `LIMIT` on a time window alone would return the same first page
//! on every poll and the stream would freeze.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::{job_run, run_event};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
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
        // A client that falls further behind than this catches up from the database.
        let (tx, _) = broadcast::channel(16_384);
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

        let mut cursor = (self.runs_since - overlap, Uuid::nil());
        loop {
            let page = job_run::Entity::find()
                .filter(after(
                    job_run::Column::UpdatedAt,
                    job_run::Column::Id,
                    cursor.0,
                    cursor.1,
                ))
                .order_by_asc(job_run::Column::UpdatedAt)
                .order_by_asc(job_run::Column::Id)
                .limit(BATCH)
                .all(db)
                .await?;
            let full = page.len() as u64 == BATCH;
            for run in page {
                cursor = (run.updated_at, run.id);
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
            if !full {
                break;
            }
        }

        let mut cursor = (self.events_since - overlap, i64::MIN);
        loop {
            let page = run_event::Entity::find()
                .filter(after(
                    run_event::Column::At,
                    run_event::Column::Id,
                    cursor.0,
                    cursor.1,
                ))
                .order_by_asc(run_event::Column::At)
                .order_by_asc(run_event::Column::Id)
                .limit(BATCH)
                .all(db)
                .await?;
            let full = page.len() as u64 == BATCH;
            for event in page {
                cursor = (event.at, event.id);
                self.events_since = self.events_since.max(event.at);
                if self.seen_events.insert(event.id, event.at).is_none() {
                    out.push(Update::Log(Arc::new(event)));
                }
            }
            if !full {
                break;
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

/// Rows after `(at, id)` in `(time, id)` order: the keyset of one page.
fn after<C: ColumnTrait, V: Into<sea_orm::Value> + Clone>(
    time: C,
    id: C,
    at: DateTime<Utc>,
    last: V,
) -> Condition {
    Condition::any()
        .add(time.gt(at))
        .add(Condition::all().add(time.eq(at)).add(id.gt(last)))
}
