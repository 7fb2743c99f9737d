//! Offers: the columns an upsert rewrites, and an eMAG offer as a row.

use chrono::{DateTime, Utc};
use entity::offer;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use serde_json::Value;

use super::{PageOutcome, Synced, readable, small, split, touch};
use crate::emag::types::{Offer, Parsed};

const OFFERS: Synced<offer::Entity> = Synced {
    account: offer::Column::Account,
    id: offer::Column::EmagId,
    hash: offer::Column::ContentHash,
    last_synced: offer::Column::LastSyncedAt,
};

pub async fn save_offers<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    items: Vec<Parsed<Offer>>,
    now: DateTime<Utc>,
) -> Result<PageOutcome, DbErr> {
    let (ok, failed) = readable(items, |o: &Offer| o.id);
    let (new, changed, unchanged) = split(conn, &OFFERS, account, &ok).await?;
    let models: Vec<offer::ActiveModel> = new
        .iter()
        .chain(&changed)
        .filter_map(|id| ok.get(id).map(|(o, raw, hash)| (*id, o, raw, hash)))
        .map(|(id, o, raw, hash)| offer_model(account, id, o, raw, hash, now))
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
    touch(conn, &OFFERS, account, &unchanged, now).await?;
    Ok(PageOutcome {
        created: new.len() as u64,
        updated: changed.len() as u64,
        unchanged: unchanged.len() as u64,
        failed,
    })
}

/// Every column an upsert rewrites: all but the key and `first_seen_at`.
const OFFER_CONTENT: [offer::Column; 22] = [
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
];

fn offer_model(
    account: &str,
    id: i64,
    o: &Offer,
    raw: &Value,
    hash: &str,
    now: DateTime<Utc>,
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
    }
}
