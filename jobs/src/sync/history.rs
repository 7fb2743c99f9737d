//! After a sync: the account's daily history from what it wrote (`crate::analytics`).

use chrono::Utc;
use entity::{
    analytics_dirty, emag_account,
    job_run::{self, RunStatus},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use super::{Resource, Session, clock};
use crate::{
    analytics,
    error::JobError,
    progress::{Level, Progress},
};

/// After a sync that succeeded: recomputes the order days it (or an interrupted one
/// before it) marked, or takes the day's stock snapshot. A failure here does not fail a
/// sync whose data is written: the marks stay for the next sync, and the run's log says so.
pub(super) async fn after(
    s: &Session<'_>,
    progress: &mut Progress,
    resource: Resource,
    result: &Result<(), JobError>,
) {
    if result.is_err() {
        return;
    }
    if let Err(e) = write(s, resource).await {
        match e {
            // The account was deleted meanwhile: nothing to keep history for.
            JobError::Cancelled => {}
            e => progress.log(
                Level::Warn,
                format!("daily history not updated ({e}); the next sync will"),
            ),
        }
    }
}

async fn write(s: &Session<'_>, resource: Resource) -> Result<(), JobError> {
    let txn = s.begin_page().await?;
    match resource {
        Resource::Orders => {
            analytics::refresh(&txn, s.name()).await?;
        }
        Resource::Offers => {
            let day = clock::now_local(s.tz).date();
            match s.stock {
                Some(stock) => {
                    analytics::write_stock(&txn, s.name(), day, Utc::now(), stock).await?
                }
                None => analytics::snapshot_stock(&txn, s.name(), day, Utc::now()).await?,
            }
        }
        Resource::All => {}
    }
    txn.commit().await?;
    Ok(())
}

/// Recomputes the days still marked for accounts with no orders sync running: what a
/// crash between a page's commit and its sync's end leaves. Each account in its own
/// transaction holding the account's row, so a deleted account gets no history back.
/// The days recomputed.
pub async fn refresh_left(db: &DatabaseConnection) -> Result<usize, JobError> {
    let marked: Vec<String> = analytics_dirty::Entity::find()
        .select_only()
        .column(analytics_dirty::Column::Account)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut days = 0;
    for name in marked {
        // A running sync recomputes its own days at its end.
        let running = job_run::Entity::find()
            .filter(job_run::Column::LockKey.eq(super::lock_key(&name, "orders")))
            .filter(job_run::Column::Status.eq(RunStatus::Running))
            .count(db)
            .await?;
        let account = emag_account::Entity::find()
            .filter(emag_account::Column::Name.eq(name.as_str()))
            .one(db)
            .await?;
        let (0, Some(account)) = (running, account) else {
            continue;
        };
        let txn = match super::begin_page(db, account.id).await {
            Ok(txn) => txn,
            Err(JobError::Cancelled) => continue,
            Err(e) => return Err(e),
        };
        days += analytics::refresh(&txn, &name).await?;
        txn.commit().await?;
    }
    Ok(days)
}
