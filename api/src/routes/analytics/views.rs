//! What the analytics routes answer.

use chrono::NaiveDate;
use jobs::analytics::{Cover, Figures, ProductSales, Sales, Series, StockDay, sales::change};
use poem_openapi::Object;
use rust_decimal::Decimal;

use super::IntervalParam;

fn money(d: Decimal) -> String {
    d.round_dp(4).normalize().to_string()
}

/// A bucket's or a period's sales.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct SalesFigures {
    /// Orders placed, whatever their status now.
    pub orders: i64,
    /// Status 4: the sales.
    pub finalised_orders: i64,
    /// Units on the finalised orders' active lines.
    pub units_sold: i64,
    /// The finalised orders' value with VAT, vouchers and shipping.
    pub revenue: String,
    pub cancelled_orders: i64,
    pub cancelled_value: String,
    /// Revenue per finalised order (absent without one).
    pub average_order_value: Option<String>,
}

impl From<&Figures> for SalesFigures {
    fn from(f: &Figures) -> Self {
        SalesFigures {
            orders: f.orders,
            finalised_orders: f.finalised_orders,
            units_sold: f.units_sold,
            revenue: money(f.revenue),
            cancelled_orders: f.cancelled_orders,
            cancelled_value: money(f.cancelled_value),
            average_order_value: f.average_order_value().map(money),
        }
    }
}

/// One day, week or month (cut to the period).
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct SalesPoint {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[oai(flatten)]
    pub figures: SalesFigures,
}

/// Orders of one status in the period.
#[derive(Object, Debug)]
pub struct StatusFigures {
    /// 0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalised, 5 returned.
    pub status: i32,
    pub orders: i64,
    pub units: i64,
    pub value: String,
}

#[derive(Object, Debug)]
pub struct SalesSeries {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub points: Vec<SalesPoint>,
    pub totals: SalesFigures,
    pub by_status: Vec<StatusFigures>,
}

impl From<&Series> for SalesSeries {
    fn from(s: &Series) -> Self {
        SalesSeries {
            from: s.period.from,
            to: s.period.to,
            points: s
                .points
                .iter()
                .map(|p| SalesPoint {
                    from: p.period.from,
                    to: p.period.to,
                    figures: (&p.figures).into(),
                })
                .collect(),
            totals: (&s.totals).into(),
            by_status: s
                .by_status
                .iter()
                .map(|r| StatusFigures {
                    status: r.status,
                    orders: r.orders,
                    units: r.units,
                    value: money(r.value),
                })
                .collect(),
        }
    }
}

/// A total now against the compared period.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct Change {
    /// Now minus before.
    pub absolute: String,
    /// `absolute` ÷ before (0.25 is 25% more); absent when before is zero.
    pub relative: Option<String>,
}

fn changed(now: Decimal, before: Decimal) -> Change {
    let (absolute, relative) = change(now, before);
    Change {
        absolute: money(absolute),
        relative: relative.map(|r| r.normalize().to_string()),
    }
}

/// Each total's change against the compared period.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct SalesChange {
    pub orders: Change,
    pub finalised_orders: Change,
    pub units_sold: Change,
    pub revenue: Change,
    pub cancelled_orders: Change,
    pub cancelled_value: Change,
    /// Absent when either period has no finalised order.
    pub average_order_value: Option<Change>,
}

impl SalesChange {
    fn new(now: &Figures, before: &Figures) -> Self {
        let n = |v: i64| Decimal::from(v);
        SalesChange {
            orders: changed(n(now.orders), n(before.orders)),
            finalised_orders: changed(n(now.finalised_orders), n(before.finalised_orders)),
            units_sold: changed(n(now.units_sold), n(before.units_sold)),
            revenue: changed(now.revenue, before.revenue),
            cancelled_orders: changed(n(now.cancelled_orders), n(before.cancelled_orders)),
            cancelled_value: changed(now.cancelled_value, before.cancelled_value),
            average_order_value: now
                .average_order_value()
                .zip(before.average_order_value())
                .map(|(a, b)| changed(a, b)),
        }
    }
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct SalesReport {
    /// The account asked for; absent for every account.
    pub account: Option<String>,
    /// The currency of every order counted; absent when there are none.
    pub currency: Option<String>,
    pub interval: IntervalParam,
    pub current: SalesSeries,
    /// The period compared with (absent with `compare=none`).
    pub compared: Option<SalesSeries>,
    pub change: Option<SalesChange>,
}

impl SalesReport {
    pub fn new(account: Option<String>, interval: IntervalParam, sales: Sales) -> Self {
        SalesReport {
            account,
            currency: sales.currency,
            interval,
            current: (&sales.current).into(),
            change: sales
                .compared
                .as_ref()
                .map(|c| SalesChange::new(&sales.current.totals, &c.totals)),
            compared: sales.compared.as_ref().map(SalesSeries::from),
        }
    }
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductItem {
    pub account: String,
    /// The seller's product id (the offer's id).
    pub product_id: i64,
    pub name: Option<String>,
    pub part_number_key: Option<String>,
    pub units: i64,
    /// With VAT, before vouchers.
    pub revenue: String,
}

impl From<ProductSales> for ProductItem {
    fn from(p: ProductSales) -> Self {
        ProductItem {
            account: p.account,
            product_id: p.product_id,
            name: p.name,
            part_number_key: p.part_number_key,
            units: p.units,
            revenue: money(p.revenue),
        }
    }
}

#[derive(Object, Debug)]
pub struct TopProducts {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<ProductItem>,
}

/// A day's stock; the figures are absent before the first offers sync.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct StockPoint {
    pub day: NaiveDate,
    pub units_in_stock: Option<i64>,
    pub offers: Option<i64>,
    pub offers_active: Option<i64>,
    pub offers_out_of_stock: Option<i64>,
}

impl From<(NaiveDate, Option<StockDay>)> for StockPoint {
    fn from((day, s): (NaiveDate, Option<StockDay>)) -> Self {
        StockPoint {
            day,
            units_in_stock: s.map(|s| s.units_in_stock),
            offers: s.map(|s| s.offers),
            offers_active: s.map(|s| s.offers_active),
            offers_out_of_stock: s.map(|s| s.offers_out_of_stock),
        }
    }
}

#[derive(Object, Debug)]
pub struct StockTrend {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub points: Vec<StockPoint>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct CoverItem {
    pub account: String,
    pub product_id: i64,
    pub name: Option<String>,
    pub part_number_key: Option<String>,
    /// `general_stock`.
    pub stock: i64,
    /// Units ordered in the pace days.
    pub units: i64,
    /// Units a day.
    pub pace: f64,
    /// Stock ÷ pace, one decimal; absent when it did not sell.
    pub days: Option<f64>,
}

impl From<Cover> for CoverItem {
    fn from(c: Cover) -> Self {
        CoverItem {
            account: c.account,
            product_id: c.product_id,
            name: c.name,
            part_number_key: c.part_number_key,
            stock: c.stock,
            units: c.units,
            pace: (c.pace * 1000.0).round() / 1000.0,
            days: c.days.map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

#[derive(Object, Debug)]
pub struct CoverList {
    /// Days the pace is measured over.
    pub pace_days: i64,
    /// The last of them (local).
    pub today: NaiveDate,
    pub items: Vec<CoverItem>,
}
