//! One claimed tick of a schedule. Its key, (schedule, fire time), is the claim: whichever
//! scheduler inserts it first fires the tick; the others find it taken.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_fires")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub schedule_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub fire_at: DateTimeUtc,
    /// The run it started, if it started one.
    pub run_id: Option<Uuid>,
    pub outcome: FireOutcome,
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// What became of a claimed tick.
    pub enum FireOutcome {
        /// It started a run.
        Enqueued = "enqueued",
        /// The previous run was still active (overlap `skip`).
        SkippedOverlap = "skipped_overlap",
        /// A run of an earlier tick was still waiting in its queue.
        SkippedBacklog = "skipped_backlog",
        /// Missed while nothing ran (misfire `skip`).
        Missed = "missed",
        /// The template no longer makes a valid run.
        Invalid = "invalid",
        /// Not a schedule's tick: the hourly retention purge, claimed like one so that
        /// one process runs it.
        Maintenance = "maintenance",
    }
}
