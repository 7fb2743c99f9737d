//! `bulk_update`: push price and stock changes to eMAG through `offer/save`.
//!
//! A request is checked against the database first ([`plan`]); a good one is stored item
//! by item (`bulk_items`) with the run, so the run's parameters stay small and every item
//! keeps its own outcome. The handler sends chunks of at most 50 under the shared rate
//! limit, several in flight, and records each chunk's answer in one transaction with the
//! run's counters: a retry re-sends only the items whose answer was never recorded and
//! whose change eMAG does not already show.

mod fields;
pub mod input;
pub mod order_plan;
mod order_send;
pub mod plan;
mod reconcile;
mod result;
mod send;

use std::time::Duration;

use entity::{
    bulk_item::{self, ItemState},
    job_run,
};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use input::JsonItems;
pub use plan::{Cell, FieldDiff, PlannedItem, Problem, RawItem};
pub use result::result_csv;

use crate::{
    JobKind, Queue,
    context::JobContext,
    error::{JobError, SubmitError},
    job::{Job, Output},
    kind::RetryPolicy,
    params::ParamError,
    progress::Progress,
    runs::{self, NewRun},
    submit::{Created, Submitted},
};

pub struct BulkUpdateJob;

impl Job for BulkUpdateJob {
    const KIND: JobKind = JobKind::BulkUpdate;
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300));
    const TIMEOUT: Duration = Duration::from_secs(4 * 3600);
    const UNSCHEDULABLE: Option<&'static str> =
        Some("a bulk update carries its own items: send it to POST /api/v1/runs");
    const OUTPUT: Output = Output::ItemOutcomes;
    type Params = BulkUpdateParams;
    type Stored = StoredParams;

    fn validate(params: &BulkUpdateParams) -> Result<(), ParamError> {
        params.validate()
    }

    /// Its items go to `bulk_items` with the run, not into the run's parameters; only
    /// [`submit`](Job::submit) can store them.
    async fn insert_runs<C: sea_orm::ConnectionTrait + Sync>(
        _txn: &C,
        _db: &DatabaseConnection,
        _params: BulkUpdateParams,
        _max_attempts: Option<u32>,
    ) -> Result<Created, SubmitError> {
        Err(ParamError::new("kind", Self::UNSCHEDULABLE.unwrap_or_default()).into())
    }

    async fn submit(
        db: &DatabaseConnection,
        queue: &Queue,
        params: BulkUpdateParams,
        max_attempts: Option<u32>,
    ) -> Result<Submitted, SubmitError> {
        let items = params.items.into_items().map_err(SubmitError::Items)?;
        if params.dry_run {
            return Ok(Submitted::Preview(preview(db, &items).await?));
        }
        let run = accept(db, queue, &items, max_attempts).await?;
        Ok(Submitted::Queued(Box::new(run)))
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        stored: StoredParams,
        _attempt: u32,
    ) -> Result<(), JobError> {
        send::run(ctx, progress, stored).await
    }
}

/// `POST /api/v1/runs` parameters of kind `bulk_update`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdateParams {
    /// At most [`input::MAX_ITEMS`]: the reader stops at the next one.
    pub items: JsonItems,
    #[serde(default)]
    pub dry_run: bool,
}

impl BulkUpdateParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.items.is_empty() {
            return Err(ParamError::new(
                "params.items",
                "must hold at least one item",
            ));
        }
        Ok(())
    }
}

/// What a stored bulk run's `params` hold: the items live in `bulk_items`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredParams {
    pub items: u64,
}

/// A dry run: what each item would change; nothing is stored or sent.
pub async fn preview(
    db: &DatabaseConnection,
    items: &[RawItem],
) -> Result<Vec<PlannedItem>, SubmitError> {
    plan::plan(db, items).await?.map_err(SubmitError::Items)
}

/// Checks `items` against the database, then stores them with a new run and queues it.
pub async fn accept(
    db: &DatabaseConnection,
    queue: &Queue,
    items: &[RawItem],
    max_attempts: Option<u32>,
) -> Result<job_run::Model, SubmitError> {
    let planned = preview(db, items).await?;
    let mut accounts: Vec<&str> = planned.iter().map(|p| p.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let txn = crate::db::begin_write(db).await?;
    let run = runs::insert(
        &txn,
        NewRun {
            kind: JobKind::BulkUpdate,
            params: json!(StoredParams {
                items: planned.len() as u64
            }),
            account: (accounts.len() == 1).then(|| accounts[0].to_owned()),
            max_attempts: max_attempts.unwrap_or(BulkUpdateJob::RETRY.max_attempts),
            parent_id: None,
            lock_key: None,
        },
    )
    .await?;
    let now = chrono::Utc::now();
    let rows: Vec<bulk_item::ActiveModel> = planned
        .into_iter()
        .enumerate()
        .map(|(seq, p)| bulk_item::ActiveModel {
            run_id: Set(run.id),
            seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
            row: Set(i32::try_from(p.row).unwrap_or(i32::MAX)),
            account: Set(p.account),
            emag_id: Set(p.emag_id),
            part_number: Set(p.part_number),
            change: Set(Value::Object(p.change)),
            previous: Set(Value::Object(p.previous)),
            state: Set(ItemState::Pending),
            message: Set(None),
            updated_at: Set(now),
        })
        .collect();
    // Bind parameters per statement stay well under SQLite's and PostgreSQL's limits.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(1000).collect();
        bulk_item::Entity::insert_many(batch)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(runs::dispatch(db, queue, run, std::time::Duration::ZERO).await?)
}
