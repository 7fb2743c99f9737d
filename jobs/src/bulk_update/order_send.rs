//! Sending order items, one order at a time: eMAG's order is read first, so a change an
//! interrupted attempt already made (or someone made at eMAG) is recorded, not made again;
//! then `order/acknowledge`, or `order/save` with every field as read (plus the
//! cancellation reason), and the invoice for a finalised order through
//! `order/attachments/save`. The stored order is read again after each change.

use chrono_tz::Tz;
use entity::bulk_item::{self, ItemState};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use super::{
    order_plan::Action,
    send::{Failure, mark_sent},
};
use crate::{
    context::JobContext,
    emag::{
        EmagClient, EmagError,
        types::{OrderFilter, Parsed},
    },
    progress::{ItemOutcome, Level, Progress},
    sync::store,
};

/// Seller-fulfilled orders: the only ones a seller moves.
const ORDER_TYPE: i64 = 3;

/// What eMAG said to one order's change.
enum Answer {
    /// Made now, or (`already`) eMAG showed all of it before anything was sent.
    Done {
        already: bool,
    },
    Refused(String),
}

pub(super) async fn send_orders(
    ctx: &JobContext,
    progress: &mut Progress,
    client: &EmagClient,
    tz: Tz,
    items: Vec<bulk_item::Model>,
) -> Result<(), Failure> {
    let mut already = 0usize;
    for item in items {
        mark_sent(ctx, progress, std::slice::from_ref(&item)).await?;
        let answer = match apply(client, &item).await {
            Ok(answer) => answer,
            // Refused for good: the item's answer. Anything else ends the attempt, and
            // the next one reads the order before it sends anything.
            Err(EmagError::Validation { messages }) => Answer::Refused(messages.join("; ")),
            Err(EmagError::NotFound { message }) => Answer::Refused(message),
            Err(e) => return Err(Failure::Emag(e)),
        };
        progress.track_emag(client.stats());
        let fresh = match &answer {
            Answer::Done { already: shown } => {
                already += usize::from(*shown);
                let filter = OrderFilter {
                    order_type: ORDER_TYPE,
                    id: u64::try_from(item.emag_id).ok(),
                    ..OrderFilter::default()
                };
                client
                    .read_orders(&filter, 1, 1)
                    .await
                    .map_err(Failure::Emag)?
            }
            Answer::Refused(_) => Vec::new(),
        };
        record(ctx, progress, &item, answer, tz, fresh).await?;
        progress.tick().await?;
    }
    if already > 0 {
        progress.log(
            Level::Info,
            format!(
                "{already} orders already showed their change at eMAG (made by an interrupted attempt, or at eMAG): recorded, not sent again"
            ),
        );
    }
    Ok(())
}

/// Reads the order and makes what of the change eMAG does not show yet.
async fn apply(client: &EmagClient, item: &bulk_item::Model) -> Result<Answer, EmagError> {
    let change = &item.change;
    let action = change
        .get("action")
        .and_then(Value::as_str)
        .and_then(Action::from_name)
        .unwrap_or(Action::Acknowledge);
    let Ok(id) = u64::try_from(item.emag_id) else {
        return Ok(Answer::Refused("not an eMAG order id".into()));
    };
    let Some(mut order) = client.order_as_read(id, ORDER_TYPE).await? else {
        return Ok(Answer::Refused(format!(
            "eMAG lists no seller-fulfilled order {id}"
        )));
    };
    let status = order.get("status").and_then(as_i64);
    let target = action.target();
    let mut sent = false;
    if status != Some(target) {
        sent = true;
        if action == Action::Acknowledge {
            client.order_acknowledge(id).await?;
        } else {
            order["status"] = json!(target);
            if let Some(reason) = change.get("reason") {
                order["reason_cancellation"] = reason.clone();
            }
            client.order_save(&[order.clone()]).await?;
        }
    }
    if let Some(url) = change.get("invoice_url").and_then(Value::as_str) {
        let attached = order["attachments"]
            .as_array()
            .is_some_and(|list| list.iter().any(|a| a["url"].as_str() == Some(url)));
        if !attached {
            sent = true;
            let name = format!("Factura comanda {id}");
            client
                .order_attachment_save(id, ORDER_TYPE, &name, url, 1)
                .await?;
        }
    }
    Ok(Answer::Done { already: !sent })
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The item's answer, the stored order as eMAG now shows it and the run's counters, in
/// one transaction.
async fn record(
    ctx: &JobContext,
    progress: &mut Progress,
    item: &bulk_item::Model,
    answer: Answer,
    tz: Tz,
    fresh: Vec<Parsed<crate::emag::types::Order>>,
) -> Result<(), crate::error::JobError> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = chrono::Utc::now();
    let (state, message) = match answer {
        Answer::Done { .. } => (ItemState::Accepted, None),
        Answer::Refused(message) => {
            progress.log(
                Level::Warn,
                format!(
                    "row {}: order {} refused: {message}",
                    item.row, item.emag_id
                ),
            );
            (ItemState::Rejected, Some(message))
        }
    };
    if !fresh.is_empty() {
        store::save_orders(&txn, &item.account, tz, fresh, now).await?;
    }
    bulk_item::Entity::update_many()
        .col_expr(bulk_item::Column::State, Expr::value(state))
        .col_expr(bulk_item::Column::Message, Expr::value(message))
        .col_expr(bulk_item::Column::UpdatedAt, Expr::value(now))
        .filter(bulk_item::Column::RunId.eq(item.run_id))
        .filter(bulk_item::Column::Seq.eq(item.seq))
        .exec(&txn)
        .await?;
    let outcome = if state == ItemState::Accepted {
        ItemOutcome::Updated
    } else {
        ItemOutcome::Failed
    };
    progress.record(outcome, 1);
    progress.flush_with(&txn).await?;
    txn.commit().await?;
    Ok(())
}
