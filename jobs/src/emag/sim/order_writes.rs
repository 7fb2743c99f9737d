//! Order changes: `order/acknowledge`, `order/save` and `order/attachments/save`, with
//! eMAG's rules (docs/emag.md §4.5, §4.6): the status table and its 48-hour windows, a
//! save that carries every field as read, a cancellation with one of eMAG's reasons, and
//! PDF-only attachments.

use chrono::NaiveDateTime;
use poem::{Response, http::StatusCode};
use serde_json::{Value, json};

use super::{
    body::num,
    data::emag_time,
    server::{envelope, error_envelope},
    state::LoginData,
    writes::{now_text, platform_now},
};

/// The highest cancellation reason of eMAG's v4.4.9 list.
const MAX_REASON: i64 = 43;

/// The window after finalising or cancelling in which the status may still change.
const WINDOW_HOURS: i64 = 48;

pub(super) fn acknowledge(data: &mut LoginData, id: Option<u64>) -> Response {
    let Some(order) = id.and_then(|id| data.orders.get_mut(&id)) else {
        return error_envelope(StatusCode::OK, &["Order not found"]);
    };
    if num(order.get("type")) != Some(3) {
        return error_envelope(
            StatusCode::OK,
            &["Acknowledge is available only for orders fulfilled by the seller"],
        );
    }
    match num(order.get("status")) {
        Some(1) => {
            order["status"] = json!(2);
            order["modified"] = json!(now_text());
            if let Some(id) = id {
                *data.order_changes.entry(id).or_default() += 1;
            }
            envelope(json!([]))
        }
        // Repeating an acknowledge changes nothing and says so.
        Some(2) => error_envelope(StatusCode::OK, &["Order already acknowledged"]),
        _ => error_envelope(
            StatusCode::OK,
            &["Only new orders (status 1) can be acknowledged"],
        ),
    }
}

/// §4.5: from → allowed targets (1 → 2 only by acknowledge; 5 is terminal). Leaving a
/// finalised (4) or cancelled (0) order is allowed within 48 h of its last change.
fn transition_allowed(from: i64, to: i64, since_change_hours: i64) -> Result<(), String> {
    let allowed = matches!(
        (from, to),
        (2, 0 | 2 | 3 | 4) | (3, 0 | 3 | 4) | (4, 0 | 3 | 4 | 5) | (0, 0 | 2 | 3 | 4)
    );
    if !allowed {
        return Err(format!("Status change from {from} to {to} is not allowed"));
    }
    let leaves_window = matches!((from, to), (4, 0 | 3) | (0, 2..=4));
    if leaves_window && since_change_hours >= WINDOW_HOURS {
        return Err(format!(
            "Status change from {from} to {to} is allowed only within {WINDOW_HOURS} hours"
        ));
    }
    Ok(())
}

fn hours_since(text: Option<&Value>) -> i64 {
    text.and_then(Value::as_str)
        .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
        .map_or(0, |t| (platform_now() - t).num_hours())
}

pub(super) fn save_orders(data: &mut LoginData, input: &Value) -> Response {
    let orders: Vec<Value> = match input {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![input.clone()],
        _ => return error_envelope(StatusCode::OK, &["Invalid content"]),
    };
    for change in &orders {
        let Some(id) = num(change.get("id")) else {
            return error_envelope(StatusCode::OK, &["The id field is mandatory"]);
        };
        let Some(order) = data.orders.get_mut(&(id as u64)) else {
            return error_envelope(StatusCode::OK, &[&format!("Order {id} not found")]);
        };
        if num(order.get("type")) != Some(3) {
            return error_envelope(
                StatusCode::OK,
                &["Only orders fulfilled by the seller can be edited"],
            );
        }
        // eMAG's rule: an order is saved with every field it was read with; a save
        // without its products would remove them.
        if change.get("products").is_none() {
            return error_envelope(
                StatusCode::OK,
                &["Send every field of the order as read (products is missing)"],
            );
        }
        let from = num(order.get("status")).unwrap_or(-1);
        let to = num(change.get("status")).unwrap_or(from);
        if let Err(message) = transition_allowed(from, to, hours_since(order.get("modified"))) {
            return error_envelope(StatusCode::OK, &[&message]);
        }
        if to == 0 && from != 0 {
            let reason = num(change.get("reason_cancellation"))
                .or_else(|| num(change.get("cancellation_reason")));
            match reason {
                Some(r) if (1..=MAX_REASON).contains(&r) => order["reason_cancellation"] = json!(r),
                _ => {
                    return error_envelope(
                        StatusCode::OK,
                        &["A cancellation needs reason_cancellation (one of eMAG's reasons)"],
                    );
                }
            }
        }
        if from != to {
            order["status"] = json!(to);
            order["modified"] = json!(now_text());
            *data.order_changes.entry(id as u64).or_default() += 1;
        }
    }
    envelope(json!([]))
}

/// `order/attachments/save`: one attachment or a list; PDFs only, `order_type` required.
pub(super) fn save_attachments(data: &mut LoginData, input: &Value) -> Response {
    let items: Vec<Value> = match input {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![input.clone()],
        _ => return error_envelope(StatusCode::OK, &["Invalid content"]),
    };
    for a in &items {
        let Some(id) = num(a.get("order_id")) else {
            return error_envelope(StatusCode::OK, &["order_id is mandatory"]);
        };
        if num(a.get("order_type")).is_none() {
            return error_envelope(StatusCode::OK, &["order_type is mandatory"]);
        }
        let url = a.get("url").and_then(Value::as_str).unwrap_or_default();
        if !url.to_ascii_lowercase().ends_with(".pdf") {
            return error_envelope(StatusCode::OK, &["The attachment must be a PDF file"]);
        }
        let name = a.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.chars().count() > 60 {
            return error_envelope(StatusCode::OK, &["name: at most 60 characters"]);
        }
        let Some(order) = data.orders.get_mut(&(id as u64)) else {
            return error_envelope(StatusCode::OK, &[&format!("Order {id} not found")]);
        };
        let entry = json!({ "name": name, "url": url, "type": num(a.get("type")).unwrap_or(1), "created": emag_time(platform_now()) });
        match order["attachments"].as_array_mut() {
            Some(list) => list.push(entry),
            None => order["attachments"] = json!([entry]),
        }
        *data.order_changes.entry(id as u64).or_default() += 1;
    }
    envelope(json!([]))
}
