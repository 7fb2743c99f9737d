//! Per product: the best sellers of a period, and how many days each offer's stock
//! lasts at its recent pace.

use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};

use super::{
    FINALISED,
    period::Period,
    scope::{AnalyticsError, Scope},
    sql::statement,
};

/// Days whose sales make an offer's pace for [`cover`].
pub const PACE_DAYS: i64 = 28;

/// What ranks the top products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Revenue,
    Units,
}

/// A product's finalised sales in a period.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ProductSales {
    pub account: String,
    pub product_id: i64,
    pub name: Option<String>,
    pub part_number_key: Option<String>,
    pub units: i64,
    pub revenue: Decimal,
}

/// The `limit` products with the most finalised revenue or units in `period`.
pub async fn top_products<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    by: RankBy,
    limit: u64,
) -> Result<Vec<ProductSales>, AnalyticsError> {
    let mut values: Vec<Value> = vec![FINALISED.into(), period.from.into(), period.to.into()];
    let account = scope.condition("p.account", &mut values);
    values.push(limit.into());
    let order = match by {
        RankBy::Revenue => "revenue DESC, units DESC",
        RankBy::Units => "units DESC, revenue DESC",
    };
    let sql = format!(
        "SELECT p.account, p.product_id, MAX(f.name) AS name, \
                MAX(f.part_number_key) AS part_number_key, \
                CAST(SUM(p.units) AS BIGINT) AS units, SUM(p.revenue) AS revenue \
         FROM product_sales_daily p \
         LEFT JOIN offers f ON f.account = p.account AND f.emag_id = p.product_id \
         WHERE p.status = ? AND p.day >= ? AND p.day <= ?{account} \
         GROUP BY p.account, p.product_id \
         ORDER BY {order}, p.account, p.product_id LIMIT ?"
    );
    let mut rows = ProductSales::find_by_statement(statement(conn, &sql, values))
        .all(conn)
        .await?;
    for r in &mut rows {
        r.revenue = r.revenue.round_dp(4);
    }
    Ok(rows)
}

/// An active offer's stock against its pace: units ordered (not cancelled or returned)
/// over the last [`PACE_DAYS`] local days, today included.
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    pub account: String,
    pub product_id: i64,
    pub name: Option<String>,
    pub part_number_key: Option<String>,
    pub stock: i64,
    pub units: i64,
    /// Units a day.
    pub pace: f64,
    /// Stock ÷ pace, in days; none when it did not sell.
    pub days: Option<f64>,
}

/// Which offers [`cover`] lists.
#[derive(Debug, Clone, Default)]
pub struct CoverQuery {
    /// Only offers whose cover is under this many days (selling ones).
    pub under: Option<f64>,
    pub product_id: Option<i64>,
    pub limit: u64,
}

#[derive(FromQueryResult)]
struct CoverRow {
    account: String,
    product_id: i64,
    name: Option<String>,
    part_number_key: Option<String>,
    stock: i64,
    units: i64,
}

/// Active offers that sold in the last [`PACE_DAYS`] days (or the one asked for), the
/// shortest cover first.
pub async fn cover<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    query: &CoverQuery,
) -> Result<Vec<Cover>, AnalyticsError> {
    let pace = Period::ending(scope.today(), PACE_DAYS);
    let mut values: Vec<Value> = vec![pace.from.into(), pace.to.into()];
    let sold_in = scope.condition("account", &mut values);
    let offer_in = scope.condition("f.account", &mut values);
    let mut filter = match query.product_id {
        Some(id) => {
            values.push(id.into());
            " AND f.emag_id = ?".to_owned()
        }
        None => " AND s.units > 0".to_owned(),
    };
    if let Some(under) = query.under {
        // stock ÷ (units ÷ days) < under, without dividing.
        values.push((under / PACE_DAYS as f64).into());
        filter.push_str(" AND COALESCE(f.general_stock, 0) < s.units * ?");
    }
    values.push(query.limit.into());
    let sql = format!(
        "SELECT f.account, f.emag_id AS product_id, f.name, f.part_number_key, \
                CAST(COALESCE(f.general_stock, 0) AS BIGINT) AS stock, \
                CAST(COALESCE(s.units, 0) AS BIGINT) AS units \
         FROM offers f \
         LEFT JOIN (SELECT account, product_id, SUM(units) AS units \
                    FROM product_sales_daily \
                    WHERE day >= ? AND day <= ? AND status NOT IN (0, 5){sold_in} \
                    GROUP BY account, product_id) s \
           ON s.account = f.account AND s.product_id = f.emag_id \
         WHERE f.removed_at IS NULL AND f.status = 1{offer_in}{filter} \
         ORDER BY CASE WHEN COALESCE(s.units, 0) > 0 THEN 0 ELSE 1 END, \
                  COALESCE(f.general_stock, 0) * 1.0 / COALESCE(s.units, 1), \
                  f.account, f.emag_id \
         LIMIT ?"
    );
    let rows = CoverRow::find_by_statement(statement(conn, &sql, values))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let pace = r.units as f64 / PACE_DAYS as f64;
            let days = (r.units > 0).then(|| r.stock.max(0) as f64 / pace);
            Cover {
                account: r.account,
                product_id: r.product_id,
                name: r.name,
                part_number_key: r.part_number_key,
                stock: r.stock,
                units: r.units,
                pace,
                days,
            }
        })
        .collect())
}
