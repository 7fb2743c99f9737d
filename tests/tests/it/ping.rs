//! A ping run end to end: enqueue → progress seen via GET, SSE and WebSocket → succeeded.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tests::{Backend, TestApp};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

both!(end_to_end, ping_end_to_end);
both!(metrics_after_a_run, metrics_after_a_run);

async fn ping_end_to_end(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    // WebSocket first, so it sees the run from the start.
    let ws_url = format!(
        "{}/api/v1/stream",
        app.client.base.replace("http://", "ws://")
    );
    let mut request = ws_url.into_client_request().expect("ws request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.viewer).parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    ws.send(Message::Text(
        json!({ "kinds": ["ping"] }).to_string().into(),
    ))
    .await
    .expect("send filter");

    let id = app.start_ping(json!({ "steps": 12, "step_ms": 150 })).await;

    // GET shows the counters moving before the run ends.
    let mid = app
        .wait_run(id, Duration::from_secs(20), |r| {
            let p = r["progress"]["processed"].as_i64().unwrap_or(0);
            (1..12).contains(&p) && r["status"] == "running"
        })
        .await;
    assert_eq!(mid["progress"]["total"], 12);
    assert_eq!(mid["attempt"], 1);

    // SSE: progress events with rising counters, log lines, and an end event.
    let (status, events) = app
        .client
        .sse(
            &format!("/api/v1/runs/{id}/events"),
            &app.viewer,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(status, 200);
    let progress: Vec<i64> = events
        .iter()
        .filter(|(k, _)| k == "progress")
        .map(|(_, v)| v["run"]["progress"]["processed"].as_i64().unwrap_or(-1))
        .collect();
    assert!(progress.len() >= 2, "several progress events: {events:?}");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "counters never go back: {progress:?}"
    );
    let (last_kind, last) = events.last().expect("events");
    assert_eq!(last_kind, "end");
    assert_eq!(last["run"]["status"], "succeeded");
    assert_eq!(last["run"]["progress"]["processed"], 12);
    assert!(events.iter().any(|(k, v)| {
        k == "log"
            && v["event"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("attempt 1 of")
    }));

    let done = app.run(id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["progress"]["percent"], 100.0);
    assert!(done["progress"]["throughput"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(done["finished_at"].is_string());

    // The WebSocket saw this run in progress and at its end.
    let mut seen_running = false;
    let mut seen_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(seen_running && seen_done) && tokio::time::Instant::now() < deadline {
        let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        else {
            break;
        };
        let msg: serde_json::Value = serde_json::from_str(&text).expect("json message");
        if msg["run"]["id"] == id.to_string() {
            seen_running |= msg["run"]["status"] == "running";
            seen_done |= msg["run"]["status"] == "succeeded";
        }
    }
    assert!(
        seen_running && seen_done,
        "websocket saw running={seen_running} succeeded={seen_done}"
    );
    app.shutdown().await;
}

async fn metrics_after_a_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(id, &["succeeded"], Duration::from_secs(20))
        .await;
    let (status, text) = app.client.get_text("/metrics", None).await;
    assert_eq!(status, 200);
    for needle in [
        "magflow_http_requests_total{route=\"create_run\",method=\"POST\",status=\"202\"}",
        "magflow_http_request_duration_seconds_bucket{route=\"get_run\"",
        "magflow_runs_finished_total{kind=\"ping\",outcome=\"succeeded\",error_category=\"none\"}",
        "magflow_run_duration_seconds_bucket{kind=\"ping\"",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}");
    }
    app.shutdown().await;
}
