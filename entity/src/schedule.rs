//! A cron schedule: when to start which job, as an admin set it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    /// 5 or 6 fields (seconds first).
    pub cron: String,
    /// IANA zone the expression is read in.
    pub timezone: String,
    /// `{"kind", "params"}`, validated like `POST /api/v1/runs`.
    pub template: Json,
    pub overlap: Overlap,
    pub misfire: Misfire,
    pub jitter_s: i32,
    /// E-mail addresses, a JSON array.
    pub notify: Json,
    pub paused: bool,
    /// The next tick to claim (UTC); none while paused.
    pub next_fire_at: Option<DateTimeUtc>,
    pub last_fire_at: Option<DateTimeUtc>,
    pub last_run_id: Option<Uuid>,
    /// Bumped on every change, so a scheduler can tell an edited schedule.
    pub revision: i64,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// What to do when a tick comes while the schedule's previous run is still active.
    pub enum Overlap {
        /// Skip the tick (no pile-up).
        Skip = "skip",
        /// Enqueue anyway.
        Allow = "allow",
    }
}

stored_enum! {
    /// What to do with ticks missed while no scheduler ran (all workers down).
    pub enum Misfire {
        /// Forget them; fire at the next tick.
        Skip = "skip",
        /// Fire once for all of them, at once.
        RunOnce = "run_once",
    }
}
