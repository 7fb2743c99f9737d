//! The simulator's routes: `/api-3/...` as eMAG, `/__sim/...` for tests (faults, outages,
//! mutations, the request log).

use std::{sync::Arc, time::Duration};

use base64::Engine;
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::{Method, StatusCode},
    post,
    web::{Data, Json, Path, Query},
};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    body::{self, num},
    config::Faults,
    data::{emag_time, money},
    state::{LoginData, SimState, lock},
};
use crate::emag::client::leaf_count;

pub fn app(state: Arc<SimState>) -> impl Endpoint {
    Route::new()
        .at("/api-3/*path", api)
        .at("/__sim/faults", post(set_faults).get(get_faults))
        .at("/__sim/outage", post(outage))
        .at("/__sim/ip-block", post(ip_block))
        .at("/__sim/mutate", post(mutate))
        .at("/__sim/requests", get(requests))
        .at("/__sim/data/:login/:resource", get(dump))
        .data(state)
}

fn envelope(results: Value) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "isError": false, "messages": [], "results": results, "errors": [] }),
    )
}

fn error_envelope(status: StatusCode, messages: &[&str]) -> Response {
    json_response(
        status,
        &json!({ "isError": true, "messages": messages, "results": [] }),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

fn short(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "message": message }))
}

fn basic_auth(req: &Request) -> Option<(String, String)> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// `offer_stock/123` → `offer_stock`; `order/acknowledge/5` → `order/acknowledge`.
fn route_label(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && !p.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join("/")
}

#[handler]
async fn api(
    req: &Request,
    Path(path): Path<String>,
    body: Body,
    state: Data<&Arc<SimState>>,
) -> Response {
    let state = state.0.clone();
    let route = route_label(&path);
    let login = basic_auth(req)
        .map(|(u, _)| u)
        .unwrap_or_else(|| "anonymous".into());
    let method = req.method().clone();
    let response = serve(&state, req, &path, &route, body).await;
    state.record(method.as_str(), &route, &login, response.status().as_u16());
    response
}

async fn serve(
    state: &Arc<SimState>,
    req: &Request,
    path: &str,
    route: &str,
    body: Body,
) -> Response {
    let credentials = basic_auth(req);
    let login = credentials
        .as_ref()
        .map_or("anonymous", |(u, _)| u.as_str())
        .to_owned();
    let faults = lock(&state.faults).clone();

    // Latency and hangs first: they happen on the wire, before anything else.
    let delay = {
        let mut rng = rand::rng();
        let (lo, hi) = faults.latency_ms;
        let mut ms = if hi > lo {
            rng.random_range(lo..=hi)
        } else {
            lo
        };
        if faults.hang_rate > 0.0 && rng.random_bool(faults.hang_rate.clamp(0.0, 1.0)) {
            ms += faults.hang_ms;
        }
        ms
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    // The gateway: forced 429 bursts, then the sliding windows (invalid requests count too).
    if faults.burst_429 > 0 {
        let mut f = lock(&state.faults);
        if f.burst_429 > 0 {
            f.burst_429 -= 1;
            return rate_limited(3 * 3);
        }
    }
    let rate_key = if state.config.limit_by_ip {
        req.remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    } else {
        login.clone()
    };
    let orders_bucket = route.starts_with("order");
    let (limit, remaining) = match state.take_rate(&rate_key, orders_bucket) {
        Ok(v) => v,
        Err((limit, _)) => return rate_limited(limit),
    };

    // Server trouble: per-login outages and random 5xx (some with HTML bodies).
    if state.in_outage(&login) {
        let status = [504, 502, 500][rand::rng().random_range(0..3)];
        return server_error(status, true);
    }
    if faults.error_rate > 0.0 && rand::rng().random_bool(faults.error_rate.clamp(0.0, 1.0)) {
        let status = [500, 502, 504][rand::rng().random_range(0..3)];
        let html = rand::rng().random_bool(faults.html_share.clamp(0.0, 1.0));
        return server_error(status, html);
    }

    let mut response = authorised(state, req, path, route, credentials, body).await;
    let headers = response.headers_mut();
    headers.insert("X-RateLimit-Limit-3second", limit.min(99_999).into());
    headers.insert(
        "X-RateLimit-Remaining-3second",
        remaining.min(99_999).into(),
    );
    response
}

fn rate_limited(limit: usize) -> Response {
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .content_type("application/json")
        .header("X-RateLimit-Limit-3second", limit.to_string())
        .header("X-RateLimit-Remaining-3second", "0")
        .header("Server", "kong/simulated")
        .body(r#"{"message":"API rate limit exceeded"}"#)
}

fn server_error(status: u16, html: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if html {
        Response::builder()
            .status(status)
            .content_type("text/html")
            .body(format!(
                "<html><body><h1>{status}</h1>upstream error</body></html>"
            ))
    } else {
        json_response(
            status,
            &json!({ "isError": true, "messages": ["Internal error"], "results": [] }),
        )
    }
}

async fn authorised(
    state: &Arc<SimState>,
    req: &Request,
    path: &str,
    route: &str,
    credentials: Option<(String, String)>,
    body: Body,
) -> Response {
    let auth_status =
        StatusCode::from_u16(state.config.auth_status).unwrap_or(StatusCode::UNAUTHORIZED);
    let Some((user, pass)) = credentials else {
        return error_envelope(auth_status, &["You are not allowed to use this API."]);
    };
    let known = lock(&state.logins)
        .get(&user)
        .is_some_and(|l| l.password == pass);
    if !known {
        return error_envelope(auth_status, &["You are not allowed to use this API."]);
    }
    if lock(&state.ip_blocked).contains(&user) {
        let ip = req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        let status = StatusCode::from_u16(state.config.ip_status).unwrap_or(StatusCode::OK);
        return error_envelope(status, &[&format!("ERROR: Invalid vendor ip [{ip}]")]);
    }
    let bytes = match body.into_vec().await {
        Ok(b) => b,
        Err(_) => return short(StatusCode::BAD_REQUEST, "Invalid content"),
    };
    let content_type = req.content_type().map(str::to_owned);
    let input = match body::normalise(content_type.as_deref(), &bytes) {
        Ok(v) => v,
        Err(_) if route == "offer_stock" => {
            return short(StatusCode::BAD_REQUEST, "Invalid content");
        }
        Err(e) => return error_envelope(StatusCode::OK, &[&e]),
    };
    if leaf_count(&input) > 4000 {
        return error_envelope(StatusCode::OK, &["Maximum input vars of 4000 exceeded"]);
    }
    let id_in_path = path.rsplit('/').next().and_then(|s| s.parse::<u64>().ok());
    let mut logins = lock(&state.logins);
    let Some(data) = logins.get_mut(&user) else {
        return error_envelope(auth_status, &["You are not allowed to use this API."]);
    };
    match (req.method().clone(), route) {
        (Method::POST, "product_offer/read") => read(state, data, &input, Resource::Offers),
        (Method::POST, "product_offer/count") => {
            count(state, data, &input, Resource::Offers, false)
        }
        (Method::POST, "order/read") => read(state, data, &input, Resource::Orders),
        (Method::POST, "order/count") => count(state, data, &input, Resource::Orders, true),
        (Method::POST, "offer/save") => save_offers(data, &input, false),
        (Method::POST, "product_offer/save") => save_offers(data, &input, true),
        (Method::PATCH, "offer_stock") => offer_stock(data, id_in_path, &input),
        (Method::POST, "order/acknowledge") => acknowledge(data, id_in_path),
        (Method::POST, "order/save") => save_orders(data, &input),
        (Method::POST, "vat/read") => envelope(
            json!([{ "vat_id": 1, "vat_rate": "0.2100", "is_default": 1 }, { "vat_id": 2, "vat_rate": "0.1100", "is_default": 0 }]),
        ),
        (Method::POST, "category/read") => envelope(
            json!([{ "id": 100, "name": "Categorie", "is_allowed": 1, "characteristics": [] }]),
        ),
        _ => short(StatusCode::NOT_FOUND, "Invalid URL"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    Offers,
    Orders,
}

/// The items matching a read/count filter, in id order; `Err` is the isError message.
fn filtered<'a>(
    state: &SimState,
    data: &'a LoginData,
    input: &Value,
    resource: Resource,
    is_count: bool,
) -> Result<Vec<&'a Value>, String> {
    let items: Box<dyn Iterator<Item = &Value>> = match resource {
        Resource::Offers => Box::new(data.offers.values()),
        Resource::Orders => Box::new(data.orders.values()),
    };
    let id = num(input.get("id"));
    let statuses: Option<Vec<i64>> = match input.get("status") {
        Some(Value::Array(list)) => Some(list.iter().filter_map(|v| num(Some(v))).collect()),
        Some(v) => num(Some(v)).map(|s| vec![s]),
        None => None,
    };
    let text = |key: &str| input.get(key).and_then(|v| v.as_str().map(str::to_owned));
    let (part_number, pnk) = (text("part_number"), text("part_number_key"));
    let mut order_type = num(input.get("type"));
    let payment_mode = num(input.get("payment_mode_id"));
    let mut windows = Vec::new();
    if resource == Resource::Orders {
        if order_type.is_none() && !is_count && state.config.default_order_type_3 {
            order_type = Some(3);
        }
        for (after, before, field) in [
            ("createdAfter", "createdBefore", "date"),
            ("modifiedAfter", "modifiedBefore", "modified"),
        ] {
            let a = text(after);
            let b = text(before);
            if b.is_some() && a.is_none() {
                return Err(format!("{before} requires {after}"));
            }
            if let (Some(a), Some(b)) = (&a, &b) {
                let parse = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S");
                match (parse(a), parse(b)) {
                    (Ok(x), Ok(y)) if y - x > chrono::Duration::days(31) => {
                        return Err(format!(
                            "The interval between {after} and {before} must be at most one month"
                        ));
                    }
                    (Ok(_), Ok(_)) => {}
                    _ => return Err(format!("{after}/{before} must be YYYY-mm-dd HH:ii:ss")),
                }
            }
            if a.is_some() {
                windows.push((field, a, b));
            }
        }
    }
    Ok(items
        .filter(|v| id.is_none_or(|id| num(v.get("id")) == Some(id)))
        .filter(|v| {
            statuses
                .as_ref()
                .is_none_or(|s| num(v.get("status")).is_some_and(|st| s.contains(&st)))
        })
        .filter(|v| {
            part_number
                .as_ref()
                .is_none_or(|p| v.get("part_number").and_then(Value::as_str) == Some(p))
        })
        .filter(|v| {
            pnk.as_ref()
                .is_none_or(|p| v.get("part_number_key").and_then(Value::as_str) == Some(p))
        })
        .filter(|v| order_type.is_none_or(|t| num(v.get("type")) == Some(t)))
        .filter(|v| payment_mode.is_none_or(|p| num(v.get("payment_mode_id")) == Some(p)))
        .filter(|v| {
            windows.iter().all(|(field, after, before)| {
                let t = v.get(*field).and_then(Value::as_str).unwrap_or_default();
                after.as_deref().is_none_or(|a| t >= a) && before.as_deref().is_none_or(|b| t <= b)
            })
        })
        .collect())
}

fn page_size(state: &SimState, input: &Value) -> Result<(usize, usize), String> {
    let page = num(input.get("currentPage")).unwrap_or(1);
    let per = num(input.get("itemsPerPage")).unwrap_or(100);
    if !(1..=65_535).contains(&page) {
        return Err("currentPage must be between 1 and 65535".into());
    }
    let per = if (1..=100).contains(&per) {
        per
    } else if state.config.reject_page_size {
        return Err("itemsPerPage must be between 1 and 100".into());
    } else {
        per.clamp(1, 100)
    };
    Ok((page as usize, per as usize))
}

fn read(state: &SimState, data: &LoginData, input: &Value, resource: Resource) -> Response {
    let (page, per) = match page_size(state, input) {
        Ok(p) => p,
        Err(e) => return error_envelope(StatusCode::OK, &[&e]),
    };
    match filtered(state, data, input, resource, false) {
        Ok(items) => {
            let filtered_by_id = input.get("id").is_some();
            let page: Vec<Value> = items
                .into_iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|v| {
                    let mut v = v.clone();
                    // GPSR details are lists when one product is asked for by id.
                    if filtered_by_id && resource == Resource::Offers {
                        v["manufacturer"] = json!([{ "name": "ACME SRL", "address": "Bucuresti", "email": "gpsr@acme.ro" }]);
                        v["eu_representative"] = json!([]);
                    }
                    v
                })
                .collect();
            envelope(Value::Array(page))
        }
        Err(e) => error_envelope(StatusCode::OK, &[&e]),
    }
}

fn count(
    state: &SimState,
    data: &LoginData,
    input: &Value,
    resource: Resource,
    is_orders: bool,
) -> Response {
    let per = num(input.get("itemsPerPage")).unwrap_or(100).clamp(1, 100) as usize;
    match filtered(state, data, input, resource, is_orders) {
        Ok(items) => {
            let n = items.len();
            // Numeric strings, as eMAG sends them.
            envelope(
                json!({ "noOfItems": n.to_string(), "noOfPages": n.div_ceil(per).to_string(), "itemsPerPage": per.to_string() }),
            )
        }
        Err(e) => error_envelope(StatusCode::OK, &[&e]),
    }
}

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
fn apply_offer_change(current: &Value, change: &Value, fbe: bool) -> Result<Value, Vec<String>> {
    let mut next = current.clone();
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
            let mut cleaned = Vec::new();
            for item in list {
                let value = item.get("value");
                let whole = match value {
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

fn save_offers(data: &mut LoginData, input: &Value, may_create: bool) -> Response {
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
                json!({ "isError": false, "messages": [format!("Offer {id} updated successfully")] })
            }
            Err(messages) => json!({ "isError": true, "messages": messages }),
        };
        results.insert(id.to_string(), entry);
    }
    envelope(Value::Object(results))
}

fn offer_stock(data: &mut LoginData, id: Option<u64>, input: &Value) -> Response {
    let Some(id) = id else {
        return short(StatusCode::NOT_FOUND, "Invalid URL");
    };
    let Some(stock) = input.get("stock").and_then(Value::as_i64) else {
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

fn now_text() -> String {
    emag_time(chrono::Utc::now().naive_utc())
}

fn acknowledge(data: &mut LoginData, id: Option<u64>) -> Response {
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

/// emag-api.md §4.5: from → allowed targets (1 → 2 only by acknowledge; 5 is terminal).
fn transition_allowed(from: i64, to: i64) -> bool {
    matches!(
        (from, to),
        (2, 0 | 2 | 3 | 4) | (3, 0 | 3 | 4) | (4, 0 | 3 | 4 | 5) | (0, 0 | 2 | 3 | 4)
    )
}

fn save_orders(data: &mut LoginData, input: &Value) -> Response {
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
        let from = num(order.get("status")).unwrap_or(-1);
        let to = num(change.get("status")).unwrap_or(from);
        if !transition_allowed(from, to) {
            return error_envelope(
                StatusCode::OK,
                &[&format!("Status change from {from} to {to} is not allowed")],
            );
        }
        order["status"] = json!(to);
        order["modified"] = json!(now_text());
    }
    envelope(json!([]))
}

// ---- admin endpoints (tests and demos) ----

#[handler]
fn get_faults(state: Data<&Arc<SimState>>) -> Json<Faults> {
    Json(lock(&state.faults).clone())
}

#[handler]
fn set_faults(state: Data<&Arc<SimState>>, Json(faults): Json<Faults>) -> Json<Faults> {
    *lock(&state.faults) = faults.clone();
    Json(faults)
}

#[derive(Deserialize)]
struct OutageRequest {
    login: String,
    seconds: f64,
}

#[handler]
fn outage(state: Data<&Arc<SimState>>, Json(req): Json<OutageRequest>) -> impl IntoResponse {
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
fn ip_block(state: Data<&Arc<SimState>>, Json(req): Json<IpBlockRequest>) -> impl IntoResponse {
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
    /// Order fields to overwrite, each with its `id` (e.g. `status`); `modified` is bumped.
    #[serde(default)]
    orders: Vec<Value>,
    /// New orders to add (status 1, type of the login).
    #[serde(default)]
    add_orders: usize,
}

#[handler]
fn mutate(state: Data<&Arc<SimState>>, Json(req): Json<MutateRequest>) -> Response {
    let mut logins = lock(&state.logins);
    let Some(data) = logins.get_mut(&req.login) else {
        return short(StatusCode::NOT_FOUND, "unknown login");
    };
    let now = now_text();
    for change in &req.offers {
        let Some(offer) = num(change.get("id")).and_then(|id| data.offers.get_mut(&(id as u64)))
        else {
            continue;
        };
        if let Some(map) = change.as_object() {
            for (k, v) in map.iter().filter(|(k, _)| *k != "id") {
                offer[k] = v.clone();
            }
        }
    }
    for change in &req.orders {
        let Some(order) = num(change.get("id")).and_then(|id| data.orders.get_mut(&(id as u64)))
        else {
            continue;
        };
        if let Some(map) = change.as_object() {
            for (k, v) in map.iter().filter(|(k, _)| *k != "id") {
                order[k] = v.clone();
            }
        }
        order["modified"] = json!(now);
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
    json_response(StatusCode::OK, &json!({ "added_orders": added }))
}

#[derive(Deserialize)]
struct RequestsQuery {
    #[serde(default)]
    from: usize,
}

#[handler]
fn requests(state: Data<&Arc<SimState>>, Query(q): Query<RequestsQuery>) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(state.requests(q.from)).unwrap_or_default(),
    )
}

/// The simulator's whole data of one login, for tests that compare it with the database.
#[handler]
fn dump(state: Data<&Arc<SimState>>, Path((login, resource)): Path<(String, String)>) -> Response {
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
