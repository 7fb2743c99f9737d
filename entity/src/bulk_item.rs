//! One item of a bulk price/stock update: what to change, what the database held before,
//! and what eMAG said.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: Uuid,
    /// Position in the request, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i32,
    /// As the user counts: the CSV line (header = 1) or the item's index + 1.
    pub row: i32,
    pub account: String,
    pub emag_id: i64,
    pub part_number: Option<String>,
    /// The `offer/save` fields to send, as given (money as strings with ≤ 4 decimals).
    pub change: Json,
    /// The same fields as the database held them when the run was accepted.
    pub previous: Json,
    pub state: ItemState,
    /// eMAG's messages for a rejected item.
    pub message: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where an item of a bulk update stands.
    pub enum ItemState {
        /// Not sent yet.
        Pending = "pending",
        /// In a request whose answer was not recorded (a crash mid-request): eMAG may
        /// have applied it; a resumed run asks before sending it again.
        Sent = "sent",
        Accepted = "accepted",
        Rejected = "rejected",
    }
}
