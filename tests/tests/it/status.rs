//! `/api/v1/status`: counts, last syncs, run success rates and a health score that
//! drops, with its reasons, when an account's syncs fail.

use std::time::Duration;

use jobs::emag::sim::{Faults, LimitMode, SimConfig, Simulator};
use serde_json::json;
use tests::{Backend, TestApp};

both!(status_reports_each_account, status_reports_each_account);

async fn status_reports_each_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let config = SimConfig {
        offers: 150,
        orders: 120,
        // No 429s from timing jitter on a loaded machine: this test is about the report.
        limits: LimitMode::Off,
        faults: Faults::default(),
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator");
    app.add_account("main", &sim, "main", "main-secret").await;
    app.add_account("broken", &sim, "fbe", "wrong-password")
        .await;

    let ok = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    let bad = app
        .start_run(
            json!({ "kind": "sync", "params": { "accounts": ["broken"], "resource": "offers" } }),
        )
        .await;
    for id in [ok, bad] {
        app.wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    }
    // The cache lives 2 s: poll until the report shows the finished runs.
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let report = loop {
        let (status, report) = app.client.get("/api/v1/status", Some(&app.viewer)).await;
        assert_eq!(status, 200, "{report}");
        if report["accounts"][1]["runs_24h"]["finished"] == 2 {
            break report;
        }
        assert!(tokio::time::Instant::now() < until, "{report:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let accounts = report["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 2);
    let (broken, main) = (&accounts[0], &accounts[1]);
    assert_eq!(main["name"], "main");
    assert_eq!(main["offers"]["total"], 150, "{main:#}");
    assert_eq!(main["orders"]["total"], 120, "{main:#}");
    let by_status: i64 = main["offers"]["by_status"]
        .as_object()
        .expect("by status")
        .values()
        .filter_map(|v| v.as_i64())
        .sum();
    assert_eq!(by_status, 150);
    assert!(
        main["last_sync"]["offers"]["age_seconds"]
            .as_i64()
            .unwrap_or(-1)
            >= 0
    );
    assert!(main["last_sync"]["orders"]["run_id"].is_string());
    assert_eq!(main["runs_24h"]["success_rate"], 1.0);
    assert!(main["emag"]["requests"].as_i64().unwrap_or(0) > 0);
    assert_eq!(main["health"]["level"], "healthy", "{main:#}");
    assert_eq!(main["health"]["score"], 100, "{main:#}");

    assert_eq!(broken["runs_24h"]["success_rate"], 0.0, "{broken:#}");
    let components: Vec<&str> = broken["health"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["component"].as_str())
        .collect();
    assert!(components.contains(&"sync_failures"), "{broken:#}");
    assert!(components.contains(&"stale"), "{broken:#}");
    assert!(
        broken["health"]["score"].as_i64().unwrap_or(100) <= 60,
        "{broken:#}"
    );
    assert_eq!(
        broken["recent_runs"][0]["error_category"],
        "bad_credentials"
    );

    let (status, one) = app
        .client
        .get("/api/v1/status?account=main", Some(&app.viewer))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["accounts"].as_array().map(Vec::len), Some(1));
    let (status, missing) = app
        .client
        .get("/api/v1/status?account=nope", Some(&app.viewer))
        .await;
    assert_eq!(status, 404, "{missing}");
    let (status, _) = app.client.get("/api/v1/status", None).await;
    assert_eq!(status, 401);
    app.shutdown().await;
}

/// Two API processes on one Redis serve the same reports: a report computed by one is
/// what the other answers until it expires, so the pair computes about one report per
/// cache lifetime (2 s), not one each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_processes_share_status_reports() {
    use std::collections::BTreeMap;

    let app = TestApp::spawn(tests::Backend::Redis).await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_BIND".into(), "127.0.0.1:0".into()));
    let mut other = tests::process::spawn_piped(&["api"], &env);
    let other_base = tests::process::read_startup(&mut other).await.base;
    let clients = [app.client.clone(), tests::Client::new(other_base)];

    // generated_at → which of the two processes answered with it.
    let mut seen: BTreeMap<String, [bool; 2]> = BTreeMap::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < until {
        for (i, client) in clients.iter().enumerate() {
            let (status, report) = client.get("/api/v1/status", Some(&app.viewer)).await;
            assert_eq!(status, 200, "{report}");
            let at = report["generated_at"]
                .as_str()
                .expect("generated_at")
                .to_owned();
            seen.entry(at).or_default()[i] = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        (2..=4).contains(&seen.len()),
        "renewed about every 2 s over 5 s: {seen:?}"
    );
    let one_sided = seen.values().filter(|both| !(both[0] && both[1])).count();
    assert!(one_sided <= 1, "each report served by both: {seen:?}");
    tests::process::stop(&mut other).await;
    app.shutdown().await;
}
