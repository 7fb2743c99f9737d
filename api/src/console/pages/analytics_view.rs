//! What the Analytics page shows from the figures it read: key figures with their
//! change, the charts (`crate::console::charts`) and the rows of their tables.

use chrono::NaiveDate;
use jobs::analytics::{self as history, Figures, Interval, Sales};
use rust_decimal::{Decimal, prelude::ToPrimitive};

use super::{analytics::Loaded, prelude::*};
use crate::console::{
    charts::{self, Labels},
    i18n::Locale,
};

fn float(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// How the page writes amounts and counts, in the page's language.
struct Format<'a> {
    locale: Locale,
    currency: &'a str,
}

impl Format<'_> {
    fn money(&self, d: Decimal) -> String {
        self.locale.money(&d.round_dp(2).to_string(), self.currency)
    }

    fn number(&self, v: f64) -> String {
        self.locale.number(v.round() as i64)
    }

    fn text(&self, key: &str) -> String {
        self.locale.text(key).to_owned()
    }

    fn labels<'b>(&self, id: &'b str, key: &str) -> (String, String, &'b str) {
        (self.text(key), self.text(&format!("{key}_desc")), id)
    }
}

/// A total with its change against the compared period, as a key figure shows it.
fn key_figure(key: &str, now: Decimal, before: Option<Decimal>, text: String) -> Value {
    let relative = before.and_then(|b| history::sales::change(now, b).1);
    let trend = relative.map(|r| {
        if r.is_zero() {
            "flat"
        } else if r.is_sign_negative() {
            "down"
        } else {
            "up"
        }
    });
    context! {
        key => key,
        text => text,
        change => relative.map(|r| format!("{:+.1}%", float(r) * 100.0)),
        trend => trend,
    }
}

/// Revenue, sales, units, average order value and cancellations, each with its change.
fn key_figures(f: &Format, sales: &Sales) -> Vec<Value> {
    let now = &sales.current.totals;
    let before = sales.compared.as_ref().map(|c| &c.totals);
    let n = |v: i64| Decimal::from(v);
    let count = |v: i64| f.locale.number(v);
    let aov = Figures::average_order_value;
    vec![
        key_figure(
            "revenue",
            now.revenue,
            before.map(|b| b.revenue),
            f.money(now.revenue),
        ),
        key_figure(
            "finalised_orders",
            n(now.finalised_orders),
            before.map(|b| n(b.finalised_orders)),
            count(now.finalised_orders),
        ),
        key_figure(
            "units_sold",
            n(now.units_sold),
            before.map(|b| n(b.units_sold)),
            count(now.units_sold),
        ),
        key_figure(
            "average_order_value",
            aov(now).unwrap_or_default(),
            before.and_then(aov),
            aov(now).map_or_else(|| "–".to_owned(), |a| f.money(a)),
        ),
        key_figure(
            "cancelled_orders",
            n(now.cancelled_orders),
            before.map(|b| n(b.cancelled_orders)),
            count(now.cancelled_orders),
        ),
    ]
}

/// The sales chart (revenue per bucket, the compared period's as a line) and its rows.
fn sales_section(f: &Format, sales: &Sales, interval: Interval) -> (String, Vec<Value>) {
    let label = if interval == Interval::Month {
        "%m.%Y"
    } else {
        "%d.%m"
    };
    let points = &sales.current.points;
    let before = sales.compared.as_ref().map(|c| &c.points);
    let x: Vec<String> = points
        .iter()
        .map(|p| p.period.from.format(label).to_string())
        .collect();
    let revenue: Vec<f64> = points.iter().map(|p| float(p.figures.revenue)).collect();
    let compared: Option<Vec<f64>> =
        before.map(|b| b.iter().map(|p| float(p.figures.revenue)).collect());
    let (title, desc, id) = f.labels("sales-chart", "sales_chart");
    let chart = charts::bars(
        &Labels {
            id,
            title: &title,
            desc: &desc,
        },
        &x,
        &revenue,
        compared.as_deref(),
        &|v| f.number(v),
    );
    // A bucket is compared with the one in the same place of the earlier period.
    let rows = points
        .iter()
        .zip(&x)
        .enumerate()
        .map(|(i, (p, label))| {
            context! {
                label => label,
                revenue => f.money(p.figures.revenue),
                orders => p.figures.finalised_orders,
                units => p.figures.units_sold,
                before => before.and_then(|b| b.get(i)).map(|q| f.money(q.figures.revenue)),
            }
        })
        .collect();
    (chart, rows)
}

fn product_name(name: &Option<String>, id: i64) -> String {
    name.clone().unwrap_or_else(|| id.to_string())
}

fn top_section(f: &Format, top: &[history::ProductSales]) -> (String, Vec<Value>) {
    let items: Vec<(String, f64)> = top
        .iter()
        .map(|p| (product_name(&p.name, p.product_id), float(p.revenue)))
        .collect();
    let (title, desc, id) = f.labels("top-chart", "top_products");
    let chart = charts::hbars(
        &Labels {
            id,
            title: &title,
            desc: &desc,
        },
        &items,
        &|v| f.money(Decimal::from_f64_retain(v).unwrap_or_default()),
    );
    let rows = top
        .iter()
        .map(|p| {
            context! {
                name => product_name(&p.name, p.product_id),
                id => p.product_id,
                account => p.account,
                units => p.units,
                revenue => f.money(p.revenue),
            }
        })
        .collect();
    (chart, rows)
}

fn stock_chart(f: &Format, stock: &[(NaiveDate, Option<history::StockDay>)]) -> String {
    let x: Vec<String> = stock
        .iter()
        .map(|(d, _)| d.format("%d.%m").to_string())
        .collect();
    let values: Vec<Option<f64>> = stock
        .iter()
        .map(|(_, s)| s.map(|s| s.units_in_stock as f64))
        .collect();
    let (title, desc, id) = f.labels("stock-chart", "stock_trend");
    charts::line(
        &Labels {
            id,
            title: &title,
            desc: &desc,
        },
        &x,
        &values,
        &|v| f.number(v),
    )
}

impl Loaded {
    /// The page's `a`: key figures, charts and their rows.
    pub(super) fn view(self, locale: Locale, interval: Interval) -> Value {
        let currency = self.sales.currency.clone().unwrap_or_default();
        let f = Format {
            locale,
            currency: &currency,
        };
        let (sales_chart, points) = sales_section(&f, &self.sales, interval);
        let (top_chart, top) = top_section(&f, &self.top);
        let running_out: Vec<Value> = self
            .running_out
            .iter()
            .map(|c| {
                context! {
                    name => product_name(&c.name, c.product_id),
                    id => c.product_id,
                    account => c.account,
                    stock => c.stock,
                    pace => format!("{:.1}", c.pace),
                    days => c.days.map(|d| format!("{d:.1}")),
                }
            })
            .collect();
        context! {
            account => self.scope.account,
            from => self.sales.current.period.from.to_string(),
            to => self.sales.current.period.to.to_string(),
            currency => currency,
            keys => key_figures(&f, &self.sales),
            compared => self.sales.compared.is_some(),
            sales_chart => Value::from_safe_string(sales_chart),
            top_chart => Value::from_safe_string(top_chart),
            stock_chart => Value::from_safe_string(stock_chart(&f, &self.stock)),
            has_stock => self.stock.iter().any(|(_, s)| s.is_some()),
            points => points,
            top => top,
            running_out => running_out,
        }
    }
}
