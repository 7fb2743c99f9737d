//! Offer saves: `offer/save`, `product_offer/save`, `offer_stock`, with eMAG's validation
//! rules (orders: `order_writes`).

use poem::{Response, http::StatusCode};
use serde_json::{Value, json};

use super::{
    body::num,
    data::{emag_time, money},
    server::{envelope, error_envelope, json_response, short},
    state::LoginData,
};

/// Money with at most 4 decimals, as ten-thousandths.
fn money_of(v: &Value) -> Option<i64> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if frac.len() > 4 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac: i64 = format!("{frac:0<4}").parse().ok()?;
    Some(int * 10_000 + if int < 0 { -frac } else { frac })
}

const PRICE_FIELDS: [&str; 4] = [
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
];

/// Validates one item against its current offer; returns the updated offer or the messages.
/// eMAG freezes what a running campaign promised: price and stock (what our validation
/// cannot know, so eMAG's own per-item rejection).
fn campaign_refusals(current: &Value, change: &Value) -> Vec<String> {
    let locked = current
        .get("campaign_locked")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    ["sale_price", "stock"]
        .into_iter()
        .filter(|field| locked && change.get(field).is_some())
        .map(|field| {
            format!(
                "The offer is included in the active campaign BF, thus the {} has NOT been changed.",
                if field == "stock" { "stock" } else { "price" }
            )
        })
        .collect()
}

fn apply_offer_change(current: &Value, change: &Value, fbe: bool) -> Result<Value, Vec<String>> {
    let mut next = current.clone();
    let frozen = campaign_refusals(current, change);
    if !frozen.is_empty() {
        return Err(frozen);
    }
    let mut errors = Vec::new();
    for field in PRICE_FIELDS {
        if let Some(v) = change.get(field) {
            match money_of(v) {
                Some(m) if m >= 0 => next[field] = json!(money(m)),
                _ => errors.push(format!(
                    "{field} must be a positive number with at most 4 decimals"
                )),
            }
        }
    }
    for field in ["stock", "handling_time"] {
        if let Some(v) = change.get(field) {
            if fbe {
                errors.push(format!(
                    "The {field} of FBE offers is managed by eMAG and cannot be changed"
                ));
                continue;
            }
            let Some(list) = v.as_array() else {
                errors.push(format!("The {field} field must be a list"));
                continue;
            };
            let cleaned = warehouse_values(field, list, &mut errors);
            if field == "stock" && errors.is_empty() {
                let total: i64 = cleaned.iter().filter_map(|c| c["value"].as_i64()).sum();
                next["general_stock"] = json!(total);
                next["estimated_stock"] = json!(total);
            }
            next[field] = Value::Array(cleaned);
        }
    }
    for field in ["status", "vat_id"] {
        if let Some(v) = change.get(field) {
            match num(Some(v)) {
                Some(n) => next[field] = json!(n),
                None => errors.push(format!("{field} must be a number")),
            }
        }
    }
    let get = |f: &str| next.get(f).and_then(money_of);
    if let (Some(sale), Some(min), Some(max)) = (
        get("sale_price"),
        get("min_sale_price"),
        get("max_sale_price"),
    ) && (sale < min || sale > max)
    {
        errors.push("The sale_price must be between min_sale_price and max_sale_price".into());
    }
    if let (Some(sale), Some(rec)) = (get("sale_price"), get("recommended_price"))
        && change.get("recommended_price").is_some()
        && rec <= sale
    {
        errors.push("The recommended_price must be greater than the sale_price".into());
    }
    if errors.is_empty() {
        Ok(next)
    } else {
        Err(errors)
    }
}

/// A stock or handling time list, `[{"warehouse_id", "value"}]`, with whole values of at
/// least 0; what is wrong goes to `errors` in eMAG's words.
fn warehouse_values(field: &str, list: &[Value], errors: &mut Vec<String>) -> Vec<Value> {
    let mut cleaned = Vec::new();
    for item in list {
        let whole = match item.get("value") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            _ => None,
        };
        match whole {
            Some(n) if n < 0 => errors.push("Stock should be 0 or more".into()),
            Some(n) => cleaned.push(json!({ "warehouse_id": num(item.get("warehouse_id")).unwrap_or(1), "value": n })),
            None => errors.push(format!("The {field} field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)")),
        }
    }
    cleaned
}

pub(super) fn save_offers(data: &mut LoginData, input: &Value, may_create: bool) -> Response {
    let items: Vec<Value> = match input {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![input.clone()],
        _ => return error_envelope(StatusCode::OK, &["Invalid content"]),
    };
    if items.len() > 50 {
        return error_envelope(
            StatusCode::OK,
            &["You can send at most 50 entities in one request"],
        );
    }
    let mut results = serde_json::Map::new();
    for item in items {
        let Some(id) = num(item.get("id")).filter(|id| *id > 0) else {
            results.insert(
                "0".into(),
                json!({ "isError": true, "messages": ["The id field is mandatory"] }),
            );
            continue;
        };
        let key = id as u64;
        let outcome = match data.offers.get(&key) {
            Some(current) => apply_offer_change(current, &item, data.fbe),
            None if may_create && item.get("name").is_some() => {
                let mut created = item.clone();
                created["id"] = json!(key);
                Ok(created)
            }
            None => Err(vec![format!("The offer with id {id} does not exist")]),
        };
        let entry = match outcome {
            Ok(next) => {
                data.offers.insert(key, next);
                *data.saves_applied.entry(key).or_default() += 1;
                json!({ "isError": false, "messages": [format!("Offer {id} updated successfully")] })
            }
            Err(messages) => json!({ "isError": true, "messages": messages }),
        };
        results.insert(id.to_string(), entry);
    }
    envelope(Value::Object(results))
}

/// `accept_array`: also the predecessor's `[{"warehouse_id": 1, "value": n}]` form.
pub(super) fn offer_stock(
    data: &mut LoginData,
    id: Option<u64>,
    input: &Value,
    accept_array: bool,
) -> Response {
    let Some(id) = id else {
        return short(StatusCode::NOT_FOUND, "Invalid URL");
    };
    let stock = match input.get("stock") {
        Some(Value::Array(list)) if accept_array => list
            .iter()
            .find(|w| w.get("warehouse_id").and_then(Value::as_i64) == Some(1))
            .and_then(|w| w.get("value"))
            .and_then(Value::as_i64),
        Some(v) => v.as_i64(),
        None => None,
    };
    let Some(stock) = stock else {
        return short(StatusCode::BAD_REQUEST, "Invalid content");
    };
    let Some(offer) = data.offers.get_mut(&id) else {
        return short(StatusCode::NOT_FOUND, "This offer does not exist");
    };
    let reject = |message: &str| {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "message": "Validation errors in your request", "errors": [{ "message": message, "field": "stock" }] }),
        )
    };
    if data.fbe {
        return reject("The stock of FBE offers is managed by eMAG and cannot be changed");
    }
    if offer
        .get("campaign_locked")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return reject(
            "The offer is included in the active campaign BF, thus the stock has NOT been changed.",
        );
    }
    if !(0..=65_535).contains(&stock) {
        return reject("Stock should be 0 or more");
    }
    offer["stock"] = json!([{ "warehouse_id": 1, "value": stock }]);
    offer["general_stock"] = json!(stock);
    offer["estimated_stock"] = json!(stock);
    Response::builder().status(StatusCode::NO_CONTENT).finish()
}

pub(super) fn now_text() -> String {
    emag_time(platform_now())
}

// ---- admin endpoints (tests and demos) ----

/// eMAG's clock: Romania's local time, as its timestamps are.
pub(super) fn platform_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .naive_local()
}
