//! Retention: finished runs (with their log lines, bulk items and schedule ticks), audit
//! rows and export files older than the configured ages are purged once an hour. Every
//! worker's scheduler offers to do it; the hour is claimed like a schedule tick (a
//! `schedule_fires` row under a fixed id), so exactly one process purges, and the purge
//! writes its own audit row with what it removed.

use chrono::{DateTime, Duration, DurationRound, Utc};
use entity::{
    audit_log, bulk_item,
    job_run::{self, RunStatus},
    run_event,
    schedule_fire::{self, FireOutcome},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, sea_query::OnConflict,
};
use serde_json::json;
use uuid::Uuid;

use crate::{audit, config::Config, export::files};

/// The claim key of the hourly purge in `schedule_fires` (no schedule has this id).
pub const MAINTENANCE_ID: Uuid = Uuid::from_u128(0x6d61_6766_6c6f_7700_0000_0000_0000_0001);

/// What one purge removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub runs: u64,
    pub run_events: u64,
    pub bulk_items: u64,
    pub schedule_fires: u64,
    pub audit_rows: u64,
    pub export_files: u64,
    pub console_sessions: u64,
}

/// Purges if this hour's purge is not claimed yet; what it removed, or None when
/// another process has it.
pub async fn run_hourly(
    db: &DatabaseConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Option<Purged>, DbErr> {
    let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let claimed = schedule_fire::Entity::insert(schedule_fire::ActiveModel {
        schedule_id: Set(MAINTENANCE_ID),
        fire_at: Set(hour),
        run_id: Set(None),
        outcome: Set(FireOutcome::Maintenance),
        claimed_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            schedule_fire::Column::ScheduleId,
            schedule_fire::Column::FireAt,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if claimed == 0 {
        return Ok(None);
    }
    purge(db, config, now).await.map(Some)
}

/// Removes everything older than the configured ages at `now`, and audits it.
pub async fn purge(
    db: &DatabaseConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Purged, DbErr> {
    // Both are checked at start-up to be 1 to 36,500 days.
    let days = |d: u64| Duration::days(i64::try_from(d.min(36_500)).unwrap_or(36_500));
    let runs_before = now - days(config.retention_runs_days);
    let audit_before = now - days(config.retention_audit_days);
    let mut purged = Purged::default();

    // In batches, so a first purge of a large history does not hold one huge transaction.
    loop {
        let ids: Vec<Uuid> = job_run::Entity::find()
            .select_only()
            .column(job_run::Column::Id)
            .filter(job_run::Column::Status.is_in([
                RunStatus::Succeeded,
                RunStatus::Failed,
                RunStatus::Cancelled,
                RunStatus::Dead,
            ]))
            .filter(job_run::Column::FinishedAt.lt(runs_before))
            .limit(500)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        purged.run_events += run_event::Entity::delete_many()
            .filter(run_event::Column::RunId.is_in(ids.clone()))
            .exec(db)
            .await?
            .rows_affected;
        purged.bulk_items += bulk_item::Entity::delete_many()
            .filter(bulk_item::Column::RunId.is_in(ids.clone()))
            .exec(db)
            .await?
            .rows_affected;
        purged.runs += job_run::Entity::delete_many()
            .filter(job_run::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    purged.schedule_fires = schedule_fire::Entity::delete_many()
        .filter(schedule_fire::Column::FireAt.lt(runs_before))
        .exec(db)
        .await?
        .rows_affected;
    purged.audit_rows = audit_log::Entity::delete_many()
        .filter(audit_log::Column::At.lt(audit_before))
        .exec(db)
        .await?
        .rows_affected;
    let dir = std::path::PathBuf::from(&config.exports_dir);
    purged.export_files = files::remove_expired(&dir, config.export_retention()) as u64;
    purged.console_sessions =
        crate::users::sessions::purge_expired(db, crate::users::sessions::Lifetime::of(config))
            .await?;

    let details = json!({
        "removed": purged,
        "runs_older_than_days": config.retention_runs_days,
        "audit_older_than_days": config.retention_audit_days,
        "exports_older_than_hours": config.export_retention_hours,
    });
    audit::record(
        db,
        "magflow maintenance",
        crate::audit::Action::RetentionPurge,
        "retention",
        Some(details),
    )
    .await?;
    Ok(purged)
}
