//! The daily history as export rows: `sales` (per account, day and order status) and
//! `product_sales` (per account, day, product and status), exactly as stored, for a
//! spreadsheet to pivot. Paged by their primary keys.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{product_sales_daily, sales_daily};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, ExprTrait, IntoColumnRef, SimpleExpr},
};

use super::{ExportParams, sink::Cell, sources::PAGE};
use crate::clock;

pub const SALES_COLUMNS: [&str; 7] = [
    "account", "day", "status", "orders", "units", "value", "currency",
];

pub const PRODUCT_SALES_COLUMNS: [&str; 6] =
    ["account", "day", "product_id", "status", "units", "revenue"];

/// The last row of a page: (account, day, product id or 0, status).
pub type SeriesKey = (String, NaiveDate, i64, i32);

/// An instant's local day (Romania's): exports take instants, the history keeps days.
fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&clock::platform_tz(None)).date_naive()
}

/// The filters every series shares: account, status, days in `[from, to)`.
fn filtered<E, A, D, S>(
    mut q: Select<E>,
    p: &ExportParams,
    account: A,
    day: D,
    status: S,
) -> Select<E>
where
    E: EntityTrait,
    A: ColumnTrait,
    D: ColumnTrait,
    S: ColumnTrait,
{
    if let Some(a) = &p.account {
        q = q.filter(account.eq(a.as_str()));
    }
    if let Some(s) = p.status.as_ref().and_then(|s| s.as_i64()) {
        q = q.filter(status.eq(s));
    }
    if let Some(from) = p.from {
        q = q.filter(day.gte(day_of(from)));
    }
    if let Some(to) = p.to {
        q = q.filter(day.lt(day_of(to)));
    }
    q
}

/// Rows after `key` in the order of `columns` (a row-value comparison, both backends).
fn after(columns: Vec<SimpleExpr>, key: Vec<sea_orm::Value>) -> SimpleExpr {
    Expr::tuple(columns).gt(Expr::tuple(key.into_iter().map(SimpleExpr::from)))
}

fn col<C: IntoColumnRef>(c: C) -> SimpleExpr {
    Expr::col(c)
}

fn sales_query(p: &ExportParams) -> Select<sales_daily::Entity> {
    use sales_daily::Column as C;
    filtered(
        sales_daily::Entity::find(),
        p,
        C::Account,
        C::Day,
        C::Status,
    )
}

fn products_query(p: &ExportParams) -> Select<product_sales_daily::Entity> {
    use product_sales_daily::Column as C;
    filtered(
        product_sales_daily::Entity::find(),
        p,
        C::Account,
        C::Day,
        C::Status,
    )
}

pub async fn count_sales<C: ConnectionTrait>(db: &C, p: &ExportParams) -> Result<u64, DbErr> {
    sales_query(p).count(db).await
}

pub async fn count_products<C: ConnectionTrait>(db: &C, p: &ExportParams) -> Result<u64, DbErr> {
    products_query(p).count(db).await
}

/// The next page of `sales` or `product_sales` rows after `key`.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    p: &ExportParams,
    key: &mut Option<SeriesKey>,
) -> Result<Vec<Vec<Cell>>, DbErr> {
    if p.resource == super::Resource::Sales {
        sales_page(db, p, key).await
    } else {
        products_page(db, p, key).await
    }
}

async fn sales_page<C: ConnectionTrait>(
    db: &C,
    p: &ExportParams,
    key: &mut Option<SeriesKey>,
) -> Result<Vec<Vec<Cell>>, DbErr> {
    use sales_daily::Column as C;
    let mut q = sales_query(p);
    if let Some((account, day, _, status)) = key.clone() {
        q = q.filter(after(
            vec![col(C::Account), col(C::Day), col(C::Status)],
            vec![account.into(), day.into(), status.into()],
        ));
    }
    let rows = q
        .order_by_asc(C::Account)
        .order_by_asc(C::Day)
        .order_by_asc(C::Status)
        .limit(PAGE)
        .all(db)
        .await?;
    if let Some(last) = rows.last() {
        *key = Some((last.account.clone(), last.day, 0, last.status));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            vec![
                Cell::Text(Some(r.account)),
                Cell::Text(Some(r.day.to_string())),
                Cell::Int(Some(i64::from(r.status))),
                Cell::Int(Some(r.orders)),
                Cell::Int(Some(r.units)),
                Cell::Money(Some(r.value.round_dp(4))),
                Cell::Text(r.currency),
            ]
        })
        .collect())
}

async fn products_page<C: ConnectionTrait>(
    db: &C,
    p: &ExportParams,
    key: &mut Option<SeriesKey>,
) -> Result<Vec<Vec<Cell>>, DbErr> {
    use product_sales_daily::Column as C;
    let mut q = products_query(p);
    if let Some((account, day, product, status)) = key.clone() {
        q = q.filter(after(
            vec![
                col(C::Account),
                col(C::Day),
                col(C::ProductId),
                col(C::Status),
            ],
            vec![account.into(), day.into(), product.into(), status.into()],
        ));
    }
    let rows = q
        .order_by_asc(C::Account)
        .order_by_asc(C::Day)
        .order_by_asc(C::ProductId)
        .order_by_asc(C::Status)
        .limit(PAGE)
        .all(db)
        .await?;
    if let Some(last) = rows.last() {
        *key = Some((last.account.clone(), last.day, last.product_id, last.status));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            vec![
                Cell::Text(Some(r.account)),
                Cell::Text(Some(r.day.to_string())),
                Cell::Int(Some(r.product_id)),
                Cell::Int(Some(i64::from(r.status))),
                Cell::Int(Some(r.units)),
                Cell::Money(Some(r.revenue.round_dp(4))),
            ]
        })
        .collect())
}
