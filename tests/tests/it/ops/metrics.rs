//! `/metrics` carries every series the alert rules (`deploy/prometheus/alerts.yml`) and
//! the dashboard (`deploy/grafana/magflow.json`) use, after a sync against the simulator.
//! With `MAGFLOW_METRICS_SAMPLE` set, the scrape is written there for `promtool check
//! metrics` (`.ci/run` does that).

use std::{collections::BTreeSet, time::Duration};

use jobs::emag::sim::{SimConfig, Simulator};
use serde_json::json;
use tests::TestApp;

/// Every `magflow_…` name in a file.
fn names_in(path: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("magflow_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_cover_the_alerts_and_the_dashboard() {
    let deploy = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy");
    let mut wanted = names_in(&format!("{deploy}/prometheus/alerts.yml"));
    wanted.extend(names_in(&format!("{deploy}/grafana/magflow.json")));
    assert!(wanted.len() >= 10, "{wanted:?}");

    let sim = Simulator::start(
        SimConfig {
            offers: 40,
            orders: 40,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    let app = TestApp::spawn(tests::Backend::Sqlite).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let id = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    app.wait_status(id, &["succeeded"], Duration::from_secs(60))
        .await;

    // Gauges from the database are refreshed every 5 s by the API.
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (status, text) = app.client.get_text("/metrics", None).await;
        assert_eq!(status, 200);
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|n| !text.contains(n.as_str()))
            .collect();
        if missing.is_empty() {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "/metrics lacks {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for needle in [
        "magflow_emag_requests_total{route=\"order/read\",account=\"main\",bucket=\"orders\",status=\"200\"}",
        "magflow_emag_account_degraded{account=\"main\"} 0",
        "magflow_emag_rate_limit_per_second{bucket=\"orders\"} 12",
        "magflow_queue_paused{kind=\"sync\"} 0",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}");
    }
    if let Ok(path) = std::env::var("MAGFLOW_METRICS_SAMPLE") {
        std::fs::write(&path, &text).expect("write the sample");
    }
    app.shutdown().await;
}
