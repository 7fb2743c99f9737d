//! One product line of an order; rewritten with its order whenever the order changes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: i64,
    /// eMAG's order-line id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_id: i64,
    /// The seller's product id: joins to `offers.emag_id`.
    pub product_id: Option<i64>,
    pub part_number_key: Option<String>,
    pub name: Option<String>,
    /// 0 cancelled, 1 active.
    pub status: Option<i32>,
    pub quantity: i64,
    /// Ex-VAT unit price.
    pub sale_price: Decimal,
    /// e.g. 0.2100.
    pub vat_rate: Decimal,
    pub currency: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
