//! Sales series: figures per day, week or month of a period, their totals, and the
//! same for the period they are compared with.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::{
    CANCELLED, FINALISED,
    period::{Compare, Interval, Period},
    scope::{AnalyticsError, Scope},
    sql::statement,
};

/// A bucket's (or a period's) sales. A sale is a finalised order; its value is the
/// order's total with VAT, vouchers and shipping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Every order placed, whatever its status now.
    pub orders: i64,
    pub finalised_orders: i64,
    /// Units on the finalised orders' active lines.
    pub units_sold: i64,
    /// The finalised orders' value.
    pub revenue: Decimal,
    pub cancelled_orders: i64,
    pub cancelled_value: Decimal,
}

impl Figures {
    /// Revenue per finalised order; none without one.
    pub fn average_order_value(&self) -> Option<Decimal> {
        (self.finalised_orders > 0)
            .then(|| (self.revenue / Decimal::from(self.finalised_orders)).round_dp(2))
    }

    fn add(&mut self, row: &StatusRow) {
        self.orders += row.orders;
        if row.status == FINALISED {
            self.finalised_orders += row.orders;
            self.units_sold += row.units;
            self.revenue += row.value;
        } else if row.status == CANCELLED {
            self.cancelled_orders += row.orders;
            self.cancelled_value += row.value;
        }
    }
}

/// Orders of one status in a period.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct StatusRow {
    pub status: i32,
    pub orders: i64,
    pub units: i64,
    pub value: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub period: Period,
    pub figures: Figures,
}

/// A period's buckets, every one present (a day without orders is zeros), and totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub period: Period,
    pub points: Vec<Point>,
    pub totals: Figures,
    pub by_status: Vec<StatusRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sales {
    /// The one currency of every order counted; none when there are no orders.
    pub currency: Option<String>,
    pub current: Series,
    pub compared: Option<Series>,
}

#[derive(FromQueryResult)]
struct DayRow {
    day: NaiveDate,
    status: i32,
    orders: i64,
    units: i64,
    value: Decimal,
    low_currency: Option<String>,
    high_currency: Option<String>,
}

/// The sales of `period` by `interval`, and of the period `compare` names.
pub async fn sales<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    interval: Interval,
    compare: Compare,
) -> Result<Sales, AnalyticsError> {
    let (current, mut currencies) = series(conn, scope, period, interval).await?;
    let compared = match period.compared(compare) {
        Some(other) => {
            let (series, more) = series(conn, scope, other, interval).await?;
            currencies.extend(more);
            Some(series)
        }
        None => None,
    };
    if currencies.len() > 1 {
        return Err(AnalyticsError::MixedCurrencies(
            currencies.into_iter().collect(),
        ));
    }
    Ok(Sales {
        currency: currencies.into_iter().next(),
        current,
        compared,
    })
}

/// A period's series, and the currencies of its orders (one query: this is what the
/// sales route and chart wait for).
async fn series<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    interval: Interval,
) -> Result<(Series, BTreeSet<String>), AnalyticsError> {
    let mut values: Vec<Value> = vec![period.from.into(), period.to.into()];
    let account = scope.condition("account", &mut values);
    let sql = format!(
        "SELECT day, status, CAST(SUM(orders) AS BIGINT) AS orders, \
                CAST(SUM(units) AS BIGINT) AS units, SUM(value) AS value, \
                MIN(currency) AS low_currency, MAX(currency) AS high_currency \
         FROM sales_daily WHERE day >= ? AND day <= ?{account} GROUP BY day, status"
    );
    let rows = DayRow::find_by_statement(statement(conn, &sql, values))
        .all(conn)
        .await?;
    let mut currencies = BTreeSet::new();
    let mut by_day: BTreeMap<NaiveDate, Vec<StatusRow>> = BTreeMap::new();
    let mut by_status: BTreeMap<i32, StatusRow> = BTreeMap::new();
    for r in rows {
        currencies.extend(r.low_currency.into_iter().chain(r.high_currency));
        let row = StatusRow {
            status: r.status,
            orders: r.orders,
            units: r.units,
            value: r.value.round_dp(4),
        };
        let total = by_status.entry(r.status).or_insert(StatusRow {
            status: r.status,
            orders: 0,
            units: 0,
            value: Decimal::ZERO,
        });
        total.orders += row.orders;
        total.units += row.units;
        total.value += row.value;
        by_day.entry(r.day).or_default().push(row);
    }
    let mut totals = Figures::default();
    let points = period
        .buckets(interval)
        .into_iter()
        .map(|bucket| {
            let mut figures = Figures::default();
            for row in bucket.each_day().filter_map(|d| by_day.get(&d)).flatten() {
                figures.add(row);
                totals.add(row);
            }
            Point {
                period: bucket,
                figures,
            }
        })
        .collect();
    let series = Series {
        period,
        points,
        totals,
        by_status: by_status.into_values().collect(),
    };
    Ok((series, currencies))
}

/// `now` against `before`: the difference, and it as a share of `before` (none when
/// `before` is zero).
pub fn change(now: Decimal, before: Decimal) -> (Decimal, Option<Decimal>) {
    let absolute = now - before;
    let relative = (!before.is_zero()).then(|| (absolute / before).round_dp(4));
    (absolute, relative)
}
