//! The apalis 1.0 defects of docs/stack-notes.md §5, each shown not to reach magflow's users.

use std::time::Duration;

use jobs::{
    JobKind,
    runs::{self, NewRun},
    task::RunTask,
};
use serde_json::json;
use tests::{Backend, TestApp};

both!(poison_payload_fails_its_run_not_the_worker, poison_payload);
both!(duplicate_delivery_runs_once, duplicate_delivery);
both!(idle_worker_picks_up_promptly, idle_pickup);

/// §5.6: a payload that does not decode must not kill the worker.
async fn poison_payload(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let queue = &app.ctx.queue;
    // Garbage, a payload from a "future" version naming a real run, and a non-object.
    let victim = app
        .start_run(json!({ "kind": "ping", "params": { "steps": 1, "step_ms": 0 } }))
        .await;
    app.wait_status(victim, &["succeeded"], Duration::from_secs(20))
        .await;
    let new = NewRun {
        kind: JobKind::Ping,
        params: json!({ "steps": 1 }),
        account: None,
        max_attempts: 3,
        parent_id: None,
        lock_key: None,
    };
    let stranded = runs::insert(&app.ctx.db, new).await.expect("insert run").id;
    queue
        .push_raw(JobKind::Ping, json!({ "garbage": true }))
        .await
        .expect("push");
    queue
        .push_raw(
            JobKind::Ping,
            json!({ "v": 99, "run_id": stranded.to_string() }),
        )
        .await
        .expect("push");
    queue
        .push_raw(JobKind::Ping, json!("just a string"))
        .await
        .expect("push");

    let run = app
        .wait_status(stranded, &["failed"], Duration::from_secs(20))
        .await;
    assert_eq!(run["error"]["category"], "bad_payload");
    // The worker is still alive and takes new work.
    let after = app.start_ping(json!({ "steps": 2 })).await;
    app.wait_status(after, &["succeeded"], Duration::from_secs(20))
        .await;
    app.shutdown().await;
}

/// At-least-once delivery (orphan recovery, a re-push) must still run a run once.
async fn duplicate_delivery(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.start_ping(json!({ "steps": 6, "step_ms": 100 })).await;
    // Two more tasks for the same run, as if the queue delivered it three times.
    for _ in 0..2 {
        app.ctx
            .queue
            .push(JobKind::Ping, RunTask::new(id), Duration::ZERO)
            .await
            .expect("push duplicate");
    }
    let run = app
        .wait_status(
            id,
            &["succeeded", "failed", "dead"],
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["attempt"], 1);
    assert_eq!(run["progress"]["processed"], 6);
    let events = app.events(id).await;
    assert_eq!(
        events.iter().filter(|e| e.contains("started on")).count(),
        1,
        "{events:#?}"
    );
    app.shutdown().await;
}

/// §5.1: an idle worker must notice new work when it is announced, not only on its
/// heartbeat. The deadline is far below the 21–25 s the defect produced.
async fn idle_pickup(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Let the worker go idle: one run through, then an empty queue for a while.
    let first = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(first, &["succeeded"], Duration::from_secs(20))
        .await;
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < quiet_until {
        assert_eq!(app.run(first).await["status"], "succeeded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let id = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(id, &["succeeded"], Duration::from_secs(8))
        .await;
    app.shutdown().await;
}

/// §5.10: apalis-redis' fetch moves every due scheduled task in one Lua call, which fails
/// past about 8,000 and kills the worker at each restart. 9,000 due tasks pushed past
/// magflow's own push (which puts tasks due now straight on the active list) must not
/// stop the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_backlog_beyond_luas_unpack_limit_does_not_stop_the_queue() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        tests::Options {
            worker: false,
            ..tests::Options::default()
        },
    )
    .await;
    let new = NewRun {
        kind: JobKind::Ping,
        params: json!({ "steps": 1, "step_ms": 0 }),
        account: None,
        max_attempts: 3,
        parent_id: None,
        lock_key: None,
    };
    let run = runs::insert(&app.ctx.db, new).await.expect("insert run");
    let mut storage = app.ctx.queue.redis_storage(JobKind::Ping).expect("redis");
    let task = serde_json::to_value(RunTask::new(run.id)).expect("task");
    apalis::prelude::TaskSink::push(&mut storage, task)
        .await
        .expect("push");
    // Tasks of runs that do not exist: each is dropped once fetched.
    for _ in 0..9_000 {
        let task = serde_json::to_value(RunTask::new(uuid::Uuid::new_v4())).expect("task");
        apalis::prelude::TaskSink::push(&mut storage, task)
            .await
            .expect("push");
    }
    let worker = tests::WorkerHandle::start(app.ctx.clone());
    let done = app
        .wait_status(run.id, &["succeeded"], Duration::from_secs(90))
        .await;
    assert_eq!(done["attempt"], 1, "{done}");
    worker.shutdown().await.expect("worker stops");
    app.shutdown().await;
}
