//! Stored orders, newest first (eMAG's ids grow with time), and one order with its lines.

use entity::{order, order_line};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Common, Cursor, after, contains};

#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub common: Common,
}

/// Up to `limit` orders after `cursor`, by eMAG id descending within each account, the
/// accounts in reverse name order. The text matches the order id exactly, or the
/// customer's name.
pub async fn list_orders(
    db: &DatabaseConnection,
    filter: &OrderFilter,
    cursor: Option<&Cursor>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let c = &filter.common;
    let mut q = order::Entity::find();
    if let Some(account) = &c.account {
        q = q.filter(order::Column::Account.eq(account.as_str()));
    }
    if let Some(status) = c.status {
        q = q.filter(order::Column::Status.eq(status));
    }
    if let Some(text) = c.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let mut any = Condition::any().add(contains(order::Column::CustomerName, text));
        if let Ok(id) = text.parse::<i64>() {
            any = any.add(order::Column::EmagId.eq(id));
        }
        q = q.filter(any);
    }
    if let Some(since) = c.changed_since {
        q = q.filter(order::Column::UpdatedAt.gte(since));
    }
    if let Some(cursor) = cursor {
        q = q.filter(after(
            order::Column::Account,
            order::Column::EmagId,
            cursor,
            true,
        ));
    }
    q.order_by_desc(order::Column::Account)
        .order_by_desc(order::Column::EmagId)
        .limit(limit)
        .all(db)
        .await
}

/// One order with its lines, by line id.
pub async fn find_order(
    db: &DatabaseConnection,
    account: &str,
    emag_id: i64,
) -> Result<Option<(order::Model, Vec<order_line::Model>)>, DbErr> {
    let Some(found) = order::Entity::find_by_id((account.to_owned(), emag_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::Account.eq(account))
        .filter(order_line::Column::OrderId.eq(emag_id))
        .order_by_asc(order_line::Column::LineId)
        .all(db)
        .await?;
    Ok(Some((found, lines)))
}
