//! The day's stock snapshot, kept by every offers sync, and the trend read from them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::stock_daily;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, Value,
};
use uuid::Uuid;

use super::{
    period::Period,
    scope::{AnalyticsError, Scope},
    sql::statement,
};

/// One day's stock as the columns of `stock_daily`, summed over the offers a condition
/// `counted` picks (`?`-free SQL over `offers`' columns).
fn stock_sums(counted: &str) -> String {
    [
        "CASE WHEN general_stock > 0 THEN general_stock ELSE 0 END",
        "1",
        "CASE WHEN status = 1 THEN 1 ELSE 0 END",
        "CASE WHEN status = 1 AND COALESCE(general_stock, 0) <= 0 THEN 1 ELSE 0 END",
    ]
    .map(|term| {
        format!("CAST(COALESCE(SUM(CASE WHEN {counted} THEN {term} ELSE 0 END), 0) AS BIGINT)")
    })
    .join(", ")
}

/// Writes `account`'s stock on local `day` as `offers` holds it now (eMAG still lists
/// the offer): units in stock, offers, active ones, active ones with no stock. The last
/// sync of a day has the last word.
pub async fn snapshot_stock<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    forget_day(conn, account, day).await?;
    let sql = format!(
        "INSERT INTO stock_daily \
         (account, day, units_in_stock, offers, offers_active, offers_out_of_stock, taken_at) \
         SELECT ?, ?, {}, ? FROM offers WHERE account = ? AND removed_at IS NULL",
        stock_sums("1 = 1")
    );
    conn.execute_raw(statement(
        conn,
        &sql,
        vec![account.into(), day.into(), now.into(), account.into()],
    ))
    .await?;
    Ok(())
}

/// Writes `account`'s stock on local `day` as already summed ([`seen_stock`]).
pub async fn write_stock<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
    stock: StockDay,
) -> Result<(), DbErr> {
    forget_day(conn, account, day).await?;
    stock_daily::Entity::insert(stock_daily::ActiveModel {
        account: Set(account.to_owned()),
        day: Set(day),
        units_in_stock: Set(stock.units_in_stock),
        offers: Set(stock.offers),
        offers_active: Set(stock.offers_active),
        offers_out_of_stock: Set(stock.offers_out_of_stock),
        taken_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

async fn forget_day<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    day: NaiveDate,
) -> Result<(), DbErr> {
    stock_daily::Entity::delete_many()
        .filter(stock_daily::Column::Account.eq(account))
        .filter(stock_daily::Column::Day.eq(day))
        .exec(conn)
        .await?;
    Ok(())
}

/// After run `run` read every page of `account`'s offers: the stock of the offers it saw
/// (what [`snapshot_stock`] finds once the others are marked removed), and how many
/// offers not removed it did not see. One pass over the account's offers, where marking
/// and snapshot took one each (70–140 ms apiece at 100,000 offers, `bench sync`).
pub async fn seen_stock<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    run: Uuid,
) -> Result<(u64, StockDay), DbErr> {
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN last_seen_run IS NULL OR last_seen_run <> ? \
                                  THEN 1 ELSE 0 END), 0), {} \
         FROM offers WHERE account = ? AND removed_at IS NULL",
        stock_sums("last_seen_run = ?")
    );
    let values = vec![
        run.into(),
        run.into(),
        run.into(),
        run.into(),
        run.into(),
        account.into(),
    ];
    let row = conn
        .query_one_raw(statement(conn, &sql, values))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a sum has one row".into()))?;
    let n = |i: usize| row.try_get_by_index::<i64>(i);
    let stock = StockDay {
        units_in_stock: n(1)?,
        offers: n(2)?,
        offers_active: n(3)?,
        offers_out_of_stock: n(4)?,
    };
    Ok((u64::try_from(n(0)?).unwrap_or(0), stock))
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
