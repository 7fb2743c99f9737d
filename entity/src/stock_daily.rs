//! An account's stock as its last offers sync of a local day found it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The sum of `general_stock` over the offers eMAG still lists.
    pub units_in_stock: i64,
    pub offers: i64,
    /// Status 1.
    pub offers_active: i64,
    /// Active with no stock.
    pub offers_out_of_stock: i64,
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
