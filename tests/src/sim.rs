//! The eMAG simulator as tests use it: a quick one, its admin routes, its data.

#![allow(
    clippy::expect_used,
    reason = "tests and their support code stop at the first broken expectation, naming it"
)]

use serde_json::Value;

/// A simulator with `offers` and `orders` per login and no rate limits.
pub async fn quick_simulator(offers: usize, orders: usize) -> jobs::emag::sim::Simulator {
    let config = jobs::emag::sim::SimConfig {
        offers,
        orders,
        limits: jobs::emag::sim::LimitMode::Off,
        ..jobs::emag::sim::SimConfig::default()
    };
    jobs::emag::sim::Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator")
}

/// Calls one of the simulator's `/__sim` endpoints (faults, outage, ip-block, mutate)
/// over HTTP, as a test or demo script would; returns its JSON answer (null when empty).
pub async fn sim_admin(sim: &jobs::emag::sim::Simulator, endpoint: &str, body: &Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/{endpoint}", sim.admin_url()))
        .json(body)
        .send()
        .await
        .expect("simulator admin call");
    assert!(
        resp.status().is_success(),
        "/__sim/{endpoint}: {}",
        resp.status()
    );
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The simulator's whole data of one login (`offers` or `orders`), as eMAG would send it.
pub async fn sim_dump(sim: &jobs::emag::sim::Simulator, login: &str, resource: &str) -> Vec<Value> {
    reqwest::get(format!("{}/data/{login}/{resource}", sim.admin_url()))
        .await
        .expect("simulator dump")
        .json()
        .await
        .expect("dump is JSON")
}
