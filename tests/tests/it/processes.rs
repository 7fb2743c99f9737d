//! Real OS processes on one Redis queue and one PostgreSQL database: a second worker
//! process takes jobs too, every job runs exactly once, and a worker killed with -9 loses
//! nothing.

use std::time::Duration;

use serde_json::json;
use tests::{Backend, Options, TestApp, process};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_share_one_queue() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let env = app.process_env();
    let mut a = process::spawn(&["worker"], &env);
    let mut b = process::spawn(&["worker"], &env);

    let mut ids = Vec::new();
    for _ in 0..24 {
        ids.push(app.start_ping(json!({ "steps": 3, "step_ms": 100 })).await);
    }
    let mut workers = std::collections::HashSet::new();
    for id in &ids {
        let run = app
            .wait_status(
                *id,
                &["succeeded", "failed", "dead"],
                Duration::from_secs(60),
            )
            .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempt"], 1, "{run}");
        let events = app.events(*id).await;
        let starts: Vec<&String> = events.iter().filter(|e| e.contains("started on")).collect();
        assert_eq!(starts.len(), 1, "ran exactly once: {events:#?}");
        workers.insert(starts[0].rsplit(' ').next().unwrap_or_default().to_owned());
    }
    assert_eq!(workers.len(), 2, "both processes took jobs: {workers:?}");

    process::terminate(&a);
    process::terminate(&b);
    assert!(
        a.wait().await.expect("wait").success(),
        "worker a exits 0 on SIGTERM"
    );
    assert!(
        b.wait().await.expect("wait").success(),
        "worker b exits 0 on SIGTERM"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_loses_nothing() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            lease_secs: 3,
            ..Options::default()
        },
    )
    .await;
    let env = app.process_env();
    let mut doomed = process::spawn(&["worker"], &env);
    let id = app.start_ping(json!({ "steps": 80, "step_ms": 100 })).await;
    app.wait_run(id, Duration::from_secs(30), |r| {
        r["progress"]["processed"].as_i64().unwrap_or(0) >= 10
    })
    .await;
    doomed.kill().await.expect("kill -9");

    let mut survivor = process::spawn(&["worker"], &env);
    let run = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["progress"]["processed"], 80);
    // The killed attempt counts; the survivor resumed from the checkpoint, not step 1.
    assert_eq!(run["attempt"], 2);
    let events = app.events(id).await;
    assert!(
        events.iter().any(|e| e.contains("stopped responding")),
        "{events:#?}"
    );
    let resumed = events
        .iter()
        .find_map(|e| e.strip_prefix("resuming after step "))
        .expect("resumed");
    assert!(
        resumed.parse::<i64>().unwrap_or(0) >= 10,
        "resumed after step {resumed}"
    );

    process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}
