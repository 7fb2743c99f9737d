//! The state machine's table, the code, and the writes agree: every event is performed on
//! a run in every status against a real SQLite database.

use std::time::Duration;

use chrono::Utc;
use entity::job_run::{self, RunStatus};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::{Claim, Ending, Event, Holder, cancel, reap, retry};
use crate::{
    Config,
    error::ErrorCategory,
    kind::{JobKind, RetryPolicy},
    queue::Queue,
    runs::{self, NewRun},
};

/// The rows of the table in `mod.rs`'s documentation: event, from, to.
fn documented() -> Vec<(String, Vec<String>, String)> {
    include_str!("mod.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//! |"))
        .map(|row| {
            row.split('|')
                .map(|cell| cell.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|cells| cells[0] != "event" && !cells[0].starts_with('-'))
        .map(|cells| {
            let from = cells[1].split(", ").map(str::to_owned).collect();
            (cells[0].clone(), from, cells[2].clone())
        })
        .collect()
}

#[test]
fn the_documented_table_is_the_code() {
    let rows = documented();
    assert_eq!(rows.len(), Event::ALL.len(), "one row per event");
    for (event, (name, from, to)) in Event::ALL.into_iter().zip(rows) {
        assert_eq!(event.name(), name, "rows are in the order of Event::ALL");
        let code_from: Vec<&str> = event.from().iter().map(|s| s.as_str()).collect();
        assert_eq!(code_from, from, "{name}: from");
        let code_to = event.to().map_or("=", RunStatus::as_str);
        assert_eq!(code_to, to, "{name}: to");
    }
}

#[test]
fn next_follows_the_table() {
    for event in Event::ALL {
        for status in RunStatus::ALL {
            let expected = event
                .from()
                .contains(&status)
                .then(|| event.to().unwrap_or(status));
            assert_eq!(event.next(status), expected, "{event:?} from {status:?}");
        }
    }
    // Nothing leaves a succeeded run.
    assert!(
        Event::ALL
            .iter()
            .all(|e| e.next(RunStatus::Succeeded).is_none())
    );
}

struct Store {
    db: DatabaseConnection,
    queue: Queue,
    dir: std::path::PathBuf,
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn store() -> Store {
    let dir = std::env::temp_dir().join(format!("magflow-lifecycle-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.join(name).display());
    let config = Config::from_sources(
        None,
        [
            ("MAGFLOW_DATABASE_URL".to_owned(), url("runs.db")),
            ("MAGFLOW_QUEUE_URL".to_owned(), url("queue.db")),
        ],
    )
    .unwrap();
    let db = crate::db::connect(&config).await.unwrap();
    crate::db::migrate(&db).await.unwrap();
    let queue = Queue::connect(&config).await.unwrap();
    Store { db, queue, dir }
}

const WORKER: &str = "w1";

/// A run in `status`, held by [`WORKER`] in attempt 1 of 3 with a heartbeat an hour old.
async fn run_in(db: &DatabaseConnection, status: RunStatus) -> job_run::Model {
    let run = runs::insert(
        db,
        NewRun {
            kind: JobKind::Ping,
            params: json!({}),
            account: None,
            max_attempts: 3,
            parent_id: None,
            lock_key: None,
        },
    )
    .await
    .unwrap();
    let old = Utc::now() - chrono::Duration::hours(1);
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(status))
        .col_expr(job_run::Column::Attempt, Expr::value(1))
        .col_expr(job_run::Column::WorkerId, Expr::value(WORKER))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(old))
        .col_expr(job_run::Column::NextAttemptAt, Expr::value(old))
        .filter(job_run::Column::Id.eq(run.id))
        .exec(db)
        .await
        .unwrap();
    runs::find(db, run.id).await.unwrap().unwrap()
}

fn failure() -> (ErrorCategory, String) {
    (ErrorCategory::Transient, "it broke".to_owned())
}

/// Performs `event` on `run` through the function the table names for it.
async fn perform(store: &Store, event: Event, run: &job_run::Model) {
    let db = &store.db;
    let holder = Holder::of(run, WORKER);
    let (category, message) = failure();
    let end = |ending: Ending| async move { super::end_attempt(db, &holder, &ending, None).await };
    match event {
        Event::Claim => {
            super::claim(db, run.id, "w2", Duration::from_secs(30))
                .await
                .map(drop)
                .unwrap();
        }
        Event::Heartbeat => {
            super::heartbeat(db, &Holder::of(run, WORKER))
                .await
                .unwrap();
        }
        Event::Succeed => {
            end(Ending::Succeeded).await.unwrap();
        }
        Event::Stop => {
            end(Ending::Cancelled).await.unwrap();
        }
        Event::Fail => {
            end(Ending::Failed { category, message }).await.unwrap();
        }
        Event::Die => {
            end(Ending::Dead { category, message }).await.unwrap();
        }
        Event::Requeue => {
            end(Ending::Retry {
                category,
                message,
                delay: Duration::from_secs(5),
            })
            .await
            .unwrap();
        }
        Event::TakeOver => {
            reap::take_over(db, run, Utc::now()).await.unwrap();
        }
        Event::Bury => {
            reap::bury_lost(db, run, None).await.unwrap();
        }
        Event::Unstartable => {
            super::fail_unstartable(db, run.id, ErrorCategory::BadPayload, "unreadable")
                .await
                .unwrap();
        }
        Event::Cancel => {
            cancel::cancel_queued(db, run.id).await.unwrap();
        }
        Event::AskToCancel => {
            cancel::ask_to_cancel(db, run.id).await.unwrap();
        }
        Event::Retry => {
            let policy: retry::Policy = |_| RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(1),
            };
            retry::retry(db, &store.queue, run.id, policy)
                .await
                .unwrap();
        }
        Event::Discard => {
            retry::discard(db, run.id).await.unwrap();
        }
    }
}

/// What shows that `event` happened to a run that was `before`.
fn happened(event: Event, before: &job_run::Model, after: &job_run::Model) -> bool {
    match event {
        Event::Heartbeat => after.heartbeat_at > before.heartbeat_at,
        Event::AskToCancel => after.cancel_requested,
        Event::Discard => after.discarded_at.is_some(),
        _ => after.revision > before.revision,
    }
}

#[tokio::test]
async fn every_event_from_every_status() {
    let store = store().await;
    for event in Event::ALL {
        for status in RunStatus::ALL {
            let before = run_in(&store.db, status).await;
            perform(&store, event, &before).await;
            let after = runs::find(&store.db, before.id).await.unwrap().unwrap();
            let name = format!("{} from {}", event.name(), status.as_str());
            match event.next(status) {
                Some(to) => {
                    assert_eq!(after.status, to, "{name}: the table allows it");
                    assert!(happened(event, &before, &after), "{name}: nothing written");
                }
                None => {
                    assert_eq!(after, before, "{name}: the table forbids it, yet it wrote");
                }
            }
        }
    }
}

/// The one-statement claim takes a run only when the careful one would: not before it is
/// due, not past its attempts, not while its queue is paused, and on the same terms
/// (a new attempt, the first start kept).
#[tokio::test]
async fn a_claim_takes_only_a_ready_run() {
    let store = store().await;
    let db = &store.db;
    let lease = Duration::from_secs(30);
    let set = |id: Uuid, column: job_run::Column, value: sea_orm::Value| async move {
        job_run::Entity::update_many()
            .col_expr(column, Expr::value(value))
            .filter(job_run::Column::Id.eq(id))
            .exec(db)
            .await
            .unwrap();
    };

    let later = run_in(db, RunStatus::Queued).await;
    let in_an_hour = Utc::now() + chrono::Duration::hours(1);
    set(later.id, job_run::Column::NextAttemptAt, in_an_hour.into()).await;
    let claim = super::claim(db, later.id, "w2", lease).await.unwrap();
    assert!(matches!(claim, Claim::NotNow(..)), "{claim:?}");

    let spent = run_in(db, RunStatus::Queued).await;
    set(spent.id, job_run::Column::Attempt, 3.into()).await;
    let claim = super::claim(db, spent.id, "w2", lease).await.unwrap();
    assert!(matches!(claim, Claim::Buried(..)), "{claim:?}");

    let held = run_in(db, RunStatus::Queued).await;
    crate::queues::set_paused(db, &store.queue, JobKind::Ping, true, "test")
        .await
        .unwrap();
    let claim = super::claim(db, held.id, "w2", lease).await.unwrap();
    assert!(matches!(claim, Claim::Held(..)), "{claim:?}");
    crate::queues::set_paused(db, &store.queue, JobKind::Ping, false, "test")
        .await
        .unwrap();

    let started = Utc::now() - chrono::Duration::minutes(5);
    set(held.id, job_run::Column::StartedAt, Some(started).into()).await;
    let Claim::Claimed(run) = super::claim(db, held.id, "w2", lease).await.unwrap() else {
        panic!("a ready run is claimed");
    };
    let stored = runs::find(db, held.id).await.unwrap().unwrap();
    assert_eq!(run, stored, "the claim returns the row as written");
    assert_eq!(
        (run.status, run.attempt, run.worker_id.as_deref()),
        (RunStatus::Running, 2, Some("w2"))
    );
    assert_eq!(
        run.started_at.map(|t| t.timestamp()),
        Some(started.timestamp())
    );
    assert_eq!(run.next_attempt_at, None);
}
