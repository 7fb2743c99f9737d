//! Writing one page of offers or orders: real upserts on the (account, eMAG id) keys,
//! and no rewrite of rows whose content hash did not change.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{offer, order, order_line};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::clock;
use crate::emag::types::{Offer, Order, Parsed};

/// What one page did to the database.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Items that could not be read: (eMAG id if known, reason).
    pub failed: Vec<(String, String)>,
}

/// SHA-256 of the JSON as eMAG sent it (keys sorted by serde_json's map).
pub fn content_hash(raw: &Value) -> String {
    hex::encode(Sha256::digest(raw.to_string().as_bytes()))
}

fn raw_id(raw: &Value) -> String {
    match raw.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => "?".into(),
    }
}

fn id_i64(id: u64) -> Result<i64, String> {
    i64::try_from(id).map_err(|_| format!("id {id} does not fit a 64-bit signed integer"))
}

/// Items of a page that parsed, by id: (typed, raw, content hash).
type Readable<T> = BTreeMap<i64, (T, Value, String)>;

/// Splits a page into readable items keyed by id (the last copy wins) and failures.
fn readable<T>(
    items: Vec<Parsed<T>>,
    id: impl Fn(&T) -> u64,
) -> (Readable<T>, Vec<(String, String)>) {
    let mut ok = BTreeMap::new();
    let mut failed = Vec::new();
    for parsed in items {
        let hash = content_hash(&parsed.raw);
        match parsed.item.and_then(|item| Ok((id_i64(id(&item))?, item))) {
            Ok((key, item)) => {
                ok.insert(key, (item, parsed.raw, hash));
            }
            Err(reason) => failed.push((raw_id(&parsed.raw), reason)),
        }
    }
    (ok, failed)
}

/// sqlx prepares every statement, and after five executions PostgreSQL may switch a
/// prepared statement to a generic plan chosen while the table was still empty (a
/// sequential scan), then keep it as the table grows: the lookup of stored hashes went
/// from 1 ms to 50 ms per page at 30,000 offers. Lookups, touches and deletes by id are
/// planned with their values; the inserts, whose planning is costly and whose conflict
/// check always uses the key, are not.
async fn custom_plans<C: ConnectionTrait>(conn: &C, on: bool) -> Result<(), DbErr> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        let mode = if on { "force_custom_plan" } else { "auto" };
        conn.execute_unprepared(&format!("SET LOCAL plan_cache_mode = {mode}"))
            .await?;
    }
    Ok(())
}

/// The columns every synced table has, by which a page is compared and touched.
struct Synced<E: EntityTrait> {
    account: E::Column,
    id: E::Column,
    hash: E::Column,
    last_synced: E::Column,
}

const OFFERS: Synced<offer::Entity> = Synced {
    account: offer::Column::Account,
    id: offer::Column::EmagId,
    hash: offer::Column::ContentHash,
    last_synced: offer::Column::LastSyncedAt,
};

const ORDERS: Synced<order::Entity> = Synced {
    account: order::Column::Account,
    id: order::Column::EmagId,
    hash: order::Column::ContentHash,
    last_synced: order::Column::LastSyncedAt,
};

/// Splits a page's ids against what is stored: (new, changed, unchanged).
async fn split<C: ConnectionTrait, E: EntityTrait, T>(
    conn: &C,
    table: &Synced<E>,
    account: &str,
    page: &Readable<T>,
) -> Result<(Vec<i64>, Vec<i64>, Vec<i64>), DbErr> {
    let ids: Vec<i64> = page.keys().copied().collect();
    custom_plans(conn, true).await?;
    let stored: HashMap<i64, String> = E::find()
        .select_only()
        .column(table.id)
        .column(table.hash)
        .filter(table.account.eq(account))
        .filter(table.id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    custom_plans(conn, false).await?;
    let (mut new, mut changed, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
    for (id, (_, _, hash)) in page {
        match stored.get(id) {
            None => new.push(*id),
            Some(h) if h == hash => unchanged.push(*id),
            Some(_) => changed.push(*id),
        }
    }
    Ok((new, changed, unchanged))
}

/// Unchanged rows are not rewritten; only their `last_synced_at` moves.
async fn touch<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    table: &Synced<E>,
    account: &str,
    unchanged: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if !unchanged.is_empty() {
        custom_plans(conn, true).await?;
        E::update_many()
            .col_expr(table.last_synced, Expr::value(now))
            .filter(table.account.eq(account))
            .filter(table.id.is_in(unchanged.iter().copied()))
            .exec(conn)
            .await?;
        custom_plans(conn, false).await?;
    }
    Ok(())
}

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

fn small(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

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

/// What [`save_orders`] wrote, plus the highest `modified` it saw.
#[derive(Debug, Default)]
pub struct OrdersOutcome {
    pub page: PageOutcome,
    pub high_water: Option<String>,
}

pub async fn save_orders<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    tz: Tz,
    items: Vec<Parsed<Order>>,
    now: DateTime<Utc>,
) -> Result<OrdersOutcome, DbErr> {
    let (ok, failed) = readable(items, |o: &Order| o.id);
    let high_water = ok.values().filter_map(|(o, _, _)| o.modified.clone()).max();
    let (new, changed, unchanged) = split(conn, &ORDERS, account, &ok).await?;
    let written: Vec<i64> = new.iter().chain(&changed).copied().collect();
    if !written.is_empty() {
        let models: Vec<order::ActiveModel> = written
            .iter()
            .filter_map(|id| ok.get(id).map(|(o, raw, hash)| (*id, o, raw, hash)))
            .map(|(id, o, raw, hash)| order_model(account, id, tz, o, raw, hash, now))
            .collect();
        order::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([order::Column::Account, order::Column::EmagId])
                    .update_columns(ORDER_CONTENT)
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        // Lines are the order's: replaced whole when it changes.
        if !changed.is_empty() {
            custom_plans(conn, true).await?;
            order_line::Entity::delete_many()
                .filter(order_line::Column::Account.eq(account))
                .filter(order_line::Column::OrderId.is_in(changed.clone()))
                .exec(conn)
                .await?;
            custom_plans(conn, false).await?;
        }
        let lines: Vec<order_line::ActiveModel> = written
            .iter()
            .filter_map(|id| ok.get(id).map(|(o, _, _)| (*id, o)))
            .flat_map(|(id, o)| {
                let mut by_line = BTreeMap::new();
                for l in &o.products {
                    if let Ok(line_id) = i64::try_from(l.id) {
                        by_line.insert(line_id, line_model(account, id, line_id, l));
                    }
                }
                by_line.into_values()
            })
            .collect();
        // Bound parameters per statement are limited (SQLite: 32,766); 12 per line.
        for chunk in lines.chunks(1000) {
            order_line::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(conn)
                .await?;
        }
    }
    touch(conn, &ORDERS, account, &unchanged, now).await?;
    Ok(OrdersOutcome {
        page: PageOutcome {
            created: new.len() as u64,
            updated: changed.len() as u64,
            unchanged: unchanged.len() as u64,
            failed,
        },
        high_water,
    })
}

const ORDER_CONTENT: [order::Column; 24] = [
    order::Column::OrderType,
    order::Column::Status,
    order::Column::PaymentModeId,
    order::Column::PaymentMode,
    order::Column::PaymentStatus,
    order::Column::DeliveryMode,
    order::Column::OrderedAt,
    order::Column::ModifiedAt,
    order::Column::ModifiedLocal,
    order::Column::CustomerName,
    order::Column::CustomerEmail,
    order::Column::CustomerPhone,
    order::Column::BillingCity,
    order::Column::ShippingCity,
    order::Column::LinesTotal,
    order::Column::VatTotal,
    order::Column::VouchersTotal,
    order::Column::ShippingTax,
    order::Column::TotalWithVat,
    order::Column::Currency,
    order::Column::Raw,
    order::Column::ContentHash,
    order::Column::LastSyncedAt,
    order::Column::UpdatedAt,
];

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn order_model(
    account: &str,
    id: i64,
    tz: Tz,
    o: &Order,
    raw: &Value,
    hash: &str,
    now: DateTime<Utc>,
) -> order::ActiveModel {
    let active = o.products.iter().filter(|l| l.status.unwrap_or(1) != 0);
    let (mut lines_total, mut vat_total) = (Decimal::ZERO, Decimal::ZERO);
    for l in active {
        let net = l.sale_price * Decimal::from(l.quantity);
        lines_total += net;
        vat_total += net * l.vat;
    }
    let vouchers_total: Decimal = o
        .vouchers
        .iter()
        .map(|v| v.sale_price + v.sale_price_vat)
        .sum();
    let local = |s: &Option<String>| {
        s.as_deref()
            .and_then(clock::parse_local)
            .map(|t| clock::to_utc(tz, t))
    };
    let customer = o.customer.clone().unwrap_or(Value::Null);
    order::ActiveModel {
        account: Set(account.to_owned()),
        emag_id: Set(id),
        order_type: Set(small(o.order_type).unwrap_or(3)),
        status: Set(small(Some(o.status)).unwrap_or(-1)),
        payment_mode_id: Set(small(o.payment_mode_id)),
        payment_mode: Set(text(raw, "payment_mode")),
        payment_status: Set(small(o.payment_status)),
        delivery_mode: Set(text(raw, "delivery_mode")),
        ordered_at: Set(local(&o.date)),
        modified_at: Set(local(&o.modified)),
        modified_local: Set(o.modified.clone()),
        customer_name: Set(text(&customer, "name")),
        customer_email: Set(text(&customer, "email")),
        customer_phone: Set(text(&customer, "phone_1")),
        billing_city: Set(text(&customer, "billing_city")),
        shipping_city: Set(text(&customer, "shipping_city")),
        lines_total: Set(lines_total.round_dp(4)),
        vat_total: Set(vat_total.round_dp(4)),
        vouchers_total: Set(vouchers_total.round_dp(4)),
        shipping_tax: Set(o.shipping_tax.round_dp(4)),
        total_with_vat: Set(o.total_with_vat()),
        currency: Set(o.products.first().and_then(|l| l.currency.clone())),
        raw: Set(raw.clone()),
        content_hash: Set(hash.to_owned()),
        first_seen_at: Set(now),
        last_synced_at: Set(now),
        updated_at: Set(now),
    }
}

fn line_model(
    account: &str,
    order_id: i64,
    line_id: i64,
    l: &crate::emag::types::OrderLine,
) -> order_line::ActiveModel {
    order_line::ActiveModel {
        account: Set(account.to_owned()),
        order_id: Set(order_id),
        line_id: Set(line_id),
        product_id: Set(l.product_id.and_then(|p| i64::try_from(p).ok())),
        part_number_key: Set(l.part_number_key.clone()),
        name: Set(l.name.clone()),
        status: Set(small(l.status)),
        quantity: Set(l.quantity),
        sale_price: Set(l.sale_price.round_dp(4)),
        vat_rate: Set(l.vat.round_dp(4)),
        currency: Set(l.currency.clone()),
    }
}
