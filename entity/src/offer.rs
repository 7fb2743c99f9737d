//! One eMAG offer of one account, as last read from `product_offer/read`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// The seller's product id (eMAG's key for every save); ids differ per account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub emag_id: i64,
    pub part_number: Option<String>,
    pub part_number_key: Option<String>,
    /// EANs as a JSON array of strings.
    pub ean: Option<Json>,
    pub name: Option<String>,
    pub brand: Option<String>,
    pub category_id: Option<i64>,
    /// Ex-VAT, 4 decimals.
    pub sale_price: Option<Decimal>,
    pub recommended_price: Option<Decimal>,
    pub min_sale_price: Option<Decimal>,
    pub max_sale_price: Option<Decimal>,
    pub currency: Option<String>,
    pub vat_id: Option<i64>,
    /// 0 inactive, 1 active, 2 end of life.
    pub status: Option<i32>,
    /// The first `validation_status` value (1..12).
    pub validation_status: Option<i32>,
    /// 1 saleable, 2 invalid price.
    pub offer_validation_status: Option<i32>,
    /// `[{warehouse_id, value}]`.
    pub stock: Option<Json>,
    pub general_stock: Option<i64>,
    pub estimated_stock: Option<i64>,
    /// The offer exactly as eMAG sent it.
    pub raw: Json,
    /// SHA-256 of `raw`: an unchanged offer is not rewritten.
    pub content_hash: String,
    pub first_seen_at: DateTimeUtc,
    /// The last sync that read this offer.
    pub last_synced_at: DateTimeUtc,
    /// The last time its content changed.
    pub updated_at: DateTimeUtc,
    /// When a full read of the account's offers no longer found it on eMAG; `None`
    /// while eMAG lists it (set back to `None` if it comes back).
    pub removed_at: Option<DateTimeUtc>,
    /// The sync run that last read it.
    pub last_seen_run: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
