//! The eMAG client: one per login. Every request goes through the shared rate limit,
//! is classified into an [`EmagError`] a caller can act on, and is retried with backoff
//! when (and only when) the error is retryable.

use std::{
    fmt,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use base64::Engine;
use reqwest::Method;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

pub use super::options::{ClientOptions, Login, Stats};
use crate::metrics::{EMAG_DURATION, EMAG_RATE_LIMIT_WAITS, EMAG_REQUESTS};

use super::{
    bulk::chunks,
    error::EmagError,
    rate_limit::{Bucket, RateLimiter},
    response::{classify, shape_error, texts},
    types::{
        BulkOutcome, Count, ItemOutcome, Offer, OfferFilter, OfferUpdate, Order, OrderFilter,
        Parsed,
    },
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
        })
    }

    /// Labels this client's metrics with magflow's name for the account.
    #[must_use]
    pub fn for_account(mut self, name: &str) -> EmagClient {
        name.clone_into(&mut self.account);
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
        let mut body = filter.clone();
        if let Value::Object(map) = &mut body {
            map.insert("currentPage".into(), json!(page));
            map.insert("itemsPerPage".into(), json!(per_page.clamp(1, 100)));
        }
        match self
            .call(Method::POST, &format!("{resource}/read"), Some(&body))
            .await?
        {
            Value::Array(items) => Ok(items),
            Value::Null => Ok(Vec::new()),
            Value::Object(map) if map.is_empty() => Ok(Vec::new()),
            _ => Err(EmagError::InvalidBody {
                status: 200,
                reason: format!("the results of {resource}/read are not a list"),
            }),
        }
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

    async fn read_parsed<T: DeserializeOwned, F: Serialize>(
        &self,
        resource: &str,
        filter: &F,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Parsed<T>>, EmagError> {
        let items = self
            .read_page(resource, &to_filter(filter), page, per_page)
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

    pub async fn vat_read(&self) -> Result<Value, EmagError> {
        self.call(Method::POST, "vat/read", Some(&json!({}))).await
    }

    /// Sends with the rate limit and the retry policy; returns `results`.
    pub async fn call(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Value, EmagError> {
        let bucket = Bucket::for_route(route);
        // A write that may have reached eMAG is not sent again blindly (docs/emag-notes.md §3.1):
        // the caller reads back first.
        let write =
            method == Method::PATCH || route.ends_with("/save") || route.contains("/acknowledge");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.send_once(method.clone(), route, body, bucket).await;
            let error = match result {
                Ok(results) => return Ok(results),
                Err((e, delivered)) if write && delivered => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(emag.route = route, error = %e, "an eMAG write may have been applied; not sent again blindly");
                    return Err(e);
                }
                Err((e, _)) => e,
            };
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            if matches!(error, EmagError::RateLimited { .. }) {
                self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            if !error.is_retryable() || attempt >= self.options.max_attempts {
                tracing::warn!(emag.route = route, emag.attempt = attempt, error = %error, "eMAG call failed");
                return Err(error);
            }
            let mut delay = backoff(&self.options, attempt);
            if let EmagError::RateLimited { retry_after } = &error {
                let _ = self
                    .limiter
                    .penalize(&self.login_key, bucket, self.options.penalty)
                    .await;
                if let Some(hint) = retry_after {
                    delay = delay.max(*hint);
                }
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(emag.route = route, emag.attempt = attempt, error = %error, delay_ms = delay.as_millis() as u64, "retrying eMAG call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        bucket: Bucket,
    ) -> Result<Value, (EmagError, bool)> {
        let waited = self
            .limiter
            .acquire(&self.login_key, bucket)
            .await
            .map_err(|e| {
                let e = EmagError::Transport(format!("rate limiter unavailable: {e}"));
                (e, false)
            })?;
        if !waited.is_zero() {
            self.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(EMAG_RATE_LIMIT_WAITS, "account" => self.account.clone(), "bucket" => bucket.as_str())
                .increment(1);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}/{}", self.base, route.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method, &url)
            .header("Authorization", &self.authorization);
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(delivery_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read_capped(response).await?;
        self.stats
            .latency_ms
            .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        metrics::counter!(EMAG_REQUESTS, "route" => route_label(route), "account" => self.account.clone(), "bucket" => bucket.as_str(), "status" => status.as_u16().to_string()).increment(1);
        metrics::histogram!(EMAG_DURATION, "route" => route_label(route))
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(
            emag.route = route,
            http.status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "eMAG call"
        );
        classify(status, retry_after, &bytes).map_err(|e| (e, false))
    }
}

/// The most of a response body the client reads: eMAG's largest pages (100 offers with
/// their descriptions) are a few MiB.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Reads a response body up to [`MAX_RESPONSE_BYTES`], whatever its declared length.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, (EmagError, bool)> {
    let too_large = || {
        let e = EmagError::ResponseTooLarge {
            limit_mib: (MAX_RESPONSE_BYTES / (1024 * 1024)) as u64,
        };
        // The request reached eMAG: whatever it did stands.
        (e, true)
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(delivery_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed exchange, and whether the request may have reached eMAG (anything but a
/// refused connection).
fn delivery_error(e: reqwest::Error) -> (EmagError, bool) {
    let error = if e.is_timeout() {
        EmagError::Timeout
    } else {
        EmagError::Transport(without_url(&e))
    };
    (error, !e.is_connect())
}

fn to_filter<T: Serialize>(filter: &T) -> Value {
    serde_json::to_value(filter).unwrap_or_else(|_| json!({}))
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn backoff(options: &ClientOptions, attempt: u32) -> Duration {
    let raw = options
        .backoff_base
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(options.backoff_max);
    raw.mul_f64(rand::random_range(0.5..=1.0))
}

/// reqwest errors name the URL; ours never carry credentials, but keep logs short.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "");
    }
    s
}

/// `product_offer/read`, `offer_stock/123` → `product_offer/read`, `offer_stock`.
fn route_label(route: &str) -> String {
    let parts: Vec<&str> = route
        .split('/')
        .filter(|p| !p.is_empty() && !p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    parts.join("/")
}
