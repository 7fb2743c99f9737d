//! Sending a stored bulk update: chunks of at most 50 offers per account through
//! `offer/save`, several in flight, each chunk's answer recorded in one transaction; then
//! the account's orders (`order_send`).

use std::collections::BTreeMap;

use entity::{
    bulk_item::{self, ItemState},
    offer,
};
use futures::{StreamExt, stream::FuturesOrdered};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::{Value, json};

use super::{StoredParams, order_plan::is_order_change, order_send::send_orders, reconcile};
use crate::{
    context::JobContext,
    emag::{EmagClient, EmagError, bulk::MAX_BULK, types::BulkOutcome},
    error::JobError,
    progress::{ItemOutcome, Level, Progress},
    spawned::InOrder,
    sync::{fatal, open_client},
};

/// Chunks requested ahead (each still waits for its slot in the shared limit): the limit
/// allows three requests a second and a save can take seconds to answer, so 16 keep the
/// budget busy up to about 5 s per answer.
const IN_FLIGHT: usize = 16;

/// Rejected items named one by one in the run's log, per chunk.
const LOGGED_REJECTIONS: usize = 3;

type ChunkAnswer = (Vec<bulk_item::Model>, Result<BulkOutcome, EmagError>);

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: StoredParams,
) -> Result<(), JobError> {
    let run_id = progress.run_id();
    let db = &ctx.db;
    progress.set_total(params.items);
    let todo = bulk_item::Entity::find()
        .filter(bulk_item::Column::RunId.eq(run_id))
        .filter(bulk_item::Column::State.is_in([ItemState::Pending, ItemState::Sent]))
        .order_by_asc(bulk_item::Column::Seq)
        .all(db)
        .await?;
    let mut by_account: BTreeMap<String, Vec<bulk_item::Model>> = BTreeMap::new();
    for item in todo {
        by_account
            .entry(item.account.clone())
            .or_default()
            .push(item);
    }
    for (account, items) in by_account {
        let (row, client) = open_client(ctx, &account).await?;
        let (orders, offers): (Vec<_>, Vec<_>) =
            items.into_iter().partition(|i| is_order_change(&i.change));
        let tz = crate::clock::platform_tz(row.platform);
        let result = match skip_applied(ctx, progress, &client, offers).await {
            Ok(offers) => match send_account(ctx, progress, &client, offers).await {
                Ok(()) => send_orders(ctx, progress, &client, tz, orders).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        progress.track_emag(client.stats());
        if let Err(e) = result {
            return Err(match e {
                Failure::Job(e) => e,
                Failure::Emag(e) if e.is_retryable() => JobError::transient(format!(
                    "eMAG kept failing for account {account:?} ({e}); the items without an answer are checked and sent again"
                )),
                Failure::Emag(e) => fatal(&account, e),
            });
        }
    }
    let tally = |state: ItemState| async move {
        bulk_item::Entity::find()
            .filter(bulk_item::Column::RunId.eq(run_id))
            .filter(bulk_item::Column::State.eq(state))
            .count(db)
            .await
    };
    let (accepted, rejected) = (
        tally(ItemState::Accepted).await?,
        tally(ItemState::Rejected).await?,
    );
    progress.set_result(json!({ "accepted": accepted, "rejected": rejected }));
    progress.log(
        if rejected > 0 { Level::Warn } else { Level::Info },
        format!(
            "{accepted} items accepted, {rejected} rejected by eMAG; per item: GET /api/v1/runs/{run_id}/result"
        ),
    );
    Ok(())
}

pub(super) enum Failure {
    Job(JobError),
    Emag(EmagError),
}

impl From<JobError> for Failure {
    fn from(e: JobError) -> Self {
        Failure::Job(e)
    }
}

/// Records the items of `items` that an interrupted attempt sent and eMAG already shows
/// (they are not sent again); returns the rest.
async fn skip_applied(
    ctx: &JobContext,
    progress: &mut Progress,
    client: &EmagClient,
    items: Vec<bulk_item::Model>,
) -> Result<Vec<bulk_item::Model>, Failure> {
    let unanswered: Vec<bulk_item::Model> = items
        .iter()
        .filter(|i| i.state == ItemState::Sent)
        .cloned()
        .collect();
    if unanswered.is_empty() {
        return Ok(items);
    }
    let applied = reconcile::already_applied(client, &unanswered)
        .await
        .map_err(Failure::Emag)?;
    progress.track_emag(client.stats());
    let (done, todo): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| applied.contains(&i.seq));
    for chunk in done.chunks(MAX_BULK) {
        // No answer to record: an item missing from the outcomes counts as accepted.
        record(ctx, progress, chunk, &BulkOutcome::new()).await?;
    }
    progress.log(
        Level::Info,
        format!(
            "{} items were sent by an interrupted attempt without an answer; eMAG already shows {} of them (recorded, not sent again), the rest are sent",
            unanswered.len(),
            done.len()
        ),
    );
    Ok(todo)
}

/// Sends one account's items; on a failed chunk, waits for the chunks already in flight
/// (their answers are recorded) and returns the failure.
async fn send_account(
    ctx: &JobContext,
    progress: &mut Progress,
    client: &EmagClient,
    items: Vec<bulk_item::Model>,
) -> Result<(), Failure> {
    let mut chunks = items
        .chunks(MAX_BULK)
        .map(<[bulk_item::Model]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    let mut in_flight = FuturesOrdered::new();
    let mut queue = InOrder::default();
    let mut failure: Option<EmagError> = None;
    loop {
        while failure.is_none() && in_flight.len() < IN_FLIGHT {
            let Some(chunk) = chunks.next() else { break };
            mark_sent(ctx, progress, &chunk).await?;
            let body: Vec<Value> = chunk.iter().map(request_item).collect();
            let client = client.clone();
            let request = queue.spawn(async move { client.save_chunk("offer/save", &body).await });
            in_flight.push_back(async move {
                let answer = request.await.unwrap_or_else(|e| {
                    Err(EmagError::Transport(format!(
                        "the request's task ended: {e}"
                    )))
                });
                (chunk, answer)
            });
        }
        let Some((chunk, answer)): Option<ChunkAnswer> = in_flight.next().await else {
            break;
        };
        progress.track_emag(client.stats());
        match answer {
            Ok(outcomes) => record(ctx, progress, &chunk, &outcomes).await?,
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
        if failure.is_none() {
            progress.tick().await?;
        }
    }
    match failure {
        Some(e) => Err(Failure::Emag(e)),
        None => Ok(()),
    }
}

/// The `offer/save` entry of one item: stock and handling time for warehouse 1.
fn request_item(item: &bulk_item::Model) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("id".into(), json!(item.emag_id));
    for (field, value) in item.change.as_object().into_iter().flatten() {
        let v = match field.as_str() {
            "stock" | "handling_time" => json!([{ "warehouse_id": 1, "value": value }]),
            _ => value.clone(),
        };
        body.insert(field.clone(), v);
    }
    Value::Object(body)
}

/// Marks a chunk as sent before it goes to eMAG, in the name of the run's current holder
/// only: an attempt that lost its run (its lease ran out and another worker took over)
/// stops here, before its next eMAG write.
pub(super) async fn mark_sent(
    ctx: &JobContext,
    progress: &Progress,
    chunk: &[bulk_item::Model],
) -> Result<(), JobError> {
    let Some(first) = chunk.first() else {
        return Ok(());
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    if !progress.still_holds(&txn).await? {
        return Err(JobError::Interrupted);
    }
    bulk_item::Entity::update_many()
        .col_expr(bulk_item::Column::State, Expr::value(ItemState::Sent))
        .col_expr(
            bulk_item::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(bulk_item::Column::RunId.eq(first.run_id))
        .filter(bulk_item::Column::Seq.is_in(chunk.iter().map(|i| i.seq)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// One chunk's answer, the database copy of the accepted offers and the run's counters,
/// in one transaction.
async fn record(
    ctx: &JobContext,
    progress: &mut Progress,
    chunk: &[bulk_item::Model],
    outcomes: &BulkOutcome,
) -> Result<(), JobError> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = chrono::Utc::now();
    let mut accepted = Vec::new();
    let mut rejected = 0u64;
    for item in chunk {
        let outcome = u64::try_from(item.emag_id)
            .ok()
            .and_then(|id| outcomes.get(&id));
        match outcome {
            Some(o) if !o.accepted => {
                rejected += 1;
                let message = if o.messages.is_empty() {
                    "rejected by eMAG without a message".to_owned()
                } else {
                    o.messages.join("; ")
                };
                if rejected as usize <= LOGGED_REJECTIONS {
                    progress.log(
                        Level::Warn,
                        format!(
                            "row {}: offer {} rejected: {message}",
                            item.row, item.emag_id
                        ),
                    );
                }
                bulk_item::Entity::update_many()
                    .col_expr(bulk_item::Column::State, Expr::value(ItemState::Rejected))
                    .col_expr(bulk_item::Column::Message, Expr::value(message))
                    .col_expr(bulk_item::Column::UpdatedAt, Expr::value(now))
                    .filter(bulk_item::Column::RunId.eq(item.run_id))
                    .filter(bulk_item::Column::Seq.eq(item.seq))
                    .exec(&txn)
                    .await?;
            }
            _ => {
                accepted.push(item.seq);
                update_offer(&txn, item, now).await?;
            }
        }
    }
    if let Some(first) = chunk.first() {
        bulk_item::Entity::update_many()
            .col_expr(bulk_item::Column::State, Expr::value(ItemState::Accepted))
            .col_expr(bulk_item::Column::UpdatedAt, Expr::value(now))
            .filter(bulk_item::Column::RunId.eq(first.run_id))
            .filter(bulk_item::Column::Seq.is_in(accepted.iter().copied()))
            .exec(&txn)
            .await?;
    }
    progress.record(ItemOutcome::Updated, accepted.len() as u64);
    progress.record(ItemOutcome::Failed, rejected);
    progress.page_done();
    progress.flush_with(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The database copy of an offer eMAG accepted a change to.
async fn update_offer<C: ConnectionTrait>(
    db: &C,
    item: &bulk_item::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), JobError> {
    let mut update = offer::Entity::update_many()
        .col_expr(offer::Column::UpdatedAt, Expr::value(now))
        .filter(offer::Column::Account.eq(item.account.as_str()))
        .filter(offer::Column::EmagId.eq(item.emag_id));
    for (field, value) in item.change.as_object().into_iter().flatten() {
        let money = || value.as_str().and_then(|s| s.parse::<Decimal>().ok());
        update = match field.as_str() {
            "sale_price" => update.col_expr(offer::Column::SalePrice, Expr::value(money())),
            "recommended_price" => {
                update.col_expr(offer::Column::RecommendedPrice, Expr::value(money()))
            }
            "min_sale_price" => update.col_expr(offer::Column::MinSalePrice, Expr::value(money())),
            "max_sale_price" => update.col_expr(offer::Column::MaxSalePrice, Expr::value(money())),
            "status" => update.col_expr(
                offer::Column::Status,
                Expr::value(value.as_i64().and_then(|n| i32::try_from(n).ok())),
            ),
            "stock" => update
                .col_expr(
                    offer::Column::Stock,
                    Expr::value(json!([{ "warehouse_id": 1, "value": value }])),
                )
                .col_expr(offer::Column::GeneralStock, Expr::value(value.as_i64()))
                .col_expr(offer::Column::EstimatedStock, Expr::value(value.as_i64())),
            _ => update,
        };
    }
    update.exec(db).await?;
    Ok(())
}
