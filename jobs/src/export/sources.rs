//! What can be exported, read from the database a page at a time (keyset pagination on
//! the primary key, so page 1,000 costs what page 1 does).

use std::collections::BTreeMap;

use entity::{job_run, offer, order, order_line};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};

use super::{ExportParams, Resource, series, sink::Cell};

/// Rows read per query.
pub const PAGE: u64 = 1000;

pub const OFFER_COLUMNS: [&str; 18] = [
    "account",
    "id",
    "part_number",
    "part_number_key",
    "name",
    "brand",
    "status",
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
    "currency",
    "general_stock",
    "estimated_stock",
    "vat_id",
    "updated_at",
    "last_synced_at",
    // Empty unless the export asked for removed offers too.
    "removed_at",
];

pub const ORDER_COLUMNS: [&str; 22] = [
    "account",
    "order_id",
    "type",
    "status",
    "ordered_at",
    "modified_at",
    "customer_name",
    "payment_mode",
    "delivery_mode",
    "lines_total",
    "vat_total",
    "vouchers_total",
    "shipping_tax",
    "total_with_vat",
    "currency",
    "line_id",
    "product_id",
    "part_number_key",
    "line_name",
    "quantity",
    "line_sale_price",
    "vat_rate",
];

pub const RUN_COLUMNS: [&str; 17] = [
    "id",
    "parent_id",
    "kind",
    "status",
    "account",
    "attempt",
    "total",
    "processed",
    "created",
    "updated",
    "unchanged",
    "failed",
    "error_category",
    "error_message",
    "created_at",
    "started_at",
    "finished_at",
];

pub fn columns(resource: Resource) -> &'static [&'static str] {
    match resource {
        Resource::Offers => &OFFER_COLUMNS,
        Resource::Orders => &ORDER_COLUMNS,
        Resource::Runs => &RUN_COLUMNS,
        Resource::Sales => &series::SALES_COLUMNS,
        Resource::ProductSales => &series::PRODUCT_SALES_COLUMNS,
    }
}

/// Items to export (orders: orders, not lines), for the progress total.
pub async fn count<C: ConnectionTrait>(db: &C, p: &ExportParams) -> Result<u64, DbErr> {
    match p.resource {
        Resource::Offers => offers_query(p).count(db).await,
        Resource::Orders => orders_query(p).count(db).await,
        Resource::Runs => runs_query(p).count(db).await,
        Resource::Sales => series::count_sales(db, p).await,
        Resource::ProductSales => series::count_products(db, p).await,
    }
}

/// Where the next page starts: after this key.
#[derive(Clone, Debug, Default)]
pub enum After {
    #[default]
    Start,
    Item(String, i64),
    Run(uuid::Uuid),
    Series(Option<series::SeriesKey>),
}

/// The next page of rows and the number of items it covers; empty at the end.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    p: &ExportParams,
    after: &mut After,
) -> Result<(Vec<Vec<Cell>>, u64), DbErr> {
    match p.resource {
        Resource::Offers => {
            let rows = offers_query(p)
                .filter(after_item(
                    after,
                    offer::Column::Account,
                    offer::Column::EmagId,
                ))
                .order_by_asc(offer::Column::Account)
                .order_by_asc(offer::Column::EmagId)
                .limit(PAGE)
                .all(db)
                .await?;
            if let Some(last) = rows.last() {
                *after = After::Item(last.account.clone(), last.emag_id);
            }
            let n = rows.len() as u64;
            Ok((rows.into_iter().map(offer_row).collect(), n))
        }
        Resource::Orders => {
            let orders = orders_query(p)
                .filter(after_item(
                    after,
                    order::Column::Account,
                    order::Column::EmagId,
                ))
                .order_by_asc(order::Column::Account)
                .order_by_asc(order::Column::EmagId)
                .limit(PAGE)
                .all(db)
                .await?;
            if let Some(last) = orders.last() {
                *after = After::Item(last.account.clone(), last.emag_id);
            }
            let mut lines = lines_of(db, &orders).await?;
            let n = orders.len() as u64;
            let mut rows = Vec::new();
            for o in &orders {
                match lines.remove(&(o.account.clone(), o.emag_id)) {
                    Some(ls) => rows.extend(ls.iter().map(|l| order_row(o, Some(l)))),
                    None => rows.push(order_row(o, None)),
                }
            }
            Ok((rows, n))
        }
        Resource::Runs => {
            let mut query = runs_query(p);
            if let After::Run(id) = after {
                query = query.filter(job_run::Column::Id.gt(*id));
            }
            let runs = query
                .order_by_asc(job_run::Column::Id)
                .limit(PAGE)
                .all(db)
                .await?;
            if let Some(last) = runs.last() {
                *after = After::Run(last.id);
            }
            let n = runs.len() as u64;
            Ok((runs.iter().map(run_row).collect(), n))
        }
        Resource::Sales | Resource::ProductSales => {
            let mut key = match after {
                After::Series(key) => key.clone(),
                _ => None,
            };
            let rows = series::page(db, p, &mut key).await?;
            *after = After::Series(key);
            let n = rows.len() as u64;
            Ok((rows, n))
        }
    }
}

fn after_item<A: ColumnTrait, I: ColumnTrait>(after: &After, account: A, id: I) -> Condition {
    match after {
        After::Item(a, last) => Condition::any().add(account.gt(a.as_str())).add(
            Condition::all()
                .add(account.eq(a.as_str()))
                .add(id.gt(*last)),
        ),
        _ => Condition::all(),
    }
}

fn offers_query(p: &ExportParams) -> Select<offer::Entity> {
    let mut q = offer::Entity::find();
    if !p.include_removed {
        q = q.filter(offer::Column::RemovedAt.is_null());
    }
    if let Some(a) = &p.account {
        q = q.filter(offer::Column::Account.eq(a.as_str()));
    }
    if let Some(s) = p.status.as_ref().and_then(|s| s.as_i64()) {
        q = q.filter(offer::Column::Status.eq(s));
    }
    if let Some(from) = p.from {
        q = q.filter(offer::Column::UpdatedAt.gte(from));
    }
    if let Some(to) = p.to {
        q = q.filter(offer::Column::UpdatedAt.lt(to));
    }
    q
}

fn orders_query(p: &ExportParams) -> Select<order::Entity> {
    let mut q = order::Entity::find();
    if let Some(a) = &p.account {
        q = q.filter(order::Column::Account.eq(a.as_str()));
    }
    if let Some(s) = p.status.as_ref().and_then(|s| s.as_i64()) {
        q = q.filter(order::Column::Status.eq(s));
    }
    if let Some(from) = p.from {
        q = q.filter(order::Column::OrderedAt.gte(from));
    }
    if let Some(to) = p.to {
        q = q.filter(order::Column::OrderedAt.lt(to));
    }
    q
}

fn runs_query(p: &ExportParams) -> Select<job_run::Entity> {
    let mut q = job_run::Entity::find();
    if let Some(a) = &p.account {
        q = q.filter(job_run::Column::Account.eq(a.as_str()));
    }
    if let Some(s) = p
        .status
        .as_ref()
        .and_then(|s| s.as_str())
        .and_then(entity::job_run::RunStatus::parse)
    {
        q = q.filter(job_run::Column::Status.eq(s));
    }
    if let Some(from) = p.from {
        q = q.filter(job_run::Column::CreatedAt.gte(from));
    }
    if let Some(to) = p.to {
        q = q.filter(job_run::Column::CreatedAt.lt(to));
    }
    q
}

async fn lines_of<C: ConnectionTrait>(
    db: &C,
    orders: &[order::Model],
) -> Result<BTreeMap<(String, i64), Vec<order_line::Model>>, DbErr> {
    let mut by_account: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for o in orders {
        by_account.entry(&o.account).or_default().push(o.emag_id);
    }
    let mut out: BTreeMap<(String, i64), Vec<order_line::Model>> = BTreeMap::new();
    for (account, ids) in by_account {
        let lines = order_line::Entity::find()
            .filter(order_line::Column::Account.eq(account))
            .filter(order_line::Column::OrderId.is_in(ids))
            .order_by_asc(order_line::Column::OrderId)
            .order_by_asc(order_line::Column::LineId)
            .all(db)
            .await?;
        for l in lines {
            out.entry((l.account.clone(), l.order_id))
                .or_default()
                .push(l);
        }
    }
    Ok(out)
}

fn offer_row(o: offer::Model) -> Vec<Cell> {
    vec![
        Cell::Text(Some(o.account)),
        Cell::Int(Some(o.emag_id)),
        Cell::Text(o.part_number),
        Cell::Text(o.part_number_key),
        Cell::Text(o.name),
        Cell::Text(o.brand),
        Cell::Int(o.status.map(i64::from)),
        Cell::Money(o.sale_price),
        Cell::Money(o.recommended_price),
        Cell::Money(o.min_sale_price),
        Cell::Money(o.max_sale_price),
        Cell::Text(o.currency),
        Cell::Int(o.general_stock),
        Cell::Int(o.estimated_stock),
        Cell::Int(o.vat_id),
        Cell::Time(Some(o.updated_at)),
        Cell::Time(Some(o.last_synced_at)),
        Cell::Time(o.removed_at),
    ]
}

fn order_row(o: &order::Model, line: Option<&order_line::Model>) -> Vec<Cell> {
    let mut row = vec![
        Cell::Text(Some(o.account.clone())),
        Cell::Int(Some(o.emag_id)),
        Cell::Int(Some(i64::from(o.order_type))),
        Cell::Int(Some(i64::from(o.status))),
        Cell::Time(o.ordered_at),
        Cell::Time(o.modified_at),
        Cell::Text(o.customer_name.clone()),
        Cell::Text(o.payment_mode.clone()),
        Cell::Text(o.delivery_mode.clone()),
        Cell::Money(Some(o.lines_total)),
        Cell::Money(Some(o.vat_total)),
        Cell::Money(Some(o.vouchers_total)),
        Cell::Money(Some(o.shipping_tax)),
        Cell::Money(Some(o.total_with_vat)),
        Cell::Text(o.currency.clone()),
    ];
    match line {
        Some(l) => row.extend([
            Cell::Int(Some(l.line_id)),
            Cell::Int(l.product_id),
            Cell::Text(l.part_number_key.clone()),
            Cell::Text(l.name.clone()),
            Cell::Int(Some(l.quantity)),
            Cell::Money(Some(l.sale_price)),
            Cell::Money(Some(l.vat_rate)),
        ]),
        None => row.extend((0..7).map(|_| Cell::Text(None))),
    }
    row
}

fn run_row(r: &job_run::Model) -> Vec<Cell> {
    vec![
        Cell::Text(Some(r.id.to_string())),
        Cell::Text(r.parent_id.map(|p| p.to_string())),
        Cell::Text(Some(r.kind.to_string())),
        Cell::Text(Some(r.status.as_str().to_owned())),
        Cell::Text(r.account.clone()),
        Cell::Int(Some(i64::from(r.attempt))),
        Cell::Int(r.total),
        Cell::Int(Some(r.processed)),
        Cell::Int(Some(r.created)),
        Cell::Int(Some(r.updated)),
        Cell::Int(Some(r.unchanged)),
        Cell::Int(Some(r.failed)),
        Cell::Text(r.error_category.map(|c| c.to_string())),
        Cell::Text(r.error_message.clone()),
        Cell::Time(Some(r.created_at)),
        Cell::Time(r.started_at),
        Cell::Time(r.finished_at),
    ]
}
