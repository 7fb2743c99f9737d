//! The console's live stream for a run's page starts with the run's state: a run that
//! ended while its page was on the way is shown ended, not "running" for good.

use std::time::Duration;

use jobs::api_keys::Role;
use serde_json::{Value, json};
use tests::{Backend, TestApp};
use tokio::time::Instant;

use super::{session_cookie, user};

both!(
    a_run_page_stream_starts_with_the_run,
    a_run_page_stream_starts_with_the_run
);

async fn a_run_page_stream_starts_with_the_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    user(&app, "vera", Role::Viewer).await;
    let session = session_cookie(&app, "vera").await;
    // Every change is broadcast once: the run's end is awaited on a stream opened before
    // it started, so that nothing more is sent about it after.
    let mut all = Live::open(&app, &session, "").await;
    let run = app.start_ping(json!({})).await;
    loop {
        let (_, data) = all.next().await;
        if data["run"]["id"] == run.to_string() && data["run"]["status"] == "succeeded" {
            break;
        }
    }

    let mut page = Live::open(&app, &session, &format!("?run={run}")).await;
    let (event, first) = page.next().await;
    assert_eq!(event, "progress");
    assert_eq!(first["run"]["id"], run.to_string(), "{first}");
    assert_eq!(first["run"]["status"], "succeeded", "{first}");
    app.shutdown().await;
}

/// A `/live` stream, read message by message.
struct Live {
    resp: reqwest::Response,
    text: String,
}

impl Live {
    async fn open(app: &TestApp, session: &str, query: &str) -> Live {
        let resp = reqwest::Client::new()
            .get(format!("{}/live{query}", app.client.base))
            .header("cookie", format!("mf_session={session}"))
            .send()
            .await
            .expect("GET /live");
        assert_eq!(resp.status(), 200);
        Live {
            resp,
            text: String::new(),
        }
    }

    /// The next message's event and data, within 10 s (the keep-alive comes every 15).
    async fn next(&mut self) -> (String, Value) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some((message, rest)) = self.text.split_once("\n\n") {
                let field = |name: &str| {
                    message
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .unwrap_or_default()
                        .to_owned()
                };
                let (event, data) = (field("event: "), field("data: "));
                self.text = rest.to_owned();
                if data.is_empty() {
                    continue;
                }
                return (event, serde_json::from_str(&data).expect("JSON data"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!("no message in time ({other:?}); got {:?}", self.text),
            }
        }
    }
}
