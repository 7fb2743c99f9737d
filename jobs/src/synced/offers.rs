//! Stored offers, a page at a time, by account then eMAG id.

use entity::offer;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Common, Cursor, after, contains};

#[derive(Clone, Debug, Default)]
pub struct OfferFilter {
    pub common: Common,
    /// Also offers a full sync found gone from eMAG.
    pub include_removed: bool,
}

/// Up to `limit` offers after `cursor`. The text matches the name, part number, part
/// number key, or the seller's id exactly.
pub async fn list_offers(
    db: &DatabaseConnection,
    filter: &OfferFilter,
    cursor: Option<&Cursor>,
    limit: u64,
) -> Result<Vec<offer::Model>, DbErr> {
    let c = &filter.common;
    let mut q = offer::Entity::find();
    if let Some(account) = &c.account {
        q = q.filter(offer::Column::Account.eq(account.as_str()));
    }
    if let Some(status) = c.status {
        q = q.filter(offer::Column::Status.eq(status));
    }
    if let Some(text) = c.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let mut any = Condition::any()
            .add(contains(offer::Column::Name, text))
            .add(contains(offer::Column::PartNumber, text))
            .add(contains(offer::Column::PartNumberKey, text));
        if let Ok(id) = text.parse::<i64>() {
            any = any.add(offer::Column::EmagId.eq(id));
        }
        q = q.filter(any);
    }
    if let Some(since) = c.changed_since {
        q = q.filter(offer::Column::UpdatedAt.gte(since));
    }
    if !filter.include_removed {
        q = q.filter(offer::Column::RemovedAt.is_null());
    }
    if let Some(cursor) = cursor {
        q = q.filter(after(
            offer::Column::Account,
            offer::Column::EmagId,
            cursor,
            false,
        ));
    }
    q.order_by_asc(offer::Column::Account)
        .order_by_asc(offer::Column::EmagId)
        .limit(limit)
        .all(db)
        .await
}
