//! The simulator's routes: `/api-3/...` as eMAG, `/__sim/...` for tests (faults, outages,
//! mutations, the request log).

use std::{sync::Arc, time::Duration};

use base64::Engine;
use poem::{
    Body, Endpoint, EndpointExt, Request, Response, Route, get, handler,
    http::{Method, StatusCode},
    post,
    web::{Data, Path},
};
use rand::Rng;
use serde_json::{Value, json};

use super::{
    admin::{dump, get_faults, ip_block, mutate, outage, requests, set_faults},
    body,
    callbacks::set_callbacks,
    config::Faults,
    order_writes::{acknowledge, save_attachments, save_orders},
    reads::{Resource, count, read},
    state::{SimState, lock},
    writes::{offer_stock, save_offers},
};
use crate::emag::bulk::leaf_count;

pub fn app(state: Arc<SimState>) -> impl Endpoint {
    Route::new()
        .at("/api-3/*path", api)
        .at("/__sim/faults", post(set_faults).get(get_faults))
        .at("/__sim/outage", post(outage))
        .at("/__sim/ip-block", post(ip_block))
        .at("/__sim/mutate", post(mutate))
        .at("/__sim/callbacks", post(set_callbacks))
        .at("/__sim/requests", get(requests))
        .at("/__sim/data/:login/:resource", get(dump))
        .data(state)
}

/// eMAG's answer to a request that succeeded; `results` serialized where it lies (a page
/// of offers is not copied to be sent).
pub(super) fn envelope(results: impl serde::Serialize) -> Response {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer<T> {
        is_error: bool,
        messages: [(); 0],
        results: T,
        errors: [(); 0],
    }
    let answer = Answer {
        is_error: false,
        messages: [],
        results,
        errors: [],
    };
    match serde_json::to_string(&answer) {
        Ok(body) => Response::builder()
            .status(StatusCode::OK)
            .content_type("application/json")
            .body(body),
        Err(e) => short(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

pub(super) fn error_envelope(status: StatusCode, messages: &[&str]) -> Response {
    json_response(
        status,
        &json!({ "isError": true, "messages": messages, "results": [] }),
    )
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

pub(super) fn short(status: StatusCode, message: &str) -> Response {
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
    // Logged at arrival, when the gateway counts it, whatever the answer takes.
    let arrived_ms = state.started.elapsed().as_secs_f64() * 1000.0;
    let response = serve(&state, req, &path, &route, body).await;
    state.record(
        arrived_ms,
        method.as_str(),
        &route,
        &login,
        response.status().as_u16(),
    );
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

    // Answer time and hangs: eMAG's servers, after its gateway counted the request
    // (pages take seconds to answer, but the limit counts arrivals).
    let delay = answer_delay(&faults);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    // Server trouble: per-login outages and random 5xx (some with HTML bodies).
    if state.in_outage(&login) {
        let status = [504, 502, 500][rand::rng().random_range(0..3)];
        return server_error(status, true);
    }
    let nth = state.every_nth(faults.error_every);
    if nth
        || (faults.error_rate > 0.0 && rand::rng().random_bool(faults.error_rate.clamp(0.0, 1.0)))
    {
        let status = [500, 502, 504][rand::rng().random_range(0..3)];
        let html = rand::rng().random_bool(faults.html_share.clamp(0.0, 1.0));
        return server_error(status, html);
    }

    let mut response = authorised(state, req, path, route, credentials, body).await;
    if faults.answer_delay_ms > 0 && route.ends_with("/save") {
        tokio::time::sleep(Duration::from_millis(faults.answer_delay_ms)).await;
    }
    let headers = response.headers_mut();
    headers.insert("X-RateLimit-Limit-3second", limit.min(99_999).into());
    headers.insert(
        "X-RateLimit-Remaining-3second",
        remaining.min(99_999).into(),
    );
    response
}

/// How long eMAG's servers take with this request, in milliseconds.
fn answer_delay(faults: &Faults) -> u64 {
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
    // The one GET: its EANs are in the query, and it has no body.
    if route == "documentation/find_by_eans" && req.method() == Method::GET {
        return super::helpers::find_by_eans(state, &user, req.uri().query());
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
        Err(e) => return error_envelope(StatusCode::OK, &[&e.to_string()]),
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
        (Method::PATCH, "offer_stock") => {
            offer_stock(data, id_in_path, &input, state.config.offer_stock_array)
        }
        (Method::POST, "handling_time/read") => super::helpers::handling_times(),
        (Method::POST, "order/acknowledge") => acknowledge(data, id_in_path),
        (Method::POST, "order/save") => save_orders(data, &input),
        (Method::POST, "order/attachments/save") => save_attachments(data, &input),
        (Method::POST, "vat/read") => envelope(
            json!([{ "vat_id": 1, "vat_rate": "0.2100", "is_default": 1 }, { "vat_id": 2, "vat_rate": "0.1100", "is_default": 0 }]),
        ),
        (Method::POST, "category/read") => envelope(
            json!([{ "id": 100, "name": "Categorie", "is_allowed": 1, "characteristics": [] }]),
        ),
        _ => short(StatusCode::NOT_FOUND, "Invalid URL"),
    }
}
