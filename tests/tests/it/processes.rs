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

/// A worker process killed with -9 while it claims and ends runs in batches (64 at once,
/// a thousand runs queued): every run still succeeds, and none has two successful ends.
/// Runs it was in the middle of are taken over once their lease runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_amid_batches_loses_no_run_and_ends_none_twice() {
    use entity::run_event::{self, AttemptOutcome};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    const RUNS: u64 = 1000;
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            lease_secs: 3,
            ..Options::default()
        },
    )
    .await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_WORKER_CONCURRENCY".into(), "64".into()));
    for _ in 0..RUNS {
        let new = jobs::runs::NewRun {
            kind: jobs::JobKind::Ping,
            params: json!({ "steps": 1, "step_ms": 20 }),
            account: None,
            max_attempts: 3,
            parent_id: None,
            lock_key: None,
        };
        jobs::runs::enqueue(&app.ctx.db, &app.ctx.queue, new)
            .await
            .expect("enqueue");
    }
    let succeeded = || async {
        entity::job_run::Entity::find()
            .filter(entity::job_run::Column::Status.eq(entity::job_run::RunStatus::Succeeded))
            .count(&app.ctx.db)
            .await
            .expect("count")
    };
    let mut doomed = process::spawn(&["worker"], &env);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while succeeded().await < RUNS / 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first worker stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill().await.expect("kill -9");
    let at_kill = succeeded().await;
    assert!(at_kill < RUNS, "killed before the end ({at_kill} done)");

    let mut survivor = process::spawn(&["worker"], &env);
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while succeeded().await < RUNS {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {RUNS} succeeded",
            succeeded().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ends = run_event::Entity::find()
        .filter(run_event::Column::Outcome.eq(AttemptOutcome::Succeeded))
        .all(&app.ctx.db)
        .await
        .expect("ends");
    let mut per_run = std::collections::HashMap::new();
    for end in &ends {
        *per_run.entry(end.run_id).or_insert(0) += 1;
    }
    assert_eq!(
        per_run.len() as u64,
        RUNS,
        "every run has its successful end"
    );
    let twice: Vec<_> = per_run.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "runs ended twice: {twice:?}");

    process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}
