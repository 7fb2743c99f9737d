//! Sending one request: the shared rate limit, the retry policy with backoff, a response
//! read up to a cap, and what came back classified into an [`EmagError`].

use std::{sync::atomic::Ordering, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tracing::Instrument;

use super::{ClientOptions, EmagClient};
use crate::{
    emag::{error::EmagError, rate_limit::Bucket, response::classify},
    metrics::{EMAG_DURATION, EMAG_RATE_LIMIT_WAITS, EMAG_REQUESTS},
};

impl EmagClient {
    /// Sends with the rate limit and the retry policy; returns `results`.
    pub async fn call(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Value, EmagError> {
        self.call_as(method, route, body, classify).await
    }

    /// [`Self::call`], with the answer (status, `Retry-After`, body) read by `read`.
    pub(crate) async fn call_as<R>(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        read: impl Fn(StatusCode, Option<Duration>, &[u8]) -> Result<R, EmagError>,
    ) -> Result<R, EmagError> {
        let bucket = Bucket::for_route(route);
        // A write that may have reached eMAG is not sent again blindly (docs/emag.md §3.1):
        // the caller reads back first.
        let write =
            method == Method::PATCH || route.ends_with("/save") || route.contains("/acknowledge");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .send_once(method.clone(), route, body, bucket, &read)
                .await;
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

    async fn send_once<R>(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        bucket: Bucket,
        read: impl Fn(StatusCode, Option<Duration>, &[u8]) -> Result<R, EmagError>,
    ) -> Result<R, (EmagError, bool)> {
        let url = format!("{}/{}", self.base, route.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method, &url)
            .header("Authorization", &self.authorization);
        if let Some(body) = body {
            request = request.json(body);
        }
        // Serialised here, so the wire's thread only writes and reads.
        let request = request
            .build()
            .map_err(|e| (EmagError::Transport(without_url(&e)), false))?;
        let exchange = self
            .clone()
            .exchange(request, bucket, route.to_owned())
            .instrument(tracing::Span::current());
        let reply = match &self.wire {
            Some(wire) => wire.spawn(exchange).await.unwrap_or_else(|_| {
                let e = EmagError::Transport("the eMAG request thread stopped".into());
                // It may have been written before it stopped.
                Err((e, true))
            }),
            None => exchange.await,
        }?;
        read(reply.status, reply.retry_after, &reply.bytes).map_err(|e| (e, false))
    }

    /// Waits for the request's slot in the rate limit, sends it and reads the answer.
    async fn exchange(
        self,
        request: reqwest::Request,
        bucket: Bucket,
        route: String,
    ) -> Result<Reply, (EmagError, bool)> {
        let departure = self
            .limiter
            .acquire(&self.login_key, bucket)
            .await
            .map_err(|e| {
                let e = EmagError::Transport(format!("rate limiter unavailable: {e}"));
                (e, false)
            })?;
        if !departure.waited.is_zero() {
            self.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(EMAG_RATE_LIMIT_WAITS, "account" => self.account.clone(), "bucket" => bucket.as_str())
                .increment(1);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        self.limiter.left(departure);
        let started = std::time::Instant::now();
        let response = self.http.execute(request).await.map_err(delivery_error)?;
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
        metrics::counter!(EMAG_REQUESTS, "route" => route_label(&route), "account" => self.account.clone(), "bucket" => bucket.as_str(), "status" => status.as_u16().to_string()).increment(1);
        metrics::histogram!(EMAG_DURATION, "route" => route_label(&route))
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(
            emag.route = route,
            http.status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "eMAG call"
        );
        Ok(Reply {
            status,
            retry_after,
            bytes,
        })
    }
}

/// An answer as it came, classified by the caller.
struct Reply {
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    bytes: Vec<u8>,
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
    // A query (e.g. the EANs of `documentation/find_by_eans`) is no part of the label.
    let path = route.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && !p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    parts.join("/")
}
