//! Orders per account, local day and status: how many, their units and their value
//! with VAT. Computed from `orders`; never written by hand.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// eMAG's order status: 0 cancelled … 4 finalised, 5 returned.
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: i32,
    pub orders: i64,
    /// Units on the orders' active lines.
    pub units: i64,
    /// The orders' totals with VAT, vouchers and shipping.
    pub value: Decimal,
    pub currency: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
