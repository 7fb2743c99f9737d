//! Announcements a crash lost. A run's end is written first and announced just after:
//! a process that dies in between leaves an ended run whose subscribers never hear of it.
//! Every worker process looks, once a lease has passed, at the top-level runs that ended
//! since it last looked, and announces those still unannounced. The announcement's
//! conditional claim (`announced` from false to true, with the notification runs, in one
//! transaction) makes it once per run, whichever process gets there first.

use chrono::{DateTime, Utc};
use entity::job_run::{self, RunStatus};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::subscriptions::{announce_all_ended, list};
use crate::{JobKind, Queue, error::RunsError};

/// How far back a process looks when it starts: an end older than this is not
/// announced any more (news of a run a day late is no news).
const LOOK_BACK: chrono::Duration = chrono::Duration::hours(24);

/// Runs read per query.
const PAGE: u64 = 500;

/// Where a process's looking has reached: runs that ended up to `(at, id)` were seen.
pub struct LostAnnouncements {
    seen: (DateTime<Utc>, Uuid),
}

impl LostAnnouncements {
    pub fn new(now: DateTime<Utc>) -> LostAnnouncements {
        LostAnnouncements {
            seen: (now - LOOK_BACK, Uuid::nil()),
        }
    }

    /// Announces the unannounced top-level runs that ended after the last look and more
    /// than `settle` ago (by then an end that is being announced normally has been);
    /// how many notifications were queued.
    pub async fn sweep(
        &mut self,
        db: &DatabaseConnection,
        queue: &Queue,
        settle: std::time::Duration,
    ) -> Result<usize, RunsError> {
        let until = Utc::now() - chrono::Duration::from_std(settle).unwrap_or_default();
        if until <= self.seen.0 {
            return Ok(0);
        }
        // Without subscriptions only a schedule's `notify` list can want a run.
        let only_scheduled = list(db).await?.is_empty();
        let mut queued = 0;
        loop {
            let page = self.next_page(db, until, only_scheduled).await?;
            let Some(last) = page.last() else { break };
            let next = (last.finished_at.unwrap_or(until), last.id);
            for answer in announce_all_ended(db, queue, &page).await {
                queued += answer?;
            }
            self.seen = next;
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        // Ends at `until` itself are read by the next look.
        self.seen = self.seen.max((until, Uuid::nil()));
        Ok(queued)
    }

    async fn next_page(
        &self,
        db: &DatabaseConnection,
        until: DateTime<Utc>,
        only_scheduled: bool,
    ) -> Result<Vec<job_run::Model>, sea_orm::DbErr> {
        let (at, id) = self.seen;
        let after = Condition::any()
            .add(job_run::Column::FinishedAt.gt(at))
            .add(
                Condition::all()
                    .add(job_run::Column::FinishedAt.eq(at))
                    .add(job_run::Column::Id.gt(id)),
            );
        let mut q = job_run::Entity::find()
            .filter(after)
            .filter(job_run::Column::FinishedAt.lt(until))
            .filter(job_run::Column::Status.is_in(ended()))
            .filter(job_run::Column::ParentId.is_null())
            .filter(job_run::Column::Announced.eq(false))
            .filter(job_run::Column::Kind.ne(JobKind::Notification));
        if only_scheduled {
            q = q.filter(job_run::Column::ScheduleId.is_not_null());
        }
        q.order_by_asc(job_run::Column::FinishedAt)
            .order_by_asc(job_run::Column::Id)
            .limit(PAGE)
            .all(db)
            .await
    }
}

fn ended() -> Vec<RunStatus> {
    RunStatus::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect()
}
