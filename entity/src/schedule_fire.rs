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
    /// `enqueued`, `skipped_overlap`, `missed` or `invalid`.
    pub outcome: String,
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
