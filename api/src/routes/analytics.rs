//! `/api/v1/analytics/…`: sales, best sellers, stock and days of cover from the daily
//! history (`jobs::analytics`), for any key. Days are the account's local days; money is
//! a decimal string in the account's currency.

use chrono::NaiveDate;
use jobs::analytics::{
    self as history, AnalyticsError, Compare, CoverQuery, Interval, Period, RankBy, Scope,
};
use poem_openapi::{Enum, OpenApi, param::Query, payload::Json};

use crate::{error::ApiError, routes::ApiTags, state::AppState};

mod views;

use views::{CoverItem, CoverList, ProductItem, SalesReport, StockPoint, StockTrend, TopProducts};

pub struct AnalyticsApi {
    pub state: AppState,
}

/// Days in a period when none is given: the last 30, today included.
const DEFAULT_DAYS: i64 = 30;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum IntervalParam {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

impl From<IntervalParam> for Interval {
    fn from(v: IntervalParam) -> Self {
        match v {
            IntervalParam::Day => Interval::Day,
            IntervalParam::Week => Interval::Week,
            IntervalParam::Month => Interval::Month,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum CompareParam {
    /// As many days just before.
    Previous,
    /// The same dates a year earlier.
    Year,
    None,
}

impl From<CompareParam> for Compare {
    fn from(v: CompareParam) -> Self {
        match v {
            CompareParam::Previous => Compare::Previous,
            CompareParam::Year => Compare::Year,
            CompareParam::None => Compare::None,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum RankParam {
    Revenue,
    Units,
}

impl From<AnalyticsError> for ApiError {
    fn from(e: AnalyticsError) -> Self {
        match (e.field(), e) {
            (_, AnalyticsError::Db(db)) => db.into(),
            (Some(field), e) => ApiError::invalid(field, e.to_string()),
            (None, e) => ApiError::internal(&e),
        }
    }
}

#[OpenApi(tag = "ApiTags::Analytics")]
impl AnalyticsApi {
    /// Sales by day, week or month
    ///
    /// Every bucket of the period is present (a day without orders is zeros), with the
    /// period's totals and its orders per status. A sale is a finalised order (status
    /// 4); its value is the order's total with VAT, vouchers and shipping. With
    /// `compare`, the same for the period before (or a year before) and the change of
    /// each total: absolute, and relative to the earlier one (none when that is zero).
    /// 422 when the orders counted are in more than one currency.
    #[oai(
        path = "/api/v1/analytics/sales",
        method = "get",
        operation_id = "analytics_sales"
    )]
    async fn sales(
        &self,
        _auth: crate::auth::ApiKey,
        /// One eMAG account; every account when absent or `all`.
        account: Query<Option<String>>,
        /// First local day (default: 29 days before `to`).
        from: Query<Option<NaiveDate>>,
        /// Last local day, included (default: today).
        to: Query<Option<NaiveDate>>,
        /// Bucket size (default `day`).
        interval: Query<Option<IntervalParam>>,
        /// The period to compare with (default `previous`).
        compare: Query<Option<CompareParam>>,
    ) -> Result<Json<SalesReport>, ApiError> {
        let db = &self.state.ctx.db;
        let scope = Scope::resolve(db, account.0.as_deref()).await?;
        let period = period(&scope, from.0, to.0)?;
        let interval = interval.0.unwrap_or(IntervalParam::Day);
        let compare = compare.0.map_or(Compare::Previous, Compare::from);
        let sales = history::sales(db, &scope, period, interval.into(), compare).await?;
        Ok(Json(SalesReport::new(scope.account, interval, sales)))
    }

    /// Best-selling products
    ///
    /// Products by their finalised revenue (with VAT, before vouchers) or units in the
    /// period, most first.
    #[oai(
        path = "/api/v1/analytics/products",
        method = "get",
        operation_id = "analytics_top_products"
    )]
    async fn products(
        &self,
        _auth: crate::auth::ApiKey,
        /// One eMAG account; every account when absent or `all`.
        account: Query<Option<String>>,
        /// First local day (default: 29 days before `to`).
        from: Query<Option<NaiveDate>>,
        /// Last local day, included (default: today).
        to: Query<Option<NaiveDate>>,
        /// What ranks them (default `revenue`).
        by: Query<Option<RankParam>>,
        /// How many, 1 to 100 (default 10).
        limit: Query<Option<u64>>,
    ) -> Result<Json<TopProducts>, ApiError> {
        let db = &self.state.ctx.db;
        let scope = Scope::resolve(db, account.0.as_deref()).await?;
        let period = period(&scope, from.0, to.0)?;
        let limit = limit_in("limit", limit.0, 10, 100)?;
        let rank = match by.0 {
            Some(RankParam::Units) => RankBy::Units,
            _ => RankBy::Revenue,
        };
        let rows = history::top_products(db, &scope, period, rank, limit).await?;
        Ok(Json(TopProducts {
            from: period.from,
            to: period.to,
            items: rows.into_iter().map(ProductItem::from).collect(),
        }))
    }

    /// Stock by day
    ///
    /// Units in stock and offers (active, active without stock) per local day, as the
    /// last offers sync of the day found them; a day without a sync carries the one
    /// before forward. Days before the first sync have no figures.
    #[oai(
        path = "/api/v1/analytics/stock",
        method = "get",
        operation_id = "analytics_stock"
    )]
    async fn stock(
        &self,
        _auth: crate::auth::ApiKey,
        /// One eMAG account; every account when absent or `all`.
        account: Query<Option<String>>,
        /// First local day (default: 29 days before `to`).
        from: Query<Option<NaiveDate>>,
        /// Last local day, included (default: today).
        to: Query<Option<NaiveDate>>,
    ) -> Result<Json<StockTrend>, ApiError> {
        let db = &self.state.ctx.db;
        let scope = Scope::resolve(db, account.0.as_deref()).await?;
        let period = period(&scope, from.0, to.0)?;
        let days = history::stock_trend(db, &scope, period).await?;
        Ok(Json(StockTrend {
            from: period.from,
            to: period.to,
            points: days.into_iter().map(StockPoint::from).collect(),
        }))
    }

    /// Days of cover per offer
    ///
    /// An active offer's stock divided by its pace: the units ordered (not cancelled or
    /// returned) over the last 28 local days, today included, per day. Offers that sold
    /// in those days, shortest cover first; with `product_id`, that offer even if it did
    /// not sell (then its `days` is absent).
    #[oai(
        path = "/api/v1/analytics/cover",
        method = "get",
        operation_id = "analytics_cover"
    )]
    async fn cover(
        &self,
        _auth: crate::auth::ApiKey,
        /// One eMAG account; every account when absent or `all`.
        account: Query<Option<String>>,
        /// Only this offer (the seller's product id).
        product_id: Query<Option<i64>>,
        /// Only offers whose cover is under this many days.
        under: Query<Option<f64>>,
        /// How many, 1 to 1000 (default 100).
        limit: Query<Option<u64>>,
    ) -> Result<Json<CoverList>, ApiError> {
        let under = under.0.map(|u| days_in("under", u)).transpose()?;
        let query = CoverQuery {
            under,
            product_id: product_id.0,
            limit: limit_in("limit", limit.0, 100, 1000)?,
        };
        self.cover_list(account.0, query).await
    }

    /// Offers running out
    ///
    /// Offers whose days of cover (see `analytics_cover`) are under `days`, including
    /// those already out of stock that sold in the last 28 days: shortest cover first.
    #[oai(
        path = "/api/v1/analytics/running-out",
        method = "get",
        operation_id = "analytics_running_out"
    )]
    async fn running_out(
        &self,
        _auth: crate::auth::ApiKey,
        /// One eMAG account; every account when absent or `all`.
        account: Query<Option<String>>,
        /// Cover under this many days (default 7).
        days: Query<Option<f64>>,
        /// How many, 1 to 1000 (default 100).
        limit: Query<Option<u64>>,
    ) -> Result<Json<CoverList>, ApiError> {
        let query = CoverQuery {
            under: Some(days_in("days", days.0.unwrap_or(7.0))?),
            product_id: None,
            limit: limit_in("limit", limit.0, 100, 1000)?,
        };
        self.cover_list(account.0, query).await
    }
}

impl AnalyticsApi {
    async fn cover_list(
        &self,
        account: Option<String>,
        query: CoverQuery,
    ) -> Result<Json<CoverList>, ApiError> {
        let db = &self.state.ctx.db;
        let scope = Scope::resolve(db, account.as_deref()).await?;
        let rows = history::cover(db, &scope, &query).await?;
        Ok(Json(CoverList {
            pace_days: history::products::PACE_DAYS,
            today: scope.today(),
            items: rows.into_iter().map(CoverItem::from).collect(),
        }))
    }
}

/// The period asked for, by default the last [`DEFAULT_DAYS`] local days.
fn period(
    scope: &Scope,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Period, ApiError> {
    Ok(Period::chosen(from, to, scope.today(), DEFAULT_DAYS).map_err(AnalyticsError::from)?)
}

fn limit_in(field: &str, given: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    let limit = given.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be between 1 and {max}"),
        ))
    }
}

fn days_in(field: &str, days: f64) -> Result<f64, ApiError> {
    if days.is_finite() && days > 0.0 && days <= 3650.0 {
        Ok(days)
    } else {
        Err(ApiError::invalid(
            field,
            "must be a number of days above 0 and at most 3650",
        ))
    }
}
