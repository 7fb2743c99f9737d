//! `GET /analytics`: sales against the period before (or a year before), best sellers,
//! the stock trend and the offers running out, for one account or all; charts drawn
//! on the server, each with its figures in a table.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jobs::analytics::{
    self as history, AnalyticsError, Compare, CoverQuery, Interval, Period, RankBy, Sales, Scope,
};
use serde::Deserialize;

use super::{form_status, prelude::*, unavailable};

#[derive(Deserialize, Default)]
pub struct Fields {
    #[serde(default)]
    account: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    compare: String,
}

type Errors = BTreeMap<String, String>;

/// Days shown when none are chosen: the last 30.
const DEFAULT_DAYS: i64 = 30;
/// Best sellers and offers running out shown.
const LISTED: u64 = 10;
/// Days of cover under which an offer is running out.
const RUNNING_OUT_DAYS: f64 = 7.0;

impl Fields {
    /// This page with the same choices: where switching language or theme returns.
    fn back(&self) -> String {
        let pairs = [
            ("account", &self.account),
            ("from", &self.from),
            ("to", &self.to),
            ("interval", &self.interval),
            ("compare", &self.compare),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url_escape(v)))
            .collect();
        format!("/analytics?{}", query.join("&"))
    }

    fn interval(&self) -> Interval {
        match self.interval.as_str() {
            "week" => Interval::Week,
            "month" => Interval::Month,
            _ => Interval::Day,
        }
    }

    fn compare(&self) -> Compare {
        match self.compare.as_str() {
            "year" => Compare::Year,
            "none" => Compare::None,
            _ => Compare::Previous,
        }
    }

    /// The period chosen, or the last [`DEFAULT_DAYS`] days; a bad day is named.
    fn period(&self, today: NaiveDate, errors: &mut Errors) -> Option<Period> {
        let mut day = |name: &str, given: &str| {
            let given = given.trim();
            if given.is_empty() {
                return None;
            }
            let parsed = given.parse::<NaiveDate>().ok();
            if parsed.is_none() {
                errors.insert(name.into(), "a day as YYYY-MM-DD".into());
            }
            parsed
        };
        let to = day("to", &self.to);
        let from = day("from", &self.from);
        if !errors.is_empty() {
            return None;
        }
        match Period::chosen(from, to, today, DEFAULT_DAYS) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.insert(e.field().into(), e.to_string());
                None
            }
        }
    }
}

/// What the report button sends: the page's account and days, in the page's language.
#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    account: String,
    from: NaiveDate,
    to: NaiveDate,
}

/// `POST /analytics/report`: the PDF report of the days shown; to its run's page, where
/// the file is offered when it is ready.
#[handler]
pub async fn report(state: Data<&AppState>, change: Change<ReportForm>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "analytics");
    let account = if form.account.is_empty() {
        "all"
    } else {
        form.account.as_str()
    };
    let params = serde_json::json!({
        "account": account,
        "period": { "from": form.from, "to": form.to },
        "locale": frame.locale.code(),
    });
    let raw = jobs::params::RawParams::Value(&params);
    let kind = entity::job_run::JobKind::Report;
    match jobs::actions::submit(&state.ctx, kind, raw, None, &me.actor()).await {
        Ok(submitted) => match submitted.into_run() {
            Some(run) => render::see_other(&format!("/runs/{}", run.id)),
            None => render::see_other("/analytics"),
        },
        Err(e) => unavailable(&frame, "report", &e),
    }
}

#[handler]
pub async fn page(state: Data<&AppState>, me: Signed, Query(fields): Query<Fields>) -> Response {
    let frame = Frame::of(&me, "analytics");
    let db = &state.ctx.db;
    let accounts = match jobs::accounts::list(db).await {
        Ok(found) => found.into_iter().map(|a| a.name).collect::<Vec<_>>(),
        Err(e) => return unavailable(&frame, "analytics", &e),
    };
    let mut errors = Errors::new();
    let figures = match load(db, &fields, &mut errors).await {
        Ok(found) => found,
        Err(AnalyticsError::Db(e)) => return unavailable(&frame, "analytics", &e),
        Err(e) => {
            errors.insert(e.field().unwrap_or("account").into(), e.to_string());
            None
        }
    };
    let shown = figures.map(|f| f.view(frame.locale, fields.interval()));
    let data = context! {
        accounts => accounts,
        intervals => ["day", "week", "month"],
        compares => ["previous", "year", "none"],
        v => context! {
            account => fields.account, from => fields.from, to => fields.to,
            interval => if fields.interval.is_empty() { "day" } else { fields.interval.as_str() },
            compare => if fields.compare.is_empty() { "previous" } else { fields.compare.as_str() },
        },
        a => shown,
        errors => errors,
        back => fields.back(),
    };
    render::page("analytics.html", &frame, data, form_status(&errors))
}

/// Everything the page shows, read for the fields' scope and period.
pub(super) struct Loaded {
    pub scope: Scope,
    pub sales: Sales,
    pub top: Vec<history::ProductSales>,
    pub stock: Vec<(NaiveDate, Option<history::StockDay>)>,
    pub running_out: Vec<history::Cover>,
}

async fn load(
    db: &sea_orm::DatabaseConnection,
    fields: &Fields,
    errors: &mut Errors,
) -> Result<Option<Loaded>, AnalyticsError> {
    let account = Some(fields.account.as_str()).filter(|a| !a.is_empty());
    let scope = Scope::resolve(db, account).await?;
    let Some(period) = fields.period(scope.today(), errors) else {
        return Ok(None);
    };
    let sales = history::sales(db, &scope, period, fields.interval(), fields.compare()).await?;
    let top = history::top_products(db, &scope, period, RankBy::Revenue, LISTED).await?;
    let stock = history::stock_trend(db, &scope, period).await?;
    let query = CoverQuery {
        under: Some(RUNNING_OUT_DAYS),
        product_id: None,
        limit: LISTED,
    };
    let running_out = history::cover(db, &scope, &query).await?;
    Ok(Some(Loaded {
        scope,
        sales,
        top,
        stock,
        running_out,
    }))
}
