//! After a sync: the account's daily history from what it wrote (`crate::analytics`).

use chrono::Utc;

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
            analytics::snapshot_stock(&txn, s.name(), day, Utc::now()).await?;
        }
        Resource::All => {}
    }
    txn.commit().await?;
    Ok(())
}
