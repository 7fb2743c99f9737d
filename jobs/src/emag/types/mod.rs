//! eMAG's shapes, parsed tolerantly: numbers that arrive as strings, ids above 2^32,
//! money as exact decimals, polymorphic fields, unknown keys ignored.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, value::RawValue};
use serde_with::{DisplayFromStr, PickFirst, serde_as};

mod offer_validation;

pub use offer_validation::OfferValidation;

/// `{isError, messages, results}`; other keys (`errors: []`, …) are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "isError")]
    pub is_error: Option<bool>,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default)]
    pub results: Value,
}

impl Envelope {
    /// Messages as text, whether eMAG sent strings or `{message, code}` objects.
    pub fn message_texts(&self) -> Vec<String> {
        self.messages
            .iter()
            .map(|m| match m {
                Value::String(s) => s.clone(),
                Value::Object(o) => o
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| m.to_string(), str::to_owned),
                other => other.to_string(),
            })
            .collect()
    }
}

/// `product_offer/count` and `order/count`; values may be numeric strings.
#[serde_as]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    #[serde(rename = "noOfItems")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub items: u64,
    #[serde(rename = "noOfPages")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub pages: u64,
    #[serde(rename = "itemsPerPage")]
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub per_page: u64,
}

#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarehouseValue {
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub warehouse_id: u32,
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub value: i64,
}

/// `validation_status` items: `{value, description, errors}`.
#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidationStatus {
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub value: i64,
    #[serde(default)]
    pub description: Option<String>,
}

/// A field that is a boolean in list reads and a list of details when filtered by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlagOrList {
    Flag(bool),
    List(Vec<Value>),
}

/// One offer from `product_offer/read`, the parts magflow uses; the raw JSON is kept
/// next to it by the client.
#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    /// The seller's product id: the key of every save.
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub id: u64,
    #[serde(default)]
    pub part_number: Option<String>,
    #[serde(default)]
    pub part_number_key: Option<String>,
    #[serde(default)]
    pub ean: Vec<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub category_id: Option<u64>,
    #[serde(default)]
    pub sale_price: Option<Decimal>,
    #[serde(default)]
    pub recommended_price: Option<Decimal>,
    #[serde(default)]
    pub min_sale_price: Option<Decimal>,
    #[serde(default)]
    pub max_sale_price: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub vat_id: Option<u64>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub status: Option<i64>,
    #[serde(default)]
    pub validation_status: Vec<ValidationStatus>,
    /// An object per real clients, a list per the doc: kept as it came.
    #[serde(default)]
    pub offer_validation_status: Option<OfferValidation>,
    #[serde(default)]
    pub stock: Vec<WarehouseValue>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub general_stock: Option<i64>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub estimated_stock: Option<i64>,
    #[serde(default)]
    pub manufacturer: Option<FlagOrList>,
    #[serde(default)]
    pub eu_representative: Option<FlagOrList>,
}

/// One order line.
#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub id: u64,
    /// The seller's product id: match lines to the catalogue with this.
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub product_id: Option<u64>,
    #[serde(default)]
    pub part_number_key: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub status: Option<i64>,
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    #[serde(default)]
    pub quantity: i64,
    /// Ex-VAT unit price.
    #[serde(default)]
    pub sale_price: Decimal,
    /// VAT rate, e.g. 0.2100.
    #[serde(default)]
    pub vat: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Voucher {
    /// Negative, ex-VAT.
    #[serde(default)]
    pub sale_price: Decimal,
    #[serde(default)]
    pub sale_price_vat: Decimal,
}

/// One order from `order/read`.
#[serde_as]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Above 2^31 in real data; sometimes a string.
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub id: u64,
    #[serde_as(as = "PickFirst<(_, DisplayFromStr)>")]
    pub status: i64,
    #[serde(default, rename = "type")]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub order_type: Option<i64>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub payment_mode_id: Option<i64>,
    #[serde(default)]
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    pub payment_status: Option<i64>,
    /// Cart submission, platform-local "YYYY-mm-dd HH:ii:ss".
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub shipping_tax: Decimal,
    #[serde(default)]
    pub customer: Option<Value>,
    #[serde(default)]
    pub products: Vec<OrderLine>,
    #[serde(default)]
    pub vouchers: Vec<Voucher>,
}

impl Order {
    /// Lines (active ones) with VAT, plus vouchers (negative, with their VAT), plus shipping.
    pub fn total_with_vat(&self) -> Decimal {
        let lines: Decimal = self
            .products
            .iter()
            .filter(|l| l.status.unwrap_or(1) != 0)
            .map(|l| l.sale_price * Decimal::from(l.quantity) * (Decimal::ONE + l.vat))
            .sum();
        let vouchers: Decimal = self
            .vouchers
            .iter()
            .map(|v| v.sale_price + v.sale_price_vat)
            .sum();
        (lines + vouchers + self.shipping_tax).round_dp(4)
    }
}

/// What eMAG said about one item of a bulk save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub id: u64,
    pub accepted: bool,
    pub messages: Vec<String>,
}

/// Per-item outcomes of a bulk save (top-level `isError` stays false when items fail).
pub type BulkOutcome = BTreeMap<u64, ItemOutcome>;

/// A change to one offer through `offer/save`: only the fields that change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferUpdate {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_sale_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sale_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<Vec<WarehouseValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handling_time: Option<Vec<WarehouseValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_numbers_and_big_ids() {
        let order: Order = serde_json::from_value(json!({
            "id": "3115229985", "status": "1", "type": 3, "shipping_tax": "19.9900",
            "products": [{"id": 1, "product_id": "42", "quantity": "2", "sale_price": "100.5000", "vat": "0.2100"}],
            "vouchers": [{"sale_price": "-10.0000", "sale_price_vat": "-2.1000"}],
            "unknown_key": {"whatever": true}
        }))
        .expect("order parses");
        assert_eq!(order.id, 3_115_229_985);
        assert_eq!(order.products[0].quantity, 2);
        // 2 × 100.5 × 1.21 − 12.1 + 19.99
        assert_eq!(order.total_with_vat().to_string(), "251.1000");
        let count: Count = serde_json::from_value(
            json!({"noOfItems": "797", "noOfPages": "8", "itemsPerPage": 100}),
        )
        .expect("count");
        assert_eq!((count.items, count.pages, count.per_page), (797, 8, 100));
    }

    #[test]
    fn polymorphic_fields() {
        let flag: Offer =
            serde_json::from_value(json!({"id": 1, "manufacturer": true, "sale_price": 406.4515}))
                .expect("flag");
        assert_eq!(flag.manufacturer, Some(FlagOrList::Flag(true)));
        assert_eq!(
            flag.sale_price.map(|d| d.to_string()),
            Some("406.4515".into())
        );
        let list: Offer =
            serde_json::from_value(json!({"id": 1, "manufacturer": [{"name": "ACME"}]}))
                .expect("list");
        assert!(matches!(list.manufacturer, Some(FlagOrList::List(ref l)) if l.len() == 1));
    }
}

/// Filters of `product_offer/read` and `/count` (top-level keys, as eMAG reads them).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OfferFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// 0 inactive, 1 active, 2 end of life; none = every status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number_key: Option<String>,
}

/// Filters of `order/read` and `/count`. Times are platform-local `YYYY-mm-dd HH:ii:ss`;
/// a window may span at most one month, and `…Before` needs `…After`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFilter {
    /// 2 fulfilled by eMAG, 3 by the seller. Always send it: a missing type means 3.
    #[serde(rename = "type")]
    pub order_type: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_before: Option<String>,
}

/// One item of a read: its JSON text (stored as eMAG sent it) and its typed reading,
/// which fails alone when one row is malformed.
#[derive(Clone, Debug)]
pub struct Parsed<T> {
    pub raw: Box<RawValue>,
    pub item: Result<T, ItemError>,
}

/// Why one item of a read cannot be stored.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ItemError {
    /// Not the shape magflow reads (serde's words).
    #[error("{0}")]
    Shape(String),
    #[error("id {0} does not fit a 64-bit signed integer")]
    IdTooLarge(u64),
}

impl<T: serde::de::DeserializeOwned> Parsed<T> {
    pub fn from_raw(raw: Box<RawValue>) -> Parsed<T> {
        let item =
            serde_json::from_str(raw.get()).map_err(|e| ItemError::Shape(without_position(&e)));
        Parsed { raw, item }
    }

    /// An item given as a tree.
    pub fn from_value(value: &Value) -> Parsed<T> {
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => Parsed::from_raw(raw),
            Err(e) => Parsed {
                raw: RawValue::NULL.to_owned(),
                item: Err(ItemError::Shape(e.to_string())),
            },
        }
    }

    /// The item as a tree.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.raw.get()).unwrap_or(Value::Null)
    }
}

/// serde's reason without serde_json's "at line 1 column 40": a row's own fault, told
/// the same whether it was read from a page's text or from a tree.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}
