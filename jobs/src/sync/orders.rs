//! Orders: each type asked for explicitly (a missing `type` means 3), over date windows
//! of at most a month, de-duplicated by id across shifting pages; incremental runs ask
//! for changes since the last sync's highest `modified`, in eMAG's own clock.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use entity::{order, sync_state};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use super::{Mode, Session, clock, named_orders, record_success, store};
use crate::{
    emag::types::{Order, OrderFilter, Parsed},
    error::JobError,
    progress::{Level, Progress},
};

/// 2 fulfilled by eMAG, 3 by the seller.
const TYPES: [i64; 2] = [2, 3];

/// How far before the last high-water mark an incremental sync starts again, for
/// changes eMAG stamped late.
const OVERLAP: Duration = Duration::minutes(15);

/// How far back a full sync without a date range reads.
const FULL_DAYS: i64 = 365;

/// One (type, window) to read, with its count when the plan was made.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Step {
    order_type: i64,
    after: String,
    before: String,
    count: u64,
    /// The window reaches past the plan's "now": new orders may still land in it.
    open: bool,
}

/// Fixed on the first attempt and kept in the checkpoint, so every attempt walks the
/// same windows.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Plan {
    /// `created` or `modified`.
    field: String,
    steps: Vec<Step>,
    step: usize,
    page: u32,
    high_water: Option<String>,
}

/// The plan a previous attempt saved in its checkpoint, or a new one.
async fn resume_or_plan(s: &mut Session<'_>, progress: &mut Progress) -> Result<Plan, JobError> {
    match progress
        .checkpoint()
        .and_then(|c| serde_json::from_value::<Plan>(c.clone()).ok())
    {
        Some(plan) => {
            progress.log(
                Level::Info,
                format!(
                    "resuming orders at window {} of {}, page {}",
                    plan.step + 1,
                    plan.steps.len(),
                    plan.page
                ),
            );
            Ok(plan)
        }
        None => make_plan(s, progress).await,
    }
}

pub(super) async fn run(s: &mut Session<'_>, progress: &mut Progress) -> Result<(), JobError> {
    if !s.params.order_ids.is_empty() {
        // Part of the orders: no high-water mark, no last-sync time.
        return named_orders::run(s, progress).await;
    }
    let mut plan = resume_or_plan(s, progress).await?;
    let per_page = s.params.per_page;
    let mut seen: HashSet<u64> = HashSet::new();
    let mut duplicates = 0u64;
    while plan.step < plan.steps.len() {
        let step = plan.steps[plan.step].clone();
        if step.count == 0 && !step.open {
            plan.step += 1;
            plan.page = 1;
            continue;
        }
        let filter = filter_for(s, &plan.field, &step);
        let page = plan.page;
        let items = s
            .fetch(
                progress,
                &format!(
                    "order/read type {} {}..{} page {page}",
                    step.order_type, step.after, step.before
                ),
                |c| {
                    let f = filter.clone();
                    async move { c.read_orders(&f, page, per_page).await }
                },
            )
            .await?;
        let n = items.len();
        let fresh: Vec<Parsed<Order>> = items
            .into_iter()
            .filter(|p| match &p.item {
                Ok(o) if !seen.insert(o.id) => {
                    duplicates += 1;
                    false
                }
                _ => true,
            })
            .collect();
        let txn = s.begin_page().await?;
        let outcome = store::save_orders(&txn, s.name(), s.tz, fresh, Utc::now()).await?;
        s.record(progress, &outcome.page);
        plan.high_water = plan.high_water.take().max(outcome.high_water);
        if n == 0 || n < per_page as usize {
            plan.step += 1;
            plan.page = 1;
        } else {
            plan.page += 1;
        }
        if n > 0 {
            progress.page_done();
        }
        progress.set_checkpoint(serde_json::to_value(&plan).unwrap_or_default());
        progress.flush_with(&txn).await?;
        txn.commit().await?;
        progress.tick().await?;
    }
    if duplicates > 0 {
        progress.log(
            Level::Info,
            format!("{duplicates} orders seen twice while pages shifted; stored once"),
        );
    }
    if s.params.acknowledge {
        acknowledge_new(s, progress).await?;
    }
    finish(s, progress, plan.high_water).await
}

/// Records the sync's success, and where the next incremental sync starts.
async fn finish(
    s: &mut Session<'_>,
    progress: &mut Progress,
    high_water: Option<String>,
) -> Result<(), JobError> {
    // A sync narrowed by dates or statuses saw only part of the changes: its highest
    // `modified` must not become where the next incremental sync starts.
    let p = s.params;
    let whole = p.statuses.is_empty()
        && [
            &p.created_after,
            &p.created_before,
            &p.modified_after,
            &p.modified_before,
        ]
        .iter()
        .all(|d| d.is_none());
    // In a page's transaction: a deleted account gets no bookmark back.
    let txn = s.begin_page().await?;
    record_success(
        &txn,
        s.name(),
        "orders",
        progress.run_id(),
        high_water.filter(|_| whole),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn filter_for(s: &Session<'_>, field: &str, step: &Step) -> OrderFilter {
    let mut filter = OrderFilter {
        order_type: step.order_type,
        status: s.params.statuses.clone(),
        ..OrderFilter::default()
    };
    if field == "modified" {
        filter.modified_after = Some(step.after.clone());
        filter.modified_before = Some(step.before.clone());
    } else {
        filter.created_after = Some(step.after.clone());
        filter.created_before = Some(step.before.clone());
    }
    filter
}

/// Which date the windows follow (`modified` or `created`) and the range they cover, in
/// the account's local time.
async fn range(
    s: &mut Session<'_>,
    progress: &mut Progress,
) -> Result<(&'static str, chrono::NaiveDateTime, chrono::NaiveDateTime), JobError> {
    let p = s.params;
    let now = clock::now_local(s.tz);
    let end = now + Duration::days(1);
    let parse = |v: &Option<String>| v.as_deref().and_then(clock::parse_local);
    Ok(
        if p.modified_after.is_some() || p.modified_before.is_some() {
            let to = parse(&p.modified_before).unwrap_or(end);
            let from = parse(&p.modified_after).unwrap_or(to - Duration::days(FULL_DAYS));
            ("modified", from, to)
        } else if p.created_after.is_some() || p.created_before.is_some() {
            let to = parse(&p.created_before).unwrap_or(end);
            let from = parse(&p.created_after).unwrap_or(to - Duration::days(FULL_DAYS));
            ("created", from, to)
        } else {
            let high_water = if p.mode == Mode::Incremental {
                sync_state::Entity::find_by_id((s.name().to_owned(), "orders".to_owned()))
                    .one(s.db())
                    .await?
                    .and_then(|st| st.high_water)
                    .and_then(|h| clock::parse_local(&h))
            } else {
                None
            };
            match high_water {
                Some(h) => {
                    progress.log(
                    Level::Info,
                    format!(
                        "incremental: orders modified since {} (last high-water mark less {} min)",
                        clock::format(h - OVERLAP),
                        OVERLAP.num_minutes()
                    ),
                );
                    ("modified", h - OVERLAP, end)
                }
                None => {
                    if p.mode == Mode::Incremental {
                        progress.log(
                        Level::Info,
                        format!(
                            "incremental: no earlier successful sync, reading the last {FULL_DAYS} days"
                        ),
                    );
                    }
                    ("created", end - Duration::days(FULL_DAYS), end)
                }
            }
        },
    )
}

/// The windows to walk, and the total for progress from one count per window.
async fn make_plan(s: &mut Session<'_>, progress: &mut Progress) -> Result<Plan, JobError> {
    let p = s.params;
    let now = clock::now_local(s.tz);
    let (field, from, to) = range(s, progress).await?;
    let mut steps = Vec::new();
    let mut total = 0u64;
    let mut pages = 0u64;
    for order_type in TYPES {
        for (after, before) in clock::windows(from, to) {
            let open = clock::parse_local(&before).is_some_and(|b| b >= now);
            let mut step = Step {
                order_type,
                after,
                before,
                count: 0,
                open,
            };
            let filter = filter_for(s, field, &step);
            let count = s
                .fetch(progress, "order/count", |c| {
                    let f = filter.clone();
                    async move { c.count_orders(&f).await }
                })
                .await?;
            step.count = count.items;
            total += count.items;
            pages += count.items.div_ceil(u64::from(p.per_page));
            steps.push(step);
        }
    }
    progress.set_total(total);
    progress.set_pages_total(u32::try_from(pages).unwrap_or(u32::MAX));
    progress.log(
        Level::Info,
        format!(
            "{total} orders to read in {} windows ({field} {} .. {})",
            steps.len(),
            clock::format(from),
            clock::format(to)
        ),
    );
    let plan = Plan {
        field: field.to_owned(),
        steps,
        step: 0,
        page: 1,
        high_water: None,
    };
    progress.set_checkpoint(serde_json::to_value(&plan).unwrap_or_default());
    progress.flush().await?;
    Ok(plan)
}

/// Acknowledges the stored new seller-fulfilled orders (1 → 2).
async fn acknowledge_new(s: &mut Session<'_>, progress: &mut Progress) -> Result<(), JobError> {
    let ids: Vec<u64> = order::Entity::find()
        .select_only()
        .column(order::Column::EmagId)
        .filter(order::Column::Account.eq(s.name()))
        .filter(order::Column::OrderType.eq(3))
        .filter(order::Column::Status.eq(1))
        .into_tuple::<i64>()
        .all(s.db())
        .await?
        .into_iter()
        .filter_map(|id| u64::try_from(id).ok())
        .collect();
    named_orders::acknowledge(s, progress, ids).await
}
