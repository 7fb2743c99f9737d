//! Streams never freeze, never skip and cannot be hoarded: a burst of 5,000 log lines in
//! one second reaches an SSE client whole and in order; 2,000 runs released at once by a
//! resumed queue all show on a WebSocket; SSE opens with the newest 200 lines; messages,
//! filters and streams per key are bounded.

use std::{collections::HashSet, time::Duration};

use entity::{job_run, run_event};
use futures::{SinkExt, StreamExt};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use tests::{Backend, Options, TestApp};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use uuid::Uuid;

both!(
    sse_sees_every_line_of_a_burst,
    sse_sees_every_line_of_a_burst
);
both!(
    websocket_sees_every_resumed_run,
    websocket_sees_every_resumed_run
);

/// Reads an SSE stream's `log` lines until `want` arrived or `deadline` passed; `ready`
/// is told when the stream is open (its first event arrived).
async fn sse_logs(
    url: String,
    key: String,
    want: usize,
    deadline: Duration,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
) -> Vec<String> {
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .expect("sse");
    assert_eq!(resp.status().as_u16(), 200);
    let mut ready = ready;
    let mut body = resp.bytes_stream();
    let (mut buf, mut lines) = (String::new(), Vec::new());
    let until = tokio::time::Instant::now() + deadline;
    while lines.len() < want {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(until, body.next()).await else {
            break;
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(tx) = ready.take() {
                let _ = tx.send(());
            }
            let is_log = frame.lines().any(|l| l.trim() == "event: log");
            let data = frame.lines().find_map(|l| l.strip_prefix("data:"));
            if let (true, Some(data)) = (is_log, data) {
                let v: Value = serde_json::from_str(data.trim()).expect("json");
                lines.push(
                    v["event"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    lines
}

async fn sse_sees_every_line_of_a_burst(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    // No worker: the run stays queued and its stream open.
    let id = app.start_ping(json!({})).await;
    let url = format!("{}/api/v1/runs/{id}/events", app.client.base);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let reader = tokio::spawn(sse_logs(
        url.clone(),
        app.viewer.clone(),
        5000,
        Duration::from_secs(90),
        Some(tx),
    ));
    rx.await.expect("the stream opened");
    // 5,000 lines inside one second, all with the same timestamp.
    let at = chrono::Utc::now();
    for chunk in (0..5000).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| run_event::ActiveModel {
            run_id: Set(id),
            at: Set(at),
            level: Set(entity::run_event::Level::Info),
            message: Set(format!("line {i}")),
            ..Default::default()
        });
        run_event::Entity::insert_many(rows)
            .exec(&app.ctx.db)
            .await
            .expect("insert");
    }
    let seen = reader.await.expect("reader");
    let expected: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
    assert_eq!(seen.len(), 5000, "got {} lines", seen.len());
    assert!(seen == expected, "out of order or repeated");

    // A client that opens the stream now starts with the newest 200 lines.
    let first = sse_logs(url, app.viewer.clone(), 200, Duration::from_secs(30), None).await;
    assert_eq!(first, expected[4800..].to_vec());
    app.shutdown().await;
}

async fn ws_connect(
    app: &TestApp,
    key: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let url = format!(
        "{}/api/v1/stream",
        app.client.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().expect("ws request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

async fn websocket_sees_every_resumed_run(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let (s, _) = app
        .client
        .post("/api/v1/queues/ping/pause", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(s, 200);
    let mut ids = HashSet::new();
    for _ in 0..40 {
        let batch = (0..50).map(|_| app.start_ping(json!({})));
        ids.extend(futures::future::join_all(batch).await);
    }
    assert_eq!(ids.len(), 2000);
    // What a worker does with the task of a run of a paused queue: it holds the run
    // without a task, for the resume to dispatch.
    job_run::Entity::update_many()
        .col_expr(
            job_run::Column::QueueJobId,
            Expr::value(Option::<String>::None),
        )
        .filter(job_run::Column::Kind.eq("ping"))
        .exec(&app.ctx.db)
        .await
        .expect("hold");

    let mut ws = ws_connect(&app, &app.viewer).await.expect("websocket");
    ws.send(Message::Text(
        json!({ "kinds": ["ping"] }).to_string().into(),
    ))
    .await
    .expect("filter");
    // The active runs come first (at most 100 of them); then the resume.
    let (s, _) = app
        .client
        .post("/api/v1/queues/ping/resume", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(s, 200);
    let mut seen: HashSet<Uuid> = HashSet::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < ids.len() {
        let Ok(Some(Ok(msg))) = tokio::time::timeout_at(until, ws.next()).await else {
            break;
        };
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).expect("json");
            if let Some(id) = v["run"]["id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                seen.insert(id);
            }
        }
    }
    let missing = ids.difference(&seen).count();
    assert_eq!(missing, 0, "{missing} of 2000 runs never showed");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_filters_and_streams_are_bounded() {
    let app = TestApp::spawn_with(Backend::Sqlite, Options::no_worker()).await;

    // A filter list over 100 entries is refused with an error message.
    let mut ws = ws_connect(&app, &app.viewer).await.expect("websocket");
    let ids: Vec<String> = (0..101).map(|_| Uuid::new_v4().to_string()).collect();
    ws.send(Message::Text(json!({ "run_ids": ids }).to_string().into()))
        .await
        .expect("send");
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let error = loop {
        let msg = tokio::time::timeout_at(until, ws.next())
            .await
            .expect("an answer")
            .expect("open")
            .expect("message");
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).expect("json");
            if v["type"] == "error" {
                break v;
            }
        }
    };
    assert_eq!(error["code"], "bad_filter", "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("100")),
        "{error}"
    );
    // A message over 64 KiB ends the connection.
    let _ = ws.send(Message::Text("x".repeat(70 * 1024).into())).await;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(until, ws.next())
            .await
            .expect("closed in time")
        {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(_)) => {}
        }
    }

    // At most 20 streams per key, SSE and WebSocket together; the next gets 429.
    let id = app.start_ping(json!({})).await;
    let url = format!("{}/api/v1/runs/{id}/events", app.client.base);
    let client = reqwest::Client::new();
    let mut open = Vec::new();
    for _ in 0..19 {
        let resp = client
            .get(&url)
            .bearer_auth(&app.viewer)
            .send()
            .await
            .expect("sse");
        assert_eq!(resp.status().as_u16(), 200);
        open.push(resp);
    }
    let ws = ws_connect(&app, &app.viewer)
        .await
        .expect("the 20th stream");
    let refused = client
        .get(&url)
        .bearer_auth(&app.viewer)
        .send()
        .await
        .expect("sse");
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["code"], "too_many_requests", "{body}");
    match ws_connect(&app, &app.viewer).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429);
        }
        other => panic!("a 21st stream was let in: {:?}", other.map(|_| ())),
    }
    // Another key has its own allowance; a closed stream gives its place back.
    let other = client
        .get(&url)
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("sse");
    assert_eq!(other.status().as_u16(), 200);
    drop(open.pop());
    // The server notices a closed SSE connection at its next write: the keep-alive, at
    // most 10 s later.
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resp = client
            .get(&url)
            .bearer_auth(&app.viewer)
            .send()
            .await
            .expect("sse");
        if resp.status().as_u16() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the place never came back"
        );
        drop(resp);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(ws);
    app.shutdown().await;
}
