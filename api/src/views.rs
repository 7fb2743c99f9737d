//! Response bodies: how runs and their events look on the wire.
//!
//! Every object here and in `routes` leaves out a field that has no value rather than
//! sending `null` (`skip_serializing_if_is_none`): the OpenAPI document (3.0) declares
//! such fields optional, not nullable, and clients validate against it.

use chrono::{DateTime, Utc};
use entity::{job_run, run_event};
use jobs::{counters::Counters, job::Output, registry};
use poem_openapi::Object;
use serde_json::Value;
use uuid::Uuid;

use crate::enums::{Category, Kind, Level, Outcome, Status};

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct RunView {
    pub id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    pub parent_id: Option<Uuid>,
    pub kind: Kind,
    pub status: Status,
    pub account: Option<String>,
    pub params: Value,
    /// Attempts started so far.
    pub attempt: i32,
    pub max_attempts: i32,
    pub progress: ProgressView,
    pub checkpoint: Option<Value>,
    pub error: Option<RunErrorView>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// When a queued retry is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What the run produced: an export's file (`rows`, `bytes`, `format`), a bulk
    /// update's tally (`accepted`, `rejected`).
    pub result: Option<Value>,
    /// The schedule that started the run, if one did.
    #[oai(skip_serializing_if_is_none)]
    pub schedule_id: Option<Uuid>,
    /// The schedule's tick this run is for (the trigger time for a run started by hand).
    #[oai(skip_serializing_if_is_none)]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// When an operator discarded this dead letter.
    #[oai(skip_serializing_if_is_none)]
    pub discarded_at: Option<DateTime<Utc>>,
    pub links: RunLinks,
}

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct ProgressView {
    pub total: Option<i64>,
    pub processed: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub pages_done: i32,
    pub pages_total: Option<i32>,
    pub emag_requests: i64,
    pub rate_limit_waits: i64,
    /// eMAG requests that failed (each retried or reported).
    pub emag_errors: i64,
    /// 429 answers from eMAG.
    pub rate_limited: i64,
    /// Mean eMAG response time.
    pub emag_latency_ms: Option<f64>,
    /// A bulk update's items eMAG accepted (the same as `updated`).
    #[oai(skip_serializing_if_is_none)]
    pub accepted: Option<i64>,
    /// A bulk update's items eMAG rejected (the same as `failed`).
    #[oai(skip_serializing_if_is_none)]
    pub rejected: Option<i64>,
    /// processed ÷ total × 100, when the total is known.
    pub percent: Option<f64>,
    /// Items per second over the current attempt.
    pub throughput: Option<f64>,
    pub eta_seconds: Option<f64>,
}

#[derive(Object, Clone, Debug)]
pub struct RunErrorView {
    pub category: Category,
    pub message: String,
}

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct RunLinks {
    #[oai(rename = "self")]
    pub self_: String,
    pub events: String,
    pub cancel: String,
    /// A bulk update's outcome per item (CSV), or an export's file.
    #[oai(skip_serializing_if_is_none)]
    pub result: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub schedule: Option<String>,
}

impl ProgressView {
    fn new(c: &Counters, output: Output, throughput: Option<f64>, eta: Option<f64>) -> Self {
        let items = output == Output::ItemOutcomes;
        ProgressView {
            total: c.total,
            processed: c.processed,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            failed: c.failed,
            pages_done: c.pages_done,
            pages_total: c.pages_total,
            emag_requests: c.emag_requests,
            rate_limit_waits: c.rate_limit_waits,
            emag_errors: c.emag_errors,
            rate_limited: c.rate_limited,
            emag_latency_ms: c.mean_latency_ms(),
            accepted: items.then_some(c.updated),
            rejected: items.then_some(c.failed),
            percent: c.percent(),
            throughput,
            eta_seconds: eta,
        }
    }
}

impl From<&job_run::Model> for RunView {
    fn from(run: &job_run::Model) -> Self {
        let base = format!("/api/v1/runs/{}", run.id);
        let counters = Counters::from_run(run);
        let output = registry::output(run.kind);
        RunView {
            id: run.id,
            parent_id: run.parent_id,
            kind: run.kind.into(),
            status: run.status.into(),
            account: run.account.clone(),
            params: run.params.clone(),
            attempt: run.attempt,
            max_attempts: run.max_attempts,
            progress: ProgressView::new(&counters, output, run.throughput, run.eta_seconds),
            checkpoint: run.checkpoint.clone(),
            error: match (&run.error_category, &run.error_message) {
                (Some(category), message) => Some(RunErrorView {
                    category: (*category).into(),
                    message: message.clone().unwrap_or_default(),
                }),
                _ => None,
            },
            cancel_requested: run.cancel_requested,
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            updated_at: run.updated_at,
            next_attempt_at: run.next_attempt_at,
            result: run.result.clone(),
            schedule_id: run.schedule_id,
            scheduled_for: run.scheduled_for,
            discarded_at: run.discarded_at,
            links: RunLinks {
                schedule: run.schedule_id.map(|id| format!("/api/v1/schedules/{id}")),
                events: format!("{base}/events"),
                cancel: format!("{base}/cancel"),
                result: (output != Output::None).then(|| format!("{base}/result")),
                self_: base,
            },
        }
    }
}

/// One log line of a run.
#[derive(Object, Clone, Debug)]
pub struct EventView {
    pub id: i64,
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    pub level: Level,
    pub message: String,
    /// On the lines that start and end an attempt: its number.
    #[oai(skip_serializing_if_is_none)]
    pub attempt: Option<i32>,
    /// On the line that ends an attempt: how it ended.
    #[oai(skip_serializing_if_is_none)]
    pub outcome: Option<Outcome>,
    /// On the line that ends a failed attempt: why.
    #[oai(skip_serializing_if_is_none)]
    pub error_category: Option<Category>,
}

impl From<&run_event::Model> for EventView {
    fn from(e: &run_event::Model) -> Self {
        EventView {
            id: e.id,
            run_id: e.run_id,
            at: e.at,
            level: e.level.into(),
            message: e.message.clone(),
            attempt: e.attempt,
            outcome: e.outcome.map(Into::into),
            error_category: e.error_category.map(Into::into),
        }
    }
}

/// What the SSE and WebSocket streams send: a run's new state, or a log line.
#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct StreamMessage {
    /// `progress` (with `run`), `log` (with `event`), or `end` (with `run`, the final state).
    #[oai(rename = "type")]
    pub kind: String,
    #[oai(skip_serializing_if_is_none)]
    pub run: Option<RunView>,
    #[oai(skip_serializing_if_is_none)]
    pub event: Option<EventView>,
}

impl StreamMessage {
    pub fn progress(run: &job_run::Model) -> Self {
        StreamMessage {
            kind: "progress".into(),
            run: Some(run.into()),
            event: None,
        }
    }

    pub fn end(run: &job_run::Model) -> Self {
        StreamMessage {
            kind: "end".into(),
            run: Some(run.into()),
            event: None,
        }
    }

    pub fn log(event: &run_event::Model) -> Self {
        StreamMessage {
            kind: "log".into(),
            run: None,
            event: Some(event.into()),
        }
    }
}

/// A bulk update's dry run: each item and what it would change.
#[derive(Object, Clone, Debug)]
pub struct BulkPreview {
    /// Items that would be sent.
    pub count: u64,
    pub items: Vec<ItemPreview>,
}

#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct ItemPreview {
    pub row: u32,
    pub account: String,
    pub id: i64,
    pub part_number: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// One field: what the database holds now and what would be sent.
#[derive(Object, Clone, Debug)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

impl From<Vec<jobs::bulk_update::PlannedItem>> for BulkPreview {
    fn from(items: Vec<jobs::bulk_update::PlannedItem>) -> Self {
        BulkPreview {
            count: items.len() as u64,
            items: items
                .into_iter()
                .map(|p| ItemPreview {
                    changes: p
                        .diff()
                        .into_iter()
                        .map(|d| FieldChange {
                            field: d.field,
                            from: d.from,
                            to: d.to,
                        })
                        .collect(),
                    row: p.row,
                    account: p.account,
                    id: p.emag_id,
                    part_number: p.part_number,
                })
                .collect(),
        }
    }
}
