//! Wake-ups: a worker process whose slow poll would take a minute starts announced work
//! at once, on Redis and on SQLite; work nobody announced is still found by the slow
//! poll; a subscriber that loses its connection subscribes again and catches up.

use std::time::Duration;

use jobs::{
    JobKind,
    runs::{self, NewRun},
    task::RunTask,
    wake::Wakeups,
};
use serde_json::json;
use tests::{Backend, Options, TestApp, process, redis_server::RedisServer};

both!(announced_work_starts_without_polling, announced_work);

fn ping() -> NewRun {
    NewRun {
        kind: JobKind::Ping,
        params: json!({ "steps": 1, "step_ms": 0 }),
        account: None,
        max_attempts: 3,
        parent_id: None,
        lock_key: None,
    }
}

/// A worker process that would poll once a minute starts each of several runs, pushed by
/// this process one after another, well within that minute.
async fn announced_work(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_POLL_INTERVAL_MS".into(), "60000".into()));
    let mut worker = process::spawn(&["worker"], &env);
    // Its first poll finds this one, whether or not its listener is up yet.
    let first = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(first, &["succeeded"], Duration::from_secs(60))
        .await;
    for _ in 0..5 {
        let id = app.start_ping(json!({ "steps": 1 })).await;
        let run = app
            .wait_status(id, &["succeeded"], Duration::from_secs(20))
            .await;
        assert_eq!(run["attempt"], 1, "{run}");
    }
    process::stop(&mut worker).await;
    app.shutdown().await;
}

/// A task pushed without its announcement (as if the message were lost) still starts,
/// on the slow poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unannounced_work_is_found_by_the_slow_poll() {
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_POLL_INTERVAL_MS".into(), "1000".into()));
    let mut worker = process::spawn(&["worker"], &env);
    let first = app.start_ping(json!({ "steps": 1 })).await;
    app.wait_status(first, &["succeeded"], Duration::from_secs(60))
        .await;

    let run = runs::insert(&app.ctx.db, ping()).await.expect("insert");
    let task = serde_json::to_value(RunTask::new(run.id)).expect("task");
    // Straight into apalis' storage: no announcement goes out.
    let mut storage = app.ctx.queue.redis_storage(JobKind::Ping).expect("redis");
    apalis::prelude::TaskSink::push(&mut storage, task)
        .await
        .expect("push");
    let done = app
        .wait_status(run.id, &["succeeded"], Duration::from_secs(20))
        .await;
    assert_eq!(done["attempt"], 1, "{done}");
    process::stop(&mut worker).await;
    app.shutdown().await;
}

/// The subscriber's connection is killed: it subscribes again, fires every kind's signal
/// (anything announced meanwhile was missed), and hears announcements again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_subscription_comes_back_and_catches_up() {
    // A Redis of its own: killing every subscriber touches no other test.
    let redis = RedisServer::start();
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            redis_url: Some(redis.url()),
            ..Options::default()
        },
    )
    .await;
    let wakeups = Wakeups::listen(app.ctx.queue.wake_source());
    let pings = wakeups.signal(JobKind::Ping);
    let export = wakeups.signal(JobKind::Export);
    // Subscribed: it fires everything once, then each push fires its kind.
    wait_for(|| export.fired() >= 1, "the first subscription").await;
    let before = pings.fired();
    let run = runs::insert(&app.ctx.db, ping()).await.expect("insert");
    runs::dispatch(&app.ctx.db, &app.ctx.queue, run, Duration::ZERO)
        .await
        .expect("dispatch");
    wait_for(|| pings.fired() > before, "an announced push").await;

    let exports_before = export.fired();
    let client = redis::Client::open(redis.url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .expect("client kill");
    assert_eq!(killed, 1, "one subscriber");
    wait_for(
        || export.fired() > exports_before,
        "the catch-up after a reconnect",
    )
    .await;
    let subscribers: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(jobs::wake::channel(app.ctx.queue.prefix()))
        .query_async(&mut conn)
        .await
        .expect("numsub");
    assert_eq!(subscribers[0].1, 1, "subscribed again");
    drop(wakeups);
    app.shutdown().await;
}

async fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "no {what} in 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
