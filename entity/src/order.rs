//! One eMAG order of one account, as last read from `order/read`, with totals computed
//! from its lines, vouchers and shipping (eMAG sends no total).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// Past 2^32 in real data.
    #[sea_orm(primary_key, auto_increment = false)]
    pub emag_id: i64,
    /// 2 fulfilled by eMAG, 3 by the seller.
    pub order_type: i32,
    /// 0 cancelled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned.
    pub status: i32,
    pub payment_mode_id: Option<i32>,
    pub payment_mode: Option<String>,
    pub payment_status: Option<i32>,
    pub delivery_mode: Option<String>,
    /// `date` (cart submission), platform-local time converted to UTC.
    pub ordered_at: Option<DateTimeUtc>,
    /// The account's local day of `ordered_at`: eMAG's `date` is already local.
    pub ordered_day: Option<Date>,
    pub modified_at: Option<DateTimeUtc>,
    /// `modified` exactly as eMAG sent it (platform-local): incremental syncs ask eMAG
    /// for changes after the highest one, in eMAG's own clock.
    pub modified_local: Option<String>,
    pub customer_name: Option<String>,
    /// eMAG's alias address, not the customer's own.
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub billing_city: Option<String>,
    pub shipping_city: Option<String>,
    /// Active lines, ex-VAT.
    pub lines_total: Decimal,
    pub vat_total: Decimal,
    /// Negative, VAT included.
    pub vouchers_total: Decimal,
    pub shipping_tax: Decimal,
    pub total_with_vat: Decimal,
    pub currency: Option<String>,
    pub raw: Json,
    pub content_hash: String,
    pub first_seen_at: DateTimeUtc,
    pub last_synced_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
