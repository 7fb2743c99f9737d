//! What an admin does to schedules, from the API or the console alike: the change and its
//! audit row with the admin as actor.

use chrono::Utc;
use entity::{job_run, schedule};
use uuid::Uuid;

use super::{
    fire,
    spec::ScheduleSpec,
    store::{self, ScheduleError},
};
use crate::{JobContext, audit, submit::SubmitError};

async fn audited(
    ctx: &JobContext,
    actor: &str,
    action: audit::Action,
    id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    audit::record(&ctx.db, actor, action, &format!("schedule:{id}"), None).await
}

pub async fn create(
    ctx: &JobContext,
    spec: &ScheduleSpec,
    actor: &str,
) -> Result<schedule::Model, ScheduleError> {
    let min = ctx.config.schedule_min_interval();
    let s = store::create(&ctx.db, spec, actor, Utc::now(), min).await?;
    audited(ctx, actor, audit::Action::ScheduleCreate, s.id).await?;
    Ok(s)
}

pub async fn update(
    ctx: &JobContext,
    current: schedule::Model,
    spec: &ScheduleSpec,
    actor: &str,
) -> Result<schedule::Model, ScheduleError> {
    let min = ctx.config.schedule_min_interval();
    let s = store::update(&ctx.db, current, spec, Utc::now(), min).await?;
    audited(ctx, actor, audit::Action::ScheduleUpdate, s.id).await?;
    Ok(s)
}

pub async fn delete(ctx: &JobContext, id: Uuid, actor: &str) -> Result<bool, sea_orm::DbErr> {
    let gone = store::delete(&ctx.db, id).await?;
    if gone {
        audited(ctx, actor, audit::Action::ScheduleDelete, id).await?;
    }
    Ok(gone)
}

pub async fn set_paused(
    ctx: &JobContext,
    current: schedule::Model,
    paused: bool,
    actor: &str,
) -> Result<schedule::Model, ScheduleError> {
    let s = store::set_paused(&ctx.db, current, paused, Utc::now()).await?;
    let action = if paused {
        audit::Action::SchedulePause
    } else {
        audit::Action::ScheduleResume
    };
    audited(ctx, actor, action, s.id).await?;
    Ok(s)
}

/// Starts the schedule's job now, outside its ticks.
pub async fn trigger(
    ctx: &JobContext,
    s: &schedule::Model,
    actor: &str,
) -> Result<job_run::Model, SubmitError> {
    let run = fire::trigger(&ctx.db, &ctx.queue, s).await?;
    audited(ctx, actor, audit::Action::ScheduleTrigger, s.id)
        .await
        .map_err(crate::error::RunsError::from)?;
    Ok(run)
}
