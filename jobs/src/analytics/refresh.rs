//! Keeping the daily sales tables equal to what `orders` says, one (account, day) at a
//! time after a sync, or everything at once.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::{analytics_dirty, product_sales_daily, sales_daily};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value, sea_query::OnConflict,
};

use super::sql::{marks, statement};

/// Days recomputed per statement: well under SQLite's 32,766 bound values.
const DAYS_PER_STATEMENT: usize = 400;

/// Marks `days` of `account` as stale, in the caller's transaction (the one that wrote
/// the orders). The conflict updates instead of doing nothing so that, on PostgreSQL,
/// a refresh claiming the same mark waits for this transaction: otherwise it could take
/// the old mark and recompute without this transaction's orders.
pub async fn mark<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    days: &BTreeSet<NaiveDate>,
) -> Result<(), DbErr> {
    if days.is_empty() {
        return Ok(());
    }
    let rows = days.iter().map(|day| analytics_dirty::ActiveModel {
        account: sea_orm::Set(account.to_owned()),
        day: sea_orm::Set(*day),
    });
    analytics_dirty::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                analytics_dirty::Column::Account,
                analytics_dirty::Column::Day,
            ])
            .update_column(analytics_dirty::Column::Day)
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Claims every stale day of `account` and recomputes it, in `conn`'s transaction: the
/// marks come back if it rolls back. The days recomputed.
pub async fn refresh<C: ConnectionTrait>(conn: &C, account: &str) -> Result<usize, DbErr> {
    let claimed = conn
        .query_all_raw(statement(
            conn,
            "DELETE FROM analytics_dirty WHERE account = ? RETURNING day",
            vec![account.into()],
        ))
        .await?;
    let days = claimed
        .iter()
        .map(|row| row.try_get::<NaiveDate>("", "day"))
        .collect::<Result<Vec<_>, _>>()?;
    for chunk in days.chunks(DAYS_PER_STATEMENT) {
        recompute(conn, Scope::Days(account, chunk)).await?;
    }
    Ok(days.len())
}

/// What [`rebuild`] wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Rows of `sales_daily` (account, day, status).
    pub sales_rows: u64,
    /// Rows of `product_sales_daily`.
    pub product_rows: u64,
    /// Orders synced before history existed that got their day now.
    pub days_filled: u64,
}

/// Recomputes every account's daily sales from scratch, in `conn`'s transaction. Orders
/// without a local day (synced by an older magflow) get it from eMAG's `date` first.
pub async fn rebuild<C: ConnectionTrait>(conn: &C) -> Result<RebuildReport, DbErr> {
    let days_filled = migration::fill_ordered_days(conn).await?;
    analytics_dirty::Entity::delete_many().exec(conn).await?;
    let (sales_rows, product_rows) = recompute(conn, Scope::All).await?;
    Ok(RebuildReport {
        sales_rows,
        product_rows,
        days_filled,
    })
}

/// Which orders a recomputation covers.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Days(&'a str, &'a [NaiveDate]),
    All,
}

impl Scope<'_> {
    /// The condition on `orders o`, and its values.
    fn condition(self) -> (String, Vec<Value>) {
        match self {
            Scope::Days(account, days) => {
                let mut values: Vec<Value> = vec![account.into()];
                values.extend(days.iter().map(|d| Value::from(*d)));
                (
                    format!("o.account = ? AND o.ordered_day IN ({})", marks(days.len())),
                    values,
                )
            }
            Scope::All => ("o.ordered_day IS NOT NULL".to_owned(), Vec::new()),
        }
    }
}

/// Deletes the scope's rows and writes them again from the orders: (sales rows,
/// product rows).
async fn recompute<C: ConnectionTrait>(conn: &C, scope: Scope<'_>) -> Result<(u64, u64), DbErr> {
    match scope {
        Scope::Days(account, days) => {
            sales_daily::Entity::delete_many()
                .filter(sales_daily::Column::Account.eq(account))
                .filter(sales_daily::Column::Day.is_in(days.iter().copied()))
                .exec(conn)
                .await?;
            product_sales_daily::Entity::delete_many()
                .filter(product_sales_daily::Column::Account.eq(account))
                .filter(product_sales_daily::Column::Day.is_in(days.iter().copied()))
                .exec(conn)
                .await?;
        }
        Scope::All => {
            sales_daily::Entity::delete_many().exec(conn).await?;
            product_sales_daily::Entity::delete_many()
                .exec(conn)
                .await?;
        }
    }
    let (condition, values) = scope.condition();
    let sales = conn
        .execute_raw(statement(conn, &sales_sql(&condition), values.clone()))
        .await?;
    let products = conn
        .execute_raw(statement(conn, &products_sql(&condition), values))
        .await?;
    Ok((sales.rows_affected(), products.rows_affected()))
}

/// Orders per (account, day, status): count, units of their active lines, value.
pub(crate) fn sales_sql(condition: &str) -> String {
    format!(
        "INSERT INTO sales_daily (account, day, status, orders, units, value, currency) \
         SELECT x.account, x.day, x.status, COUNT(*), SUM(x.units), ROUND(SUM(x.value), 4), \
                MAX(x.currency) \
         FROM (SELECT o.account, o.ordered_day AS day, o.status, o.total_with_vat AS value, \
                      o.currency, \
                      COALESCE(SUM(CASE WHEN COALESCE(l.status, 1) <> 0 THEN l.quantity \
                                        ELSE 0 END), 0) AS units \
               FROM orders o \
               LEFT JOIN order_lines l ON l.account = o.account AND l.order_id = o.emag_id \
               WHERE {condition} \
               GROUP BY o.account, o.emag_id, o.ordered_day, o.status, o.total_with_vat, \
                        o.currency) x \
         GROUP BY x.account, x.day, x.status"
    )
}

/// Units and revenue with VAT per (account, day, product, status), from active lines.
pub(crate) fn products_sql(condition: &str) -> String {
    format!(
        "INSERT INTO product_sales_daily (account, day, product_id, status, units, revenue) \
         SELECT o.account, o.ordered_day, l.product_id, o.status, SUM(l.quantity), \
                ROUND(SUM(l.sale_price * l.quantity * (1 + l.vat_rate)), 4) \
         FROM orders o \
         JOIN order_lines l ON l.account = o.account AND l.order_id = o.emag_id \
         WHERE {condition} AND l.product_id IS NOT NULL AND COALESCE(l.status, 1) <> 0 \
         GROUP BY o.account, o.ordered_day, l.product_id, o.status"
    )
}

/// Deletes `account`'s history, with the account.
pub async fn forget<C: ConnectionTrait>(conn: &C, account: &str) -> Result<(), DbErr> {
    use entity::stock_daily;
    sales_daily::Entity::delete_many()
        .filter(sales_daily::Column::Account.eq(account))
        .exec(conn)
        .await?;
    product_sales_daily::Entity::delete_many()
        .filter(product_sales_daily::Column::Account.eq(account))
        .exec(conn)
        .await?;
    stock_daily::Entity::delete_many()
        .filter(stock_daily::Column::Account.eq(account))
        .exec(conn)
        .await?;
    analytics_dirty::Entity::delete_many()
        .filter(analytics_dirty::Column::Account.eq(account))
        .exec(conn)
        .await?;
    Ok(())
}
