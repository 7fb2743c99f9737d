//! Storing schedules: a checked spec becomes a row with its first fire time.

use chrono::{DateTime, Utc};
use entity::schedule;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use super::spec::{ScheduleSpec, next_fires};
use crate::{error::RunsError, params::ParamError, registry, submit::SubmitError};

/// The spec's own checks, then those that need the database, with the template's
/// fields named as `template.params.…`.
async fn check(
    db: &DatabaseConnection,
    spec: &ScheduleSpec,
    now: DateTime<Utc>,
    min_interval: std::time::Duration,
) -> Result<(croner::Cron, chrono_tz::Tz), ScheduleError> {
    let (kind, cron, tz) = spec.validate()?;
    super::spec::check_min_interval(&cron, tz, now, min_interval)?;
    match registry::check_in_db(kind, db, &spec.template.params).await {
        Ok(()) => Ok((cron, tz)),
        Err(SubmitError::Invalid(p)) => Err(ParamError {
            field: format!("template.{}", p.field),
            message: p.message,
        }
        .into()),
        Err(SubmitError::Runs(RunsError::Db(e))) => Err(e.into()),
        Err(e) => Err(ParamError::new("template", e.to_string()).into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Invalid(#[from] ParamError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl ScheduleError {
    /// Another schedule has this name.
    pub fn name_taken(&self) -> bool {
        matches!(self, ScheduleError::Db(db) if matches!(
            db.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ))
    }
}

/// Checks `spec` (ticks at least `min_interval` apart) and stores it, due first at its
/// next tick after `now`.
pub async fn create(
    db: &DatabaseConnection,
    spec: &ScheduleSpec,
    created_by: &str,
    now: DateTime<Utc>,
    min_interval: std::time::Duration,
) -> Result<schedule::Model, ScheduleError> {
    let (cron, tz) = check(db, spec, now, min_interval).await?;
    let next = next_fires(&cron, tz, now, 1).first().copied();
    let row = schedule::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(spec.name.clone()),
        cron: Set(spec.cron.clone()),
        timezone: Set(spec.timezone.clone()),
        template: Set(json!(spec.template)),
        overlap: Set(spec.overlap),
        misfire: Set(spec.misfire),
        jitter_s: Set(i32::try_from(spec.jitter_s).unwrap_or(i32::MAX)),
        notify: Set(json!(spec.notify)),
        paused: Set(false),
        next_fire_at: Set(next),
        last_fire_at: Set(None),
        last_run_id: Set(None),
        revision: Set(0),
        created_by: Set(created_by.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(row.insert(db).await?)
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<schedule::Model>, DbErr> {
    use sea_orm::{EntityTrait, QueryOrder};
    schedule::Entity::find()
        .order_by_asc(schedule::Column::Name)
        .all(db)
        .await
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<schedule::Model>, DbErr> {
    use sea_orm::EntityTrait;
    schedule::Entity::find_by_id(id).one(db).await
}

/// Replaces the schedule's spec; its next tick is recomputed from `now`.
pub async fn update(
    db: &DatabaseConnection,
    current: schedule::Model,
    spec: &ScheduleSpec,
    now: DateTime<Utc>,
    min_interval: std::time::Duration,
) -> Result<schedule::Model, ScheduleError> {
    let (cron, tz) = check(db, spec, now, min_interval).await?;
    let next = next_fires(&cron, tz, now, 1).first().copied();
    let mut row: schedule::ActiveModel = current.clone().into();
    row.name = Set(spec.name.clone());
    row.cron = Set(spec.cron.clone());
    row.timezone = Set(spec.timezone.clone());
    row.template = Set(json!(spec.template));
    row.overlap = Set(spec.overlap);
    row.misfire = Set(spec.misfire);
    row.jitter_s = Set(i32::try_from(spec.jitter_s).unwrap_or(i32::MAX));
    row.notify = Set(json!(spec.notify));
    row.next_fire_at = Set(if current.paused { None } else { next });
    row.revision = Set(current.revision + 1);
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Pauses (no next tick) or resumes (next tick after `now`).
pub async fn set_paused(
    db: &DatabaseConnection,
    current: schedule::Model,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<schedule::Model, ScheduleError> {
    let next = if paused {
        None
    } else {
        let cron = super::spec::parse_cron(&current.cron)?;
        let tz = super::spec::parse_timezone(&current.timezone)?;
        next_fires(&cron, tz, now, 1).first().copied()
    };
    let revision = current.revision + 1;
    let mut row: schedule::ActiveModel = current.into();
    row.paused = Set(paused);
    row.next_fire_at = Set(next);
    row.revision = Set(revision);
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    use sea_orm::EntityTrait;
    Ok(schedule::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
