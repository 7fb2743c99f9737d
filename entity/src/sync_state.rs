//! Per account and resource: the last successful sync, and for orders the highest
//! `modified` seen, where the next incremental sync starts (minus an overlap).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// `offers` or `orders`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource: String,
    pub last_success_at: DateTimeUtc,
    pub last_run_id: Uuid,
    /// eMAG's platform-local `YYYY-mm-dd HH:ii:ss`.
    pub high_water: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
