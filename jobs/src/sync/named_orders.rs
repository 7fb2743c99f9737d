//! Orders read by id: what an eMAG callback asks for, and what acknowledging an order
//! reads again. Each order is written in its own transaction, so a retried attempt
//! reads again only what it had not stored.

use chrono::Utc;
use entity::emag_account::AccountKind;

use super::{Session, store};
use crate::{
    emag::types::{Order, OrderFilter, Parsed},
    error::{ErrorCategory, JobError},
    progress::{ItemOutcome, Level, Progress},
};

/// Reads `params.order_ids`, and acknowledges those that are new when the run asks.
pub(super) async fn run(s: &mut Session<'_>, progress: &mut Progress) -> Result<(), JobError> {
    let ids = s.params.order_ids.clone();
    progress.set_total(ids.len() as u64);
    let mut to_acknowledge = Vec::new();
    for id in ids {
        match read(s, progress, id, true).await? {
            Some(order)
                if s.params.acknowledge
                    && order.status == 1
                    && order.order_type.unwrap_or(3) == 3 =>
            {
                to_acknowledge.push(id);
            }
            Some(_) => {}
            None => {
                progress.record(ItemOutcome::Failed, 1);
                progress.log(Level::Warn, format!("order {id}: eMAG does not list it"));
            }
        }
        progress.tick().await?;
    }
    if !to_acknowledge.is_empty() {
        acknowledge(s, progress, to_acknowledge).await?;
    }
    Ok(())
}

/// Reads one order and stores it; `None` when eMAG lists no order with that id. The
/// account's own order type is asked first (a missing `type` means 3 to eMAG). `count`:
/// the order is one of the run's items (not a read again after acknowledging it).
async fn read(
    s: &mut Session<'_>,
    progress: &mut Progress,
    id: u64,
    count: bool,
) -> Result<Option<Order>, JobError> {
    let types = match s.account.kind {
        AccountKind::Fbe => [2, 3],
        AccountKind::Main => [3, 2],
    };
    for order_type in types {
        let filter = OrderFilter {
            order_type,
            id: Some(id),
            ..OrderFilter::default()
        };
        let found: Vec<Parsed<Order>> = s
            .fetch(progress, &format!("order/read {id}"), |c| {
                let f = filter.clone();
                async move { c.read_orders(&f, 1, 1).await }
            })
            .await?;
        let order = found.iter().find_map(|p| p.item.as_ref().ok()).cloned();
        if found.is_empty() {
            continue;
        }
        let txn = s.begin_page().await?;
        let outcome = store::save_orders(&txn, s.name(), s.tz, found, Utc::now()).await?;
        if count {
            s.record(progress, &outcome.page);
        }
        txn.commit().await?;
        return Ok(order);
    }
    Ok(None)
}

/// Acknowledges seller-fulfilled orders (1 → 2), then reads each again so the database
/// holds what eMAG now says, not what we assume. An order eMAG refuses is logged and
/// left as it is.
pub(super) async fn acknowledge(
    s: &mut Session<'_>,
    progress: &mut Progress,
    ids: Vec<u64>,
) -> Result<(), JobError> {
    let mut acknowledged = 0;
    for id in ids {
        match s
            .fetch(
                progress,
                &format!("order/acknowledge {id}"),
                |c| async move { c.order_acknowledge(id).await },
            )
            .await
        {
            Ok(()) => acknowledged += 1,
            Err(JobError::Permanent {
                category: ErrorCategory::EmagRejected,
                message,
            }) => {
                progress.log(
                    Level::Warn,
                    format!("order {id} not acknowledged: {message}"),
                );
                continue;
            }
            Err(e) => return Err(e),
        }
        read(s, progress, id, false).await?;
        progress.tick().await?;
    }
    progress.log(
        Level::Info,
        format!("acknowledged {acknowledged} new orders"),
    );
    Ok(())
}
