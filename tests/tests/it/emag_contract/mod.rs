//! The 24 contract checks of docs/emag.md §6: the real client against the simulator over
//! real HTTP. Numbered as in the contract.
//!
//! - [`reads`]: envelope, paging, counts, filters, encodings, parsing, incremental windows.
//! - [`writes`]: bulk saves, price rules, stock, FBE, acknowledge and status changes.
//! - [`limits`]: auth, 429s, shared budgets, 5xx, latency and timeouts.
//! - [`helpers`]: handling times, products by EAN, the two `offer_stock` bodies.

mod helpers;
mod limits;
mod paging;
mod reads;
mod writes;

use std::time::Duration;

use jobs::emag::{
    EmagClient, Login,
    client::ClientOptions,
    rate_limit::RateLimiter,
    sim::{LimitMode, SimConfig, Simulator},
    types::{Offer, Order},
};
use serde_json::{Value, json};

pub(super) fn config(limits: LimitMode) -> SimConfig {
    SimConfig {
        offers: 250,
        orders: 230,
        limits,
        ..SimConfig::default()
    }
}

pub(super) async fn sim(config: SimConfig) -> Simulator {
    tests::install_tls_provider();
    Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator starts")
}

pub(super) fn fast() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(5),
        max_attempts: 4,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        penalty: Duration::from_millis(400),
    }
}

pub(super) fn client_for(
    sim: &Simulator,
    user: &str,
    password: &str,
    limiter: RateLimiter,
    options: ClientOptions,
) -> EmagClient {
    let login = Login {
        base_url: sim.base_url.clone(),
        username: user.into(),
        password: password.into(),
    };
    EmagClient::new(&login, limiter, options).expect("client")
}

pub(super) fn main_client(sim: &Simulator) -> EmagClient {
    client_for(sim, "main", "main-secret", RateLimiter::off(), fast())
}

/// A raw request, to see exactly what the simulator sends back.
pub(super) async fn raw(
    sim: &Simulator,
    user: &str,
    route: &str,
    content_type: &str,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/{route}", sim.base_url))
        .basic_auth(user, Some(format!("{user}-secret")))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

pub(super) async fn all_ids(client: &EmagClient, resource: &str, filter: &Value) -> Vec<u64> {
    let mut ids = Vec::new();
    for page in 1.. {
        let items = client
            .read_page(resource, filter, page, 100)
            .await
            .expect("page");
        if items.is_empty() {
            break;
        }
        ids.extend(items.iter().map(|v| {
            v["id"]
                .as_u64()
                .or_else(|| v["id"].as_str().and_then(|s| s.parse().ok()))
                .expect("id")
        }));
    }
    ids
}

pub(super) async fn first_offer(client: &EmagClient) -> Offer {
    serde_json::from_value(
        client
            .read_page("product_offer", &json!({"status": 1}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer")
}

pub(super) async fn order_with(client: &EmagClient, filter: Value) -> Option<Order> {
    client
        .read_page("order", &filter, 1, 1)
        .await
        .expect("read")
        .into_iter()
        .next()
        .map(|o| serde_json::from_value(o).expect("order"))
}
