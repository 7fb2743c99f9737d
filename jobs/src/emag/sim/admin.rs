//! `/__sim/...`: what tests and demos use to steer the simulator: faults, outages, IP
//! blocks, eMAG-side changes, the request log and a dump of a login's data.

use std::{sync::Arc, time::Duration};

use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Data, Json, Path, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    body::num,
    config::Faults,
    server::{json_response, short},
    state::{SimState, lock},
    writes::now_text,
};

#[handler]
pub(super) fn get_faults(state: Data<&Arc<SimState>>) -> Json<Faults> {
    Json(lock(&state.faults).clone())
}

#[handler]
pub(super) fn set_faults(state: Data<&Arc<SimState>>, Json(faults): Json<Faults>) -> Json<Faults> {
    *lock(&state.faults) = faults.clone();
    Json(faults)
}

#[derive(Deserialize)]
struct OutageRequest {
    login: String,
    seconds: f64,
}

#[handler]
pub(super) fn outage(
    state: Data<&Arc<SimState>>,
    Json(req): Json<OutageRequest>,
) -> impl IntoResponse {
    let until = std::time::Instant::now() + Duration::from_secs_f64(req.seconds.max(0.0));
    lock(&state.outages).insert(req.login, until);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct IpBlockRequest {
    login: String,
    blocked: bool,
}

#[handler]
pub(super) fn ip_block(
    state: Data<&Arc<SimState>>,
    Json(req): Json<IpBlockRequest>,
) -> impl IntoResponse {
    let mut blocked = lock(&state.ip_blocked);
    if req.blocked {
        blocked.insert(req.login);
    } else {
        blocked.remove(&req.login);
    }
    StatusCode::NO_CONTENT
}

/// eMAG-side changes an incremental sync must pick up.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MutateRequest {
    login: String,
    /// Offer fields to overwrite, each with its `id` (e.g. `sale_price`, `stock`, `campaign_locked`).
    #[serde(default)]
    offers: Vec<Value>,
    /// Order fields to overwrite, each with its `id` (e.g. `status`); `modified` is set to
    /// now unless given.
    #[serde(default)]
    orders: Vec<Value>,
    /// New orders to add (status 1, type of the login).
    #[serde(default)]
    add_orders: usize,
    /// Offers the seller deleted: gone from every read and count.
    #[serde(default)]
    delete_offers: Vec<u64>,
}

#[handler]
pub(super) fn mutate(state: Data<&Arc<SimState>>, Json(req): Json<MutateRequest>) -> Response {
    let mut logins = lock(&state.logins);
    let Some(data) = logins.get_mut(&req.login) else {
        return short(StatusCode::NOT_FOUND, "unknown login");
    };
    let now = now_text();
    for change in &req.offers {
        overwrite(&mut data.offers, change);
    }
    for id in &req.delete_offers {
        data.offers.remove(id);
    }
    // eMAG calls back about new orders and cancellations (status 0).
    let mut called = Vec::new();
    for change in &req.orders {
        if let Some(order) = overwrite(&mut data.orders, change) {
            // A test may date the change (the 48-hour windows); otherwise it is now.
            if change.get("modified").is_none() {
                order["modified"] = json!(now);
            }
            if num(change.get("status")) == Some(0) {
                called.extend(num(order.get("id")).map(|id| id as u64));
            }
        }
    }
    let mut added = Vec::new();
    let next_id = data
        .orders
        .keys()
        .next_back()
        .copied()
        .unwrap_or(4_294_000_000)
        + 997;
    let template = data.orders.values().next().cloned();
    for i in 0..req.add_orders {
        let id = next_id + (i as u64) * 997;
        let mut order = template
            .clone()
            .unwrap_or_else(|| json!({ "products": [], "vouchers": [], "shipping_tax": "0.0000" }));
        order["id"] = json!(id);
        order["status"] = json!(1);
        order["type"] = json!(if data.fbe { 2 } else { 3 });
        order["date"] = json!(now);
        order["modified"] = json!(now);
        data.orders.insert(id, order);
        added.push(id);
    }
    drop(logins);
    called.extend(&added);
    super::callbacks::orders_changed(&state, &req.login, called);
    json_response(StatusCode::OK, &json!({ "added_orders": added }))
}

/// Copies every field of `change` but `id` onto the item with that id; the item, if any.
fn overwrite<'a>(
    items: &'a mut std::collections::BTreeMap<u64, Value>,
    change: &Value,
) -> Option<&'a mut Value> {
    let item = num(change.get("id")).and_then(|id| items.get_mut(&(id as u64)))?;
    for (k, v) in change.as_object()?.iter().filter(|(k, _)| *k != "id") {
        item[k] = v.clone();
    }
    Some(item)
}

#[derive(Deserialize)]
struct RequestsQuery {
    #[serde(default)]
    from: usize,
}

#[handler]
pub(super) fn requests(state: Data<&Arc<SimState>>, Query(q): Query<RequestsQuery>) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(state.requests(q.from)).unwrap_or_default(),
    )
}

/// The simulator's whole data of one login, for tests that compare it with the database.
#[handler]
pub(super) fn dump(
    state: Data<&Arc<SimState>>,
    Path((login, resource)): Path<(String, String)>,
) -> Response {
    let logins = lock(&state.logins);
    let Some(data) = logins.get(&login) else {
        return short(StatusCode::NOT_FOUND, "unknown login");
    };
    let items: Vec<&Value> = match resource.as_str() {
        "offers" => data.offers.values().collect(),
        "orders" => data.orders.values().collect(),
        _ => return short(StatusCode::NOT_FOUND, "offers or orders"),
    };
    json_response(StatusCode::OK, &json!(items))
}
