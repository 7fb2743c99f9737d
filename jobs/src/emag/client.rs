//! The eMAG client: one per login. Every request goes through the shared rate limit,
//! is classified into an [`EmagError`] a caller can act on, and is retried with backoff
//! when (and only when) the error is retryable.

use std::{fmt, sync::Arc, time::Duration};

use base64::Engine;
use reqwest::Method;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json, value::RawValue};

pub use super::options::{ClientOptions, Login, Stats};

mod send;

pub use send::MAX_RESPONSE_BYTES;

use super::{
    bulk::chunks,
    error::EmagError,
    rate_limit::RateLimiter,
    response::{classify, plain_items, shape_error, texts},
    types::{
        BulkOutcome, Count, ItemOutcome, Offer, OfferFilter, OfferUpdate, Order, OrderFilter,
        Parsed,
    },
    wire::Wire,
};

#[derive(Clone)]
pub struct EmagClient {
    http: reqwest::Client,
    base: String,
    /// `Basic …`; never logged.
    authorization: String,
    login_key: String,
    /// The magflow account name in metric labels (`-` until set; never the login).
    account: String,
    limiter: RateLimiter,
    options: ClientOptions,
    stats: Arc<Stats>,
    /// Where requests are written: the caller's runtime without one.
    wire: Option<Wire>,
}

impl fmt::Debug for EmagClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmagClient")
            .field("base", &self.base)
            .field("authorization", &"***")
            .finish()
    }
}

impl EmagClient {
    pub fn new(
        login: &Login,
        limiter: RateLimiter,
        options: ClientOptions,
    ) -> Result<EmagClient, EmagError> {
        // reqwest is built without a default TLS provider (docs/stack-notes.md §2); one process-wide
        // install, whoever builds the first client.
        static TLS: std::sync::Once = std::sync::Once::new();
        TLS.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let http = reqwest::Client::builder()
            // A redirect could carry the Basic credentials to another host; eMAG's API
            // never redirects, so a 3xx is an error (see `classify`).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| EmagError::Transport(e.to_string()))?;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", login.username, login.password));
        Ok(EmagClient {
            http,
            base: login.base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Basic {token}"),
            login_key: format!("{}|{}", login.base_url, login.username),
            // Never the eMAG username: metrics are no place for a login. Callers name the
            // account with `for_account`.
            account: "-".to_owned(),
            limiter,
            options,
            stats: Arc::default(),
            wire: None,
        })
    }

    /// Labels this client's metrics with magflow's name for the account.
    #[must_use]
    pub fn for_account(mut self, name: &str) -> EmagClient {
        name.clone_into(&mut self.account);
        self
    }

    /// Writes requests on `wire`'s thread, so they leave when their slot comes however
    /// busy the caller's runtime is.
    #[must_use]
    pub fn on_wire(mut self, wire: Wire) -> EmagClient {
        self.wire = Some(wire);
        self
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A classic read or count: POST with a top-level JSON object.
    pub async fn read<T: DeserializeOwned>(
        &self,
        route: &str,
        filter: &Value,
    ) -> Result<T, EmagError> {
        let results = self.call(Method::POST, route, Some(filter)).await?;
        serde_json::from_value(results).map_err(|e| EmagError::InvalidBody {
            status: 200,
            reason: shape_error(&format!("the results of {route}"), &e),
        })
    }

    /// One page of `resource/read`, each item as raw JSON (parse them one by one, so one
    /// bad row fails alone).
    pub async fn read_page(
        &self,
        resource: &str,
        filter: &Value,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Value>, EmagError> {
        let results = self
            .call(
                Method::POST,
                &format!("{resource}/read"),
                Some(&page_body(filter, page, per_page)),
            )
            .await?;
        page_items(resource, results)
    }

    /// [`Self::read_page`] with each item as its own JSON text, not parsed: a plain
    /// successful page is cut into its items without building their trees.
    pub async fn read_page_texts(
        &self,
        resource: &str,
        filter: &Value,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Box<RawValue>>, EmagError> {
        let read = |status, retry_after, body: &[u8]| {
            if let Some(items) = plain_items(status, body) {
                return Ok(items);
            }
            let items = page_items(resource, classify(status, retry_after, body)?)?;
            items
                .iter()
                .map(serde_json::value::to_raw_value)
                .collect::<Result<_, _>>()
                .map_err(|e| EmagError::InvalidBody {
                    status: status.as_u16(),
                    reason: e.to_string(),
                })
        };
        let route = format!("{resource}/read");
        let body = page_body(filter, page, per_page);
        self.call_as(Method::POST, &route, Some(&body), read).await
    }

    pub async fn count(&self, resource: &str, filter: &Value) -> Result<Count, EmagError> {
        self.read(&format!("{resource}/count"), filter).await
    }

    /// A page of offers, each parsed on its own.
    pub async fn read_offers(
        &self,
        filter: &OfferFilter,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Parsed<Offer>>, EmagError> {
        self.read_parsed("product_offer", filter, page, per_page)
            .await
    }

    /// A page of offers, each as its own JSON text: to be parsed elsewhere
    /// ([`Parsed::from_raw`]).
    pub async fn read_offer_texts(
        &self,
        filter: &OfferFilter,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Box<RawValue>>, EmagError> {
        self.read_page_texts("product_offer", &to_filter(filter), page, per_page)
            .await
    }

    async fn read_parsed<T: DeserializeOwned, F: Serialize>(
        &self,
        resource: &str,
        filter: &F,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Parsed<T>>, EmagError> {
        let items = self
            .read_page_texts(resource, &to_filter(filter), page, per_page)
            .await?;
        Ok(items.into_iter().map(Parsed::from_raw).collect())
    }

    pub async fn count_offers(&self, filter: &OfferFilter) -> Result<Count, EmagError> {
        self.count("product_offer", &to_filter(filter)).await
    }

    /// A page of orders, each parsed on its own.
    pub async fn read_orders(
        &self,
        filter: &OrderFilter,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Parsed<Order>>, EmagError> {
        self.read_parsed("order", filter, page, per_page).await
    }

    pub async fn count_orders(&self, filter: &OrderFilter) -> Result<Count, EmagError> {
        self.count("order", &to_filter(filter)).await
    }

    /// `offer/save` in chunks of at most 50 items and 4,000 values. Stops at the first
    /// chunk that fails, returning the outcomes so far with the error.
    pub async fn offer_save(&self, items: &[OfferUpdate]) -> (BulkOutcome, Option<EmagError>) {
        self.bulk_save("offer/save", items).await
    }

    async fn bulk_save<T: Serialize>(
        &self,
        route: &str,
        items: &[T],
    ) -> (BulkOutcome, Option<EmagError>) {
        let mut outcomes = BulkOutcome::new();
        let values: Vec<Value> = items
            .iter()
            .filter_map(|i| serde_json::to_value(i).ok())
            .collect();
        for chunk in chunks(&values) {
            match self.save_chunk(route, &chunk).await {
                Ok(chunk_outcomes) => outcomes.extend(chunk_outcomes),
                Err(e) => return (outcomes, Some(e)),
            }
        }
        (outcomes, None)
    }

    /// One bulk request; per-item outcomes from `results` keyed by id.
    pub async fn save_chunk(&self, route: &str, chunk: &[Value]) -> Result<BulkOutcome, EmagError> {
        let body = Value::Array(chunk.to_vec());
        let results = self.call(Method::POST, route, Some(&body)).await?;
        let mut outcomes = BulkOutcome::new();
        for item in chunk {
            let Some(id) = item.get("id").and_then(as_u64) else {
                continue;
            };
            let entry = results.get(id.to_string());
            let outcome = match entry {
                Some(r) => ItemOutcome {
                    id,
                    accepted: !r.get("isError").and_then(Value::as_bool).unwrap_or(false),
                    messages: texts(r.get("messages")),
                },
                // No per-item entry: the request as a whole was accepted.
                None => ItemOutcome {
                    id,
                    accepted: true,
                    messages: Vec::new(),
                },
            };
            outcomes.insert(id, outcome);
        }
        Ok(outcomes)
    }

    /// `PATCH offer_stock/{id}` with `{"stock": n}`; 204 and no body on success.
    pub async fn offer_stock(&self, id: u64, stock: u32) -> Result<(), EmagError> {
        self.call(
            Method::PATCH,
            &format!("offer_stock/{id}"),
            Some(&json!({ "stock": stock })),
        )
        .await
        .map(|_| ())
    }

    pub async fn order_acknowledge(&self, id: u64) -> Result<(), EmagError> {
        self.call(
            Method::POST,
            &format!("order/acknowledge/{id}"),
            Some(&json!({})),
        )
        .await
        .map(|_| ())
    }

    /// `order/save` with a list of orders (the official shape).
    pub async fn order_save(&self, orders: &[Value]) -> Result<Value, EmagError> {
        self.call(
            Method::POST,
            "order/save",
            Some(&Value::Array(orders.to_vec())),
        )
        .await
    }

    /// The same client, trying each request once: for reads made ahead of need, whose
    /// failure the caller's own path retries (and counts toward the breaker).
    pub fn single_try(&self) -> EmagClient {
        let mut client = self.clone();
        client.options.max_attempts = 1;
        client
    }

    /// One order exactly as eMAG sends it (what `order/save` must send back), if any.
    pub async fn order_as_read(
        &self,
        id: u64,
        order_type: i64,
    ) -> Result<Option<Value>, EmagError> {
        let filter = json!({ "id": id, "type": order_type });
        Ok(self
            .read_page("order", &filter, 1, 1)
            .await?
            .into_iter()
            .next())
    }

    /// `order/attachments/save` of one PDF (`kind` 1: invoice).
    pub async fn order_attachment_save(
        &self,
        order_id: u64,
        order_type: i64,
        name: &str,
        url: &str,
        kind: i64,
    ) -> Result<(), EmagError> {
        let body = json!([{ "order_id": order_id, "order_type": order_type, "name": name, "url": url, "type": kind }]);
        self.call(Method::POST, "order/attachments/save", Some(&body))
            .await
            .map(|_| ())
    }

    pub async fn vat_read(&self) -> Result<Value, EmagError> {
        self.call(Method::POST, "vat/read", Some(&json!({}))).await
    }
}

fn to_filter<T: Serialize>(filter: &T) -> Value {
    serde_json::to_value(filter).unwrap_or_else(|_| json!({}))
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// A read's request body: the filter with the page asked for.
fn page_body(filter: &Value, page: u32, per_page: u32) -> Value {
    let mut body = filter.clone();
    if let Value::Object(map) = &mut body {
        map.insert("currentPage".into(), json!(page));
        map.insert("itemsPerPage".into(), json!(per_page.clamp(1, 100)));
    }
    body
}

/// A read's `results` as its list of items.
fn page_items(resource: &str, results: Value) -> Result<Vec<Value>, EmagError> {
    match results {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        Value::Object(map) if map.is_empty() => Ok(Vec::new()),
        _ => Err(EmagError::InvalidBody {
            status: 200,
            reason: format!("the results of {resource}/read are not a list"),
        }),
    }
}
