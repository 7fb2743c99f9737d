//! Items whose answer was never recorded (the worker was killed, or eMAG timed out, while
//! their chunk was in flight) may or may not have reached eMAG. A save sent again blindly
//! would apply those changes twice (docs/emag.md §3.1: re-read, never retry a save
//! blindly), so the next attempt reads the offers back first: an item eMAG already shows
//! is recorded as accepted without a request, and only the others are sent.

use std::collections::{HashMap, HashSet};

use entity::bulk_item;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::emag::{EmagClient, EmagError};

/// Offers per page when the whole catalogue is read back.
const PER_PAGE: u32 = 100;

/// The `seq` of each item in `items` whose change eMAG already shows.
pub(super) async fn already_applied(
    client: &EmagClient,
    items: &[bulk_item::Model],
) -> Result<HashSet<i32>, EmagError> {
    let wanted: HashSet<i64> = items.iter().map(|i| i.emag_id).collect();
    let at_emag = read_back(client, &wanted).await?;
    Ok(items
        .iter()
        .filter(|item| {
            at_emag
                .get(&item.emag_id)
                .is_some_and(|offer| shows_change(offer, &item.change))
        })
        .map(|item| item.seq)
        .collect())
}

/// The offers named by `ids`, as eMAG has them now: one read per offer when that is
/// fewer requests than reading the whole catalogue a page at a time, else the pages.
async fn read_back(
    client: &EmagClient,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, Value>, EmagError> {
    let count = client.count("product_offer", &json!({})).await?;
    let pages = count.items.div_ceil(u64::from(PER_PAGE));
    let mut found = HashMap::new();
    if (ids.len() as u64) <= pages {
        for id in ids {
            let rows = client
                .read_page("product_offer", &json!({ "id": id }), 1, 1)
                .await?;
            found.extend(rows.into_iter().filter_map(keyed));
        }
    } else {
        for page in 1..=pages.max(1) {
            let rows = client
                .read_page("product_offer", &json!({}), page as u32, PER_PAGE)
                .await?;
            let short = rows.len() < PER_PAGE as usize;
            found.extend(
                rows.into_iter()
                    .filter_map(keyed)
                    .filter(|(id, _)| ids.contains(id)),
            );
            if short || found.len() == ids.len() {
                break;
            }
        }
    }
    Ok(found)
}

fn keyed(offer: Value) -> Option<(i64, Value)> {
    let id = whole(offer.get("id")?)?;
    Some((id, offer))
}

/// Whether every field of `change` (as stored by the plan) has its new value at eMAG.
fn shows_change(offer: &Value, change: &Value) -> bool {
    let Some(fields) = change.as_object() else {
        return false;
    };
    fields.iter().all(|(field, want)| match field.as_str() {
        "stock" | "handling_time" => {
            let at_warehouse = offer
                .get(field)
                .and_then(Value::as_array)
                .and_then(|list| {
                    list.iter()
                        .find(|w| w.get("warehouse_id").and_then(whole) == Some(1))
                })
                .and_then(|w| w.get("value"))
                .and_then(whole);
            at_warehouse.is_some() && at_warehouse == whole(want)
        }
        "status" => offer
            .get(field)
            .and_then(whole)
            .is_some_and(|v| Some(v) == whole(want)),
        _ => offer
            .get(field)
            .and_then(money)
            .is_some_and(|v| Some(v) == money(want)),
    })
}

fn whole(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn money(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    text.parse::<Decimal>().ok().map(|d| d.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offer_shows_a_change_only_when_every_field_matches() {
        let offer = json!({
            "id": "7", "sale_price": 12.5, "status": "1",
            "stock": [{ "warehouse_id": 1, "value": 4 }],
            "handling_time": [{ "warehouse_id": "1", "value": "2" }]
        });
        let change =
            json!({ "sale_price": "12.5000", "stock": 4, "handling_time": 2, "status": 1 });
        assert!(shows_change(&offer, &change));
        assert!(!shows_change(&offer, &json!({ "sale_price": "12.5100" })));
        assert!(!shows_change(&offer, &json!({ "stock": 5 })));
        assert!(!shows_change(
            &offer,
            &json!({ "recommended_price": "20.0000" })
        ));
        assert!(!shows_change(&json!({ "id": 7 }), &json!({ "stock": 0 })));
    }
}
