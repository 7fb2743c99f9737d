//! Units and revenue per account, local day, product and order status, from the orders'
//! active lines. Computed from `orders` and `order_lines`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "product_sales_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The seller's product id: an offer's `emag_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: i32,
    pub units: i64,
    /// Lines' price × quantity with VAT (vouchers are per order, not per product).
    pub revenue: Decimal,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
