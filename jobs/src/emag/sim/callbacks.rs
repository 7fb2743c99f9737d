//! eMAG's callback URLs, per login: set through `/__sim/callbacks`, called with
//! `?order_id=` when an order is created or cancelled through `/__sim/mutate`, as eMAG
//! calls a seller's URLs from its seller settings. A call that fails is not repeated
//! (eMAG promises no retry); the seller's polling is the safety net.

use std::{collections::HashMap, sync::Arc, time::Duration};

use poem::{
    handler,
    http::StatusCode,
    web::{Data, Json},
};
use serde::Deserialize;

use super::state::{SimState, lock};

/// Login → the URL eMAG calls for new and cancelled orders.
pub struct Callbacks {
    order_urls: std::sync::Mutex<HashMap<String, String>>,
    http: reqwest::Client,
    /// Calls answered with a 2xx, and the others: what tests read.
    pub delivered: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

impl Default for Callbacks {
    fn default() -> Callbacks {
        // reqwest is built without a default TLS provider: a process that starts only the
        // simulator has none yet.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Callbacks {
            order_urls: std::sync::Mutex::default(),
            http: reqwest::Client::new(),
            delivered: std::sync::atomic::AtomicU64::default(),
            failed: std::sync::atomic::AtomicU64::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallbackSetting {
    login: String,
    /// None turns the login's callbacks off.
    order_url: Option<String>,
}

#[handler]
pub(super) fn set_callbacks(
    state: Data<&Arc<SimState>>,
    Json(req): Json<CallbackSetting>,
) -> StatusCode {
    let mut urls = lock(&state.callbacks.order_urls);
    match req.order_url {
        Some(url) => urls.insert(req.login, url),
        None => urls.remove(&req.login),
    };
    StatusCode::NO_CONTENT
}

/// Calls the login's order URL once per order, in the background, in order.
pub(super) fn orders_changed(state: &Arc<SimState>, login: &str, ids: Vec<u64>) {
    let Some(url) = lock(&state.callbacks.order_urls).get(login).cloned() else {
        return;
    };
    if ids.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let cb = &state.callbacks;
        for id in ids {
            let sent = cb
                .http
                .get(with_order(&url, id))
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let counter = match sent {
                Ok(r) if r.status().is_success() => &cb.delivered,
                _ => &cb.failed,
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
}

/// `url` with `order_id` added to its query.
fn with_order(url: &str, id: u64) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}order_id={id}")
}
