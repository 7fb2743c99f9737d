//! A small HTTP client for the API: JSON in, status and JSON out, plus SSE and WebSocket.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

/// A downloaded file.
#[derive(Debug)]
pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub bytes: Vec<u8>,
}

impl Download {
    /// The bytes of a 200 answer that is an attachment of `content_type` named `*.ext`.
    pub fn attachment(self, content_type: &str, ext: &str) -> Vec<u8> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.bytes));
        assert!(
            self.content_type.starts_with(content_type),
            "content type {}",
            self.content_type
        );
        assert!(
            self.disposition.starts_with("attachment; filename=\"")
                && self.disposition.ends_with(&format!(".{ext}\"")),
            "disposition {}",
            self.disposition
        );
        self.bytes
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: String) -> Client {
        Client::with_timeout(base, Duration::from_secs(30))
    }

    /// For requests that take a debug build long on a busy machine (bodies of tens of MiB).
    pub fn with_timeout(base: String, timeout: Duration) -> Client {
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("http client");
        Client { base, http }
    }

    fn with_key(req: reqwest::RequestBuilder, key: Option<&str>) -> reqwest::RequestBuilder {
        match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    async fn finish(req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        Self::finish(Self::with_key(
            self.http.get(format!("{}{path}", self.base)),
            key,
        ))
        .await
    }

    pub async fn get_text(&self, path: &str, key: Option<&str>) -> (u16, String) {
        let resp = Self::with_key(self.http.get(format!("{}{path}", self.base)), key)
            .send()
            .await
            .expect("sent");
        (resp.status().as_u16(), resp.text().await.expect("body"))
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
        Self::finish(Self::with_key(
            self.http.post(format!("{}{path}", self.base)).json(body),
            key,
        ))
        .await
    }

    pub async fn put(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
        Self::finish(Self::with_key(
            self.http.put(format!("{}{path}", self.base)).json(body),
            key,
        ))
        .await
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        Self::finish(Self::with_key(
            self.http.delete(format!("{}{path}", self.base)),
            key,
        ))
        .await
    }

    /// GET a file: status, Content-Type, Content-Disposition and the bytes.
    pub async fn download(&self, path: &str, key: &str) -> Download {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("sent");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        Download {
            status: resp.status().as_u16(),
            content_type: header("content-type"),
            disposition: header("content-disposition"),
            bytes: resp.bytes().await.expect("body").to_vec(),
        }
    }

    /// POST with a raw body and content type (for malformed-input tests).
    pub async fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> (u16, Value) {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_owned());
        Self::finish(Self::with_key(req, key)).await
    }

    /// Reads Server-Sent Events from `path` until the server closes the stream (or the
    /// deadline passes), returning `(event type, data)` pairs.
    pub async fn sse(
        &self,
        path: &str,
        key: &str,
        deadline: Duration,
    ) -> (u16, Vec<(String, Value)>) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .timeout(deadline)
            .send()
            .await
            .expect("sse request");
        let status = resp.status().as_u16();
        if status != 200 {
            return (status, Vec::new());
        }
        let mut events = Vec::new();
        let mut buf = String::new();
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { break };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let mut kind = String::from("message");
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !data.is_empty() {
                    events.push((
                        kind,
                        serde_json::from_str(&data).unwrap_or(Value::String(data)),
                    ));
                }
            }
        }
        (status, events)
    }
}

/// Sends a chunked POST of `body_len` blanks over a raw HTTP/1.1 socket (no
/// Content-Length) and returns the answer's status code. Writing stops quietly when the
/// server answers and closes early, as it may for a refused body.
pub async fn chunked_post(base: &str, path: &str, key: Option<&str>, body_len: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let auth = key.map_or_else(String::new, |k| format!("Authorization: Bearer {k}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b' '; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        let sent = sock
            .write_all(format!("{n:x}\r\n").as_bytes())
            .await
            .and(sock.write_all(&chunk[..n]).await)
            .and(sock.write_all(b"\r\n").await);
        if sent.is_err() {
            break; // the server answered and closed early
        }
        left -= n;
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = sock.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}
