//! Everything a report shows, read once: sales against the period before, best
//! sellers, offers running out, and how the syncs went.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use entity::job_run::{self, JobKind, RunStatus};
use entity::sync_state;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Query,
};

use crate::analytics::{
    self, AnalyticsError, Compare, CoverQuery, Interval, Period, ProductSales, RankBy, Sales, Scope,
};

/// Best sellers and offers running out listed.
pub const LISTED: u64 = 10;
/// Failed runs named one by one.
const INCIDENTS: u64 = 5;

pub struct ReportData {
    pub scope: Scope,
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    pub sales: Sales,
    pub interval: Interval,
    pub top: Vec<ProductSales>,
    pub running_out: Vec<analytics::Cover>,
    pub health: Health,
}

/// How the syncs of the period went.
pub struct Health {
    /// Sync runs (of one account and resource each) that ended in the period.
    pub syncs: u64,
    pub succeeded: u64,
    /// Runs of any kind that failed or died in the period.
    pub incidents: u64,
    pub latest_incidents: Vec<Incident>,
    /// Each (account, resource)'s last successful sync.
    pub last_syncs: Vec<sync_state::Model>,
}

impl Health {
    /// Succeeded ÷ ended; none without a sync.
    pub fn success_rate(&self) -> Option<f64> {
        (self.syncs > 0).then(|| self.succeeded as f64 / self.syncs as f64)
    }
}

pub struct Incident {
    pub at: DateTime<Utc>,
    pub kind: JobKind,
    pub account: Option<String>,
    pub message: String,
}

/// Reads the report's figures for `scope` and `period`.
pub async fn gather<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    period: Period,
) -> Result<ReportData, AnalyticsError> {
    // A month reads better by day, a quarter by week.
    let interval = if period.days() <= 62 {
        Interval::Day
    } else {
        Interval::Week
    };
    let sales = analytics::sales(db, &scope, period, interval, Compare::Previous).await?;
    let top = analytics::top_products(db, &scope, period, RankBy::Revenue, LISTED).await?;
    let query = CoverQuery {
        under: Some(7.0),
        product_id: None,
        limit: LISTED,
    };
    let running_out = analytics::cover(db, &scope, &query).await?;
    let health = health(db, &scope, period).await?;
    Ok(ReportData {
        scope,
        period,
        generated_at: Utc::now(),
        sales,
        interval,
        top,
        running_out,
        health,
    })
}

/// The first instant of local `day`.
fn start_of(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight).earliest().map_or_else(
        || Utc.from_utc_datetime(&midnight),
        |t| t.with_timezone(&Utc),
    )
}

async fn health<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    period: Period,
) -> Result<Health, DbErr> {
    let from = start_of(scope.tz, period.from);
    let to = start_of(scope.tz, period.to + chrono::Duration::days(1));
    let ended = |statuses: Vec<RunStatus>| {
        let mut q = job_run::Entity::find()
            .filter(job_run::Column::Status.is_in(statuses))
            .filter(job_run::Column::FinishedAt.gte(from))
            .filter(job_run::Column::FinishedAt.lt(to));
        if let Some(account) = &scope.account {
            q = q.filter(job_run::Column::Account.eq(account.as_str()));
        }
        q
    };
    // A sync of several accounts or resources is a parent of one run each: count those.
    let parents = Query::select()
        .column(job_run::Column::ParentId)
        .from(job_run::Entity)
        .and_where(job_run::Column::ParentId.is_not_null())
        .to_owned();
    let syncs = |statuses| {
        ended(statuses)
            .filter(job_run::Column::Kind.eq(JobKind::Sync))
            .filter(job_run::Column::Id.not_in_subquery(parents.clone()))
    };
    let failed = vec![RunStatus::Failed, RunStatus::Dead];
    let all_ends = vec![RunStatus::Succeeded, RunStatus::Failed, RunStatus::Dead];
    let latest = ended(failed.clone())
        .order_by_desc(job_run::Column::FinishedAt)
        .limit(INCIDENTS)
        .all(db)
        .await?
        .into_iter()
        .map(|r| Incident {
            at: r.finished_at.unwrap_or(r.updated_at),
            kind: r.kind,
            account: r.account,
            message: r.error_message.unwrap_or_default(),
        })
        .collect();
    let mut states = sync_state::Entity::find().order_by_asc(sync_state::Column::Account);
    if let Some(account) = &scope.account {
        states = states.filter(sync_state::Column::Account.eq(account.as_str()));
    }
    Ok(Health {
        syncs: syncs(all_ends).count(db).await?,
        succeeded: syncs(vec![RunStatus::Succeeded]).count(db).await?,
        incidents: ended(failed).count(db).await?,
        latest_incidents: latest,
        last_syncs: states
            .order_by_asc(sync_state::Column::Resource)
            .all(db)
            .await?,
    })
}
