//! Orders and their lines: the columns an upsert rewrites, totals, and eMAG's local
//! times as UTC.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{order, order_line};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use serde_json::Value;

use super::{PageOutcome, Synced, custom_plans, readable, small, split, touch};
use crate::{
    analytics,
    emag::types::{Order, Parsed},
    sync::clock,
};

const ORDERS: Synced<order::Entity> = Synced {
    account: order::Column::Account,
    id: order::Column::EmagId,
    hash: order::Column::ContentHash,
    last_synced: order::Column::LastSyncedAt,
    first_seen: order::Column::FirstSeenAt,
    updated: order::Column::UpdatedAt,
    raw: order::Column::Raw,
};

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
        let days: BTreeSet<NaiveDate> = written
            .iter()
            .filter_map(|id| ok.get(id).and_then(|(o, _, _)| ordered_day(o)))
            .collect();
        analytics::mark(conn, account, &days).await?;
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

const ORDER_CONTENT: [order::Column; 25] = [
    order::Column::OrderType,
    order::Column::Status,
    order::Column::PaymentModeId,
    order::Column::PaymentMode,
    order::Column::PaymentStatus,
    order::Column::DeliveryMode,
    order::Column::OrderedAt,
    order::Column::OrderedDay,
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
        ordered_day: Set(ordered_day(o)),
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

/// The order's local day: eMAG's `date` is the platform's local time.
fn ordered_day(o: &Order) -> Option<NaiveDate> {
    o.date
        .as_deref()
        .and_then(clock::parse_local)
        .map(|t| t.date())
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
