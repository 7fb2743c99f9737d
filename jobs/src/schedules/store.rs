//! Storing schedules: a checked spec becomes a row with its first fire time.

use chrono::{DateTime, Utc};
use entity::schedule;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr};
use serde_json::json;
use uuid::Uuid;

use super::spec::{Misfire, Overlap, ScheduleSpec, next_fires};
use crate::params::ParamError;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Invalid(#[from] ParamError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// Checks `spec` and stores it, due first at its next tick after `now`.
pub async fn create(
    db: &DatabaseConnection,
    spec: &ScheduleSpec,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<schedule::Model, ScheduleError> {
    let (_, cron, tz) = spec.validate()?;
    let next = next_fires(&cron, tz, now, 1).first().copied();
    let row = schedule::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(spec.name.clone()),
        cron: Set(spec.cron.clone()),
        timezone: Set(spec.timezone.clone()),
        template: Set(json!(spec.template)),
        overlap: Set(match spec.overlap {
            Overlap::Skip => "skip",
            Overlap::Allow => "allow",
        }
        .to_owned()),
        misfire: Set(match spec.misfire {
            Misfire::Skip => "skip",
            Misfire::RunOnce => "run_once",
        }
        .to_owned()),
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
