//! Offers: the columns an upsert rewrites, and an eMAG offer as a row.

use chrono::{DateTime, Utc};
use entity::offer;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde_json::Value;
use uuid::Uuid;

use super::{PageOutcome, Synced, readable, small, split, touch_with};
use crate::emag::types::{Offer, Parsed};

const OFFERS: Synced<offer::Entity> = Synced {
    account: offer::Column::Account,
    id: offer::Column::EmagId,
    hash: offer::Column::ContentHash,
    last_synced: offer::Column::LastSyncedAt,
};

/// Writes one page of offers read by run `run`: new and changed ones in full, unchanged
/// ones only marked as read. Every offer on the page is listed by eMAG, so none of them
/// stays removed.
pub async fn save_offers<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    run: Uuid,
    items: Vec<Parsed<Offer>>,
    now: DateTime<Utc>,
) -> Result<PageOutcome, DbErr> {
    let (ok, failed) = readable(items, |o: &Offer| o.id);
    let (new, changed, unchanged) = split(conn, &OFFERS, account, &ok).await?;
    let models: Vec<offer::ActiveModel> = new
        .iter()
        .chain(&changed)
        .filter_map(|id| ok.get(id).map(|(o, raw, hash)| (*id, o, raw, hash)))
        .map(|(id, o, raw, hash)| offer_model(account, id, o, raw, hash, (run, now)))
        .collect();
    if !models.is_empty() {
        offer::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([offer::Column::Account, offer::Column::EmagId])
                    .update_columns(OFFER_CONTENT)
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    let seen = vec![
        (offer::Column::LastSeenRun, Expr::value(run)),
        (
            offer::Column::RemovedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        ),
    ];
    touch_with(conn, &OFFERS, account, &unchanged, now, seen).await?;
    Ok(PageOutcome {
        created: new.len() as u64,
        updated: changed.len() as u64,
        unchanged: unchanged.len() as u64,
        failed,
    })
}

/// Every column an upsert rewrites: all but the key and `first_seen_at`.
const OFFER_CONTENT: [offer::Column; 24] = [
    offer::Column::PartNumber,
    offer::Column::PartNumberKey,
    offer::Column::Ean,
    offer::Column::Name,
    offer::Column::Brand,
    offer::Column::CategoryId,
    offer::Column::SalePrice,
    offer::Column::RecommendedPrice,
    offer::Column::MinSalePrice,
    offer::Column::MaxSalePrice,
    offer::Column::Currency,
    offer::Column::VatId,
    offer::Column::Status,
    offer::Column::ValidationStatus,
    offer::Column::OfferValidationStatus,
    offer::Column::Stock,
    offer::Column::GeneralStock,
    offer::Column::EstimatedStock,
    offer::Column::Raw,
    offer::Column::ContentHash,
    offer::Column::LastSyncedAt,
    offer::Column::UpdatedAt,
    offer::Column::RemovedAt,
    offer::Column::LastSeenRun,
];

fn offer_model(
    account: &str,
    id: i64,
    o: &Offer,
    raw: &Value,
    hash: &str,
    (run, now): (Uuid, DateTime<Utc>),
) -> offer::ActiveModel {
    let offer_validation = o
        .offer_validation_status
        .as_ref()
        .and_then(|v| match v {
            Value::Array(list) => list.first().and_then(|f| f.get("value")).cloned(),
            Value::Object(map) => map.get("value").cloned(),
            other => Some(other.clone()),
        })
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
    offer::ActiveModel {
        account: Set(account.to_owned()),
        emag_id: Set(id),
        part_number: Set(o.part_number.clone()),
        part_number_key: Set(o.part_number_key.clone()),
        ean: Set(Some(serde_json::json!(o.ean))),
        name: Set(o.name.clone()),
        brand: Set(o.brand.clone()),
        category_id: Set(o.category_id.and_then(|c| i64::try_from(c).ok())),
        sale_price: Set(o.sale_price),
        recommended_price: Set(o.recommended_price),
        min_sale_price: Set(o.min_sale_price),
        max_sale_price: Set(o.max_sale_price),
        currency: Set(o.currency.clone()),
        vat_id: Set(o.vat_id.and_then(|v| i64::try_from(v).ok())),
        status: Set(small(o.status)),
        validation_status: Set(small(o.validation_status.first().map(|v| v.value))),
        offer_validation_status: Set(small(offer_validation)),
        stock: Set(serde_json::to_value(&o.stock).ok()),
        general_stock: Set(o.general_stock),
        estimated_stock: Set(o.estimated_stock),
        raw: Set(raw.clone()),
        content_hash: Set(hash.to_owned()),
        first_seen_at: Set(now),
        last_synced_at: Set(now),
        updated_at: Set(now),
        removed_at: Set(None),
        last_seen_run: Set(Some(run)),
    }
}

/// The offers of `account` stored and not removed (with `status`, when the read is
/// narrowed to one): what the next read of eMAG will likely find.
pub async fn live_offers<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    status: Option<i64>,
) -> Result<u64, DbErr> {
    let mut query = offer::Entity::find()
        .filter(offer::Column::Account.eq(account))
        .filter(offer::Column::RemovedAt.is_null());
    if let Some(status) = status {
        query = query.filter(offer::Column::Status.eq(i32::try_from(status).ok()));
    }
    query.count(conn).await
}

/// After a read of every page of `account`'s offers by run `run`: the offers it did not
/// see are no longer on eMAG. Marks them removed (keeping the first time it was noticed);
/// the number marked.
pub async fn mark_removed<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    run: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = offer::Entity::update_many()
        .col_expr(offer::Column::RemovedAt, Expr::value(now))
        .filter(offer::Column::Account.eq(account))
        .filter(offer::Column::RemovedAt.is_null())
        .filter(
            Condition::any()
                .add(offer::Column::LastSeenRun.is_null())
                .add(offer::Column::LastSeenRun.ne(run)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
