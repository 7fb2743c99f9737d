//! Daily history per account, computed from the synced orders and offers, and the
//! figures read from it (sales series, top products, stock, days of cover).
//!
//! The figures are a pure function of `orders` and `order_lines`: a sync marks the local
//! days it wrote (in the page's own transaction, [`mark`]), and at its end recomputes
//! those days whole ([`refresh`]), so a repeated or interrupted refresh leaves the same
//! rows, and a crash between the two leaves the marks for the next refresh (the account's
//! next sync, or a worker's sweep: `sync::history::refresh_left`). Stock has no history
//! to recompute from: each offers sync keeps the day's snapshot ([`snapshot_stock`]).

pub mod period;
pub mod products;
mod refresh;
pub mod sales;
mod scope;
mod sql;
mod stock;

pub use period::{Compare, Interval, Period, PeriodError};
pub use products::{Cover, CoverQuery, ProductSales, RankBy, cover, top_products};
pub use refresh::{RebuildReport, forget, mark, rebuild, refresh};
pub use sales::{Figures, Sales, Series, sales};
pub use scope::{AnalyticsError, Scope};
pub use stock::{StockDay, seen_stock, snapshot_stock, stock_trend, write_stock};

/// eMAG's order status that counts as a sale: finalised (4).
pub const FINALISED: i32 = 4;
/// Cancelled (0).
pub const CANCELLED: i32 = 0;
/// Returned (5).
pub const RETURNED: i32 = 5;

/// Where a chart's value axis ends: 1, 2 or 5 times a power of ten, at least `max`
/// (1 when there is nothing to show).
pub fn axis_top(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * power)
}
