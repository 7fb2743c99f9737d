//! The load generator: clients of four kinds, each looping until the phase's deadline.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

use super::{LoadBench, Shared, lock};

/// How long a stream client stays connected before it reconnects.
const STREAM_HOLD: Duration = Duration::from_secs(5);

/// What the clients saw in one phase: latencies (ms) per endpoint, and errors.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) samples: BTreeMap<&'static str, Vec<f64>>,
    pub(super) stream_messages: u64,
    pub(super) errors: Vec<String>,
}

/// Every client for `seconds`; latencies sorted.
pub(super) async fn phase(
    args: &LoadBench,
    base: &str,
    key: &str,
    followed: &Shared<Vec<Uuid>>,
    seconds: u64,
) -> Tally {
    let tally: Shared<Tally> = Arc::default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..args.clients {
        let c = Client {
            http: http.clone(),
            base: base.to_owned(),
            key: key.to_owned(),
            followed: followed.clone(),
            tally: tally.clone(),
            deadline,
        };
        tasks.push(tokio::spawn(async move {
            match i % 10 {
                0..=3 => c.status().await,
                4..=7 => c.runs().await,
                8 => c.sse().await,
                _ => c.websocket().await,
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut tally = std::mem::take(&mut *lock(&tally));
    for samples in tally.samples.values_mut() {
        samples.sort_by(f64::total_cmp);
    }
    tally
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    followed: Shared<Vec<Uuid>>,
    tally: Shared<Tally>,
    deadline: Instant,
}

impl Client {
    fn sample(&self, endpoint: &'static str, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        lock(&self.tally)
            .samples
            .entry(endpoint)
            .or_default()
            .push(ms);
    }

    fn error(&self, what: String) {
        lock(&self.tally).errors.push(what);
    }

    fn pick(&self) -> Uuid {
        let followed = lock(&self.followed);
        followed[rand::random_range(0..followed.len())]
    }

    /// A GET with the key; a non-2xx answer is an error.
    async fn send(&self, path: &str) -> Result<reqwest::Response, String> {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(r),
            Ok(r) => Err(format!("{path}: HTTP {}", r.status())),
            Err(e) => Err(format!("{path}: {e}")),
        }
    }

    async fn get(&self, endpoint: &'static str, path: &str) {
        let started = Instant::now();
        match self.send(path).await {
            Ok(r) => match r.bytes().await {
                Ok(_) => self.sample(endpoint, started),
                Err(e) => self.error(format!("{path}: {e}")),
            },
            Err(e) => self.error(e),
        }
    }

    async fn status(self) {
        while Instant::now() < self.deadline {
            self.get("GET /api/v1/status", "/api/v1/status").await;
        }
    }

    async fn runs(self) {
        let mut n = 0u64;
        while Instant::now() < self.deadline {
            n += 1;
            if n.is_multiple_of(2) {
                self.get("GET /api/v1/runs", "/api/v1/runs?limit=20").await;
            } else {
                let id = self.pick();
                self.get("GET /api/v1/runs/{id}", &format!("/api/v1/runs/{id}"))
                    .await;
            }
        }
    }

    /// Follows a run's SSE for a few seconds at a time.
    async fn sse(self) {
        while Instant::now() < self.deadline {
            let id = self.pick();
            let path = format!("/api/v1/runs/{id}/events");
            let started = Instant::now();
            let response = match self.send(&path).await {
                Ok(r) => r,
                Err(e) => {
                    self.error(e);
                    continue;
                }
            };
            let until = (Instant::now() + STREAM_HOLD).min(self.deadline);
            let mut body = response.bytes_stream();
            let mut first = true;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, body.next()).await {
                    Err(_) | Ok(None) => break,
                    Ok(Some(Ok(chunk))) => {
                        if first {
                            self.sample("SSE /api/v1/runs/{id}/events", started);
                            first = false;
                        }
                        let events = chunk.windows(2).filter(|w| w == b"\n\n").count();
                        lock(&self.tally).stream_messages += events as u64;
                    }
                    Ok(Some(Err(e))) => {
                        self.error(format!("{path}: stream broke: {e}"));
                        break;
                    }
                }
            }
        }
    }

    /// Holds the WebSocket stream for a few seconds at a time.
    async fn websocket(self) {
        let url = format!("{}/api/v1/stream", self.base.replacen("http", "ws", 1));
        while Instant::now() < self.deadline {
            let Ok(mut request) = url.as_str().into_client_request() else {
                self.error(format!("{url}: bad request"));
                return;
            };
            if let Ok(value) = format!("Bearer {}", self.key).parse() {
                request.headers_mut().insert("authorization", value);
            }
            let started = Instant::now();
            let mut ws = match tokio_tungstenite::connect_async(request).await {
                Ok((ws, _)) => ws,
                Err(e) => {
                    self.error(format!("/api/v1/stream: {e}"));
                    continue;
                }
            };
            let until = (Instant::now() + STREAM_HOLD).min(self.deadline);
            let mut first = true;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, ws.next()).await {
                    Err(_) => break,
                    Ok(None) => {
                        self.error("/api/v1/stream: closed by the server".into());
                        break;
                    }
                    Ok(Some(Ok(_))) => {
                        if first {
                            self.sample("WS /api/v1/stream", started);
                            first = false;
                        }
                        lock(&self.tally).stream_messages += 1;
                    }
                    Ok(Some(Err(e))) => {
                        self.error(format!("/api/v1/stream: {e}"));
                        break;
                    }
                }
            }
            let _ = ws.close(None).await;
        }
    }
}
