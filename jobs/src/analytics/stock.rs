//! The day's stock snapshot, kept by every offers sync, and the trend read from them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::stock_daily;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, Value,
};

use super::{
    period::Period,
    scope::{AnalyticsError, Scope},
    sql::statement,
};

/// Writes `account`'s stock on local `day` as `offers` holds it now (eMAG still lists
/// the offer): units in stock, offers, active ones, active ones with no stock. The last
/// sync of a day has the last word.
pub async fn snapshot_stock<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    stock_daily::Entity::delete_many()
        .filter(stock_daily::Column::Account.eq(account))
        .filter(stock_daily::Column::Day.eq(day))
        .exec(conn)
        .await?;
    let sql = "INSERT INTO stock_daily \
               (account, day, units_in_stock, offers, offers_active, offers_out_of_stock, taken_at) \
               SELECT ?, ?, \
                      COALESCE(SUM(CASE WHEN general_stock > 0 THEN general_stock ELSE 0 END), 0), \
                      COUNT(*), \
                      COALESCE(SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END), 0), \
                      COALESCE(SUM(CASE WHEN status = 1 AND COALESCE(general_stock, 0) <= 0 \
                                        THEN 1 ELSE 0 END), 0), \
                      ? \
               FROM offers WHERE account = ? AND removed_at IS NULL";
    conn.execute_raw(statement(
        conn,
        sql,
        vec![account.into(), day.into(), now.into(), account.into()],
    ))
    .await?;
    Ok(())
}

/// The scope's stock on one day: the sum over accounts of each one's latest snapshot
/// up to that day; none before any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockDay {
    pub units_in_stock: i64,
    pub offers: i64,
    pub offers_active: i64,
    pub offers_out_of_stock: i64,
}

#[derive(FromQueryResult)]
struct SnapshotRow {
    account: String,
    day: NaiveDate,
    units_in_stock: i64,
    offers: i64,
    offers_active: i64,
    offers_out_of_stock: i64,
}

/// Every day of `period` with the stock of its day: a day without a sync carries the
/// account's last snapshot forward.
pub async fn stock_trend<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
) -> Result<Vec<(NaiveDate, Option<StockDay>)>, AnalyticsError> {
    let columns = "s.account, s.day, s.units_in_stock, s.offers, s.offers_active, \
                   s.offers_out_of_stock";
    let mut values: Vec<Value> = vec![period.from.into(), period.to.into()];
    let account = scope.condition("s.account", &mut values);
    let within =
        format!("SELECT {columns} FROM stock_daily s WHERE s.day >= ? AND s.day <= ?{account}");
    let mut rows = SnapshotRow::find_by_statement(statement(conn, &within, values))
        .all(conn)
        .await?;
    let mut values: Vec<Value> = vec![period.from.into()];
    let account = scope.condition("s.account", &mut values);
    let before = format!(
        "SELECT {columns} FROM stock_daily s \
         WHERE s.day = (SELECT MAX(t.day) FROM stock_daily t \
                        WHERE t.account = s.account AND t.day < ?){account}"
    );
    rows.extend(
        SnapshotRow::find_by_statement(statement(conn, &before, values))
            .all(conn)
            .await?,
    );
    rows.sort_by_key(|r| r.day);
    let mut latest: BTreeMap<String, StockDay> = BTreeMap::new();
    let mut rows = rows.into_iter().peekable();
    Ok(period
        .each_day()
        .map(|day| {
            while let Some(r) = rows.next_if(|r| r.day <= day) {
                latest.insert(
                    r.account,
                    StockDay {
                        units_in_stock: r.units_in_stock,
                        offers: r.offers,
                        offers_active: r.offers_active,
                        offers_out_of_stock: r.offers_out_of_stock,
                    },
                );
            }
            let total = (!latest.is_empty()).then(|| {
                latest.values().fold(StockDay::default(), |a, s| StockDay {
                    units_in_stock: a.units_in_stock + s.units_in_stock,
                    offers: a.offers + s.offers,
                    offers_active: a.offers_active + s.offers_active,
                    offers_out_of_stock: a.offers_out_of_stock + s.offers_out_of_stock,
                })
            });
            (day, total)
        })
        .collect())
}
