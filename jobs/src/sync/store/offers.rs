//! Offers: the columns an upsert rewrites, and an eMAG offer as a row.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use entity::offer;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic,
    PaginatorTrait, QueryFilter, Statement, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::{Batch, PageOutcome, Synced, small, upsert};
use crate::emag::types::{Offer, Parsed, WarehouseValue};

const OFFERS: Synced<offer::Entity> = Synced {
    account: offer::Column::Account,
    id: offer::Column::EmagId,
    hash: offer::Column::ContentHash,
    last_synced: offer::Column::LastSyncedAt,
    first_seen: offer::Column::FirstSeenAt,
    updated: offer::Column::UpdatedAt,
    raw: offer::Column::Raw,
};

/// Offers of one or more pages, ready to write.
pub type OfferBatch = Batch<offer::Model>;

/// Makes the rows of offers read by run `run` at `now`: CPU only, done in the task that
/// read the page, while the page before it is written.
pub fn prepare_offers(
    account: &str,
    run: Uuid,
    items: Vec<Parsed<Offer>>,
    now: DateTime<Utc>,
) -> OfferBatch {
    Batch::prepare(
        items,
        |o: &Offer| o.id,
        |id, o, hash| offer_model(account, id, o, hash, (run, now)),
    )
}

/// The write of offers (one page, or several at once): new and changed ones in full,
/// unchanged ones only marked as read. Every offer given is listed by eMAG, so none of
/// them stays removed. Made in two steps: its statements built (CPU only, so they can be
/// built on another thread than the one that waits for the database), then run.
pub struct OfferUpsert {
    statements: Vec<Statement>,
    failed: Vec<(String, String)>,
}

impl OfferUpsert {
    pub fn of(backend: DbBackend, batch: OfferBatch) -> Result<OfferUpsert, DbErr> {
        let statements =
            upsert::statements(backend, &OFFERS, batch.rows, &OFFER_CONTENT, &OFFER_READ)?;
        Ok(OfferUpsert {
            statements,
            failed: batch.failed,
        })
    }

    pub async fn save<C: ConnectionTrait>(self, conn: &C) -> Result<PageOutcome, DbErr> {
        let written = upsert::run(conn, self.statements).await?;
        Ok(PageOutcome {
            created: written.created,
            updated: written.updated,
            unchanged: written.unchanged,
            failed: self.failed,
        })
    }
}

/// The columns an offer's content sets: kept when its hash did not change.
const OFFER_CONTENT: [offer::Column; 20] = [
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
    offer::Column::UpdatedAt,
];

/// The columns every read of an offer sets: when, by which run, and that it is listed.
const OFFER_READ: [offer::Column; 4] = [
    offer::Column::ContentHash,
    offer::Column::LastSyncedAt,
    offer::Column::RemovedAt,
    offer::Column::LastSeenRun,
];

/// An offer's row, its JSON columns left null: their texts go beside it
/// ([`super::Prepared`]).
fn offer_model(
    account: &str,
    id: i64,
    o: Offer,
    hash: String,
    (run, now): (Uuid, DateTime<Utc>),
) -> (offer::Model, Vec<(&'static str, String)>) {
    let offer_validation = o.offer_validation_status.as_ref().and_then(|v| v.value());
    let json = vec![
        (offer::Column::Ean.as_str(), ean_text(&o.ean)),
        (offer::Column::Stock.as_str(), stock_text(&o.stock)),
    ];
    let model = offer::Model {
        account: account.to_owned(),
        emag_id: id,
        part_number: o.part_number,
        part_number_key: o.part_number_key,
        ean: None,
        name: o.name,
        brand: o.brand,
        category_id: o.category_id.and_then(|c| i64::try_from(c).ok()),
        sale_price: o.sale_price,
        recommended_price: o.recommended_price,
        min_sale_price: o.min_sale_price,
        max_sale_price: o.max_sale_price,
        currency: o.currency,
        vat_id: o.vat_id.and_then(|v| i64::try_from(v).ok()),
        status: small(o.status),
        validation_status: small(o.validation_status.first().map(|v| v.value)),
        offer_validation_status: small(offer_validation),
        stock: None,
        general_stock: o.general_stock,
        estimated_stock: o.estimated_stock,
        raw: Value::Null,
        content_hash: hash,
        first_seen_at: now,
        last_synced_at: now,
        updated_at: now,
        removed_at: None,
        last_seen_run: Some(run),
    };
    (model, json)
}

impl upsert::ColumnValues for offer::Model {
    fn column_values(self) -> Vec<sea_orm::Value> {
        let offer::Model {
            account,
            emag_id,
            part_number,
            part_number_key,
            ean,
            name,
            brand,
            category_id,
            sale_price,
            recommended_price,
            min_sale_price,
            max_sale_price,
            currency,
            vat_id,
            status,
            validation_status,
            offer_validation_status,
            stock,
            general_stock,
            estimated_stock,
            raw,
            content_hash,
            first_seen_at,
            last_synced_at,
            updated_at,
            removed_at,
            last_seen_run,
        } = self;
        vec![
            account.into(),
            emag_id.into(),
            part_number.into(),
            part_number_key.into(),
            ean.into(),
            name.into(),
            brand.into(),
            category_id.into(),
            sale_price.into(),
            recommended_price.into(),
            min_sale_price.into(),
            max_sale_price.into(),
            currency.into(),
            vat_id.into(),
            status.into(),
            validation_status.into(),
            offer_validation_status.into(),
            stock.into(),
            general_stock.into(),
            estimated_stock.into(),
            raw.into(),
            content_hash.into(),
            first_seen_at.into(),
            last_synced_at.into(),
            updated_at.into(),
            removed_at.into(),
            last_seen_run.into(),
        ]
    }
}

/// An offer's EANs as the JSON text a tree of them prints.
fn ean_text(ean: &[String]) -> String {
    serde_json::to_string(ean).unwrap_or_else(|_| "[]".into())
}

/// An offer's stock as the JSON text a tree of it prints (keys in order).
fn stock_text(stock: &[WarehouseValue]) -> String {
    let mut out = String::with_capacity(2 + stock.len() * 36);
    out.push('[');
    for (i, w) in stock.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            r#"{{"value":{},"warehouse_id":{}}}"#,
            w.value, w.warehouse_id
        );
    }
    out.push(']');
    out
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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::offer;
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Iterable};
    use serde_json::json;

    use super::{WarehouseValue, ean_text, stock_text, upsert::ColumnValues};

    /// A row's values come out in its columns' order, each the value its active model
    /// holds: a column added to or moved in the entity fails here, not in a sync.
    #[test]
    fn column_values_follow_the_columns() {
        let now = Utc::now();
        let model = offer::Model {
            account: "a".into(),
            emag_id: 7,
            part_number: Some("pn".into()),
            part_number_key: None,
            ean: Some(json!(["5941"])),
            name: Some("n".into()),
            brand: None,
            category_id: Some(3),
            sale_price: Some(rust_decimal::Decimal::new(1299, 2)),
            recommended_price: None,
            min_sale_price: Some(rust_decimal::Decimal::new(1, 0)),
            max_sale_price: None,
            currency: Some("RON".into()),
            vat_id: Some(1),
            status: Some(1),
            validation_status: Some(4),
            offer_validation_status: Some(2),
            stock: Some(json!([{ "value": 1, "warehouse_id": 1 }])),
            general_stock: Some(5),
            estimated_stock: Some(6),
            raw: json!({ "id": 7 }),
            content_hash: "h".into(),
            first_seen_at: now,
            last_synced_at: now + chrono::Duration::seconds(1),
            updated_at: now + chrono::Duration::seconds(2),
            removed_at: None,
            last_seen_run: Some(uuid::Uuid::nil()),
        };
        let mut active = model.clone().into_active_model();
        let expected: Vec<sea_orm::Value> = offer::Column::iter()
            .map(|c| active.take(c).into_value().expect("set"))
            .collect();
        assert_eq!(model.column_values(), expected);
    }

    /// The texts stored are the ones the trees were printed as before, so the columns do
    /// not change from one sync to the next.
    #[test]
    fn json_texts_are_the_trees_printed() {
        for stock in [
            vec![],
            vec![WarehouseValue {
                warehouse_id: 1,
                value: 7,
            }],
            vec![
                WarehouseValue {
                    warehouse_id: 4_000_000_000,
                    value: -3,
                },
                WarehouseValue {
                    warehouse_id: 2,
                    value: i64::MAX,
                },
            ],
        ] {
            let tree = serde_json::to_value(&stock).expect("tree").to_string();
            assert_eq!(stock_text(&stock), tree);
        }
        for ean in [
            vec![],
            vec!["5941234567890".to_owned(), "q\"u\\o".to_owned()],
        ] {
            assert_eq!(ean_text(&ean), serde_json::json!(ean).to_string());
        }
    }
}
