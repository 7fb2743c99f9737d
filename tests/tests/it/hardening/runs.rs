//! Runs that can never get stuck or loop: a queued run whose task was lost starts within
//! two lease periods; a run that kills its workers ends `dead` (`worker_lost`) after its
//! allowance of attempts instead of killing the next worker.

use std::time::Duration;

use entity::job_run;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::{Backend, Options, TestApp, WorkerHandle};

fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .expect("redis-cli (installed with redis-server)");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_task_was_lost_starts_within_two_leases() {
    let app = TestApp::spawn_with(Backend::Redis, Options::no_worker()).await;
    let id = app.start_ping(json!({})).await;
    let run = job_run::Entity::find_by_id(id)
        .one(&app.ctx.db)
        .await
        .expect("read")
        .expect("run");
    let task = run.queue_job_id.clone().expect("a task was pushed");
    // The task disappears from Redis (a restart without persistence, a hand-made
    // clean-up) after the run's first attempt ended with a retry.
    let url = app.config.queue_url.expose().to_owned();
    let queue = format!("{}.ping", app.config.queue_prefix);
    for (cmd, key) in [("LREM", "active"), ("ZREM", "scheduled"), ("HDEL", "data")] {
        let key = format!("{queue}:{key}");
        let args: Vec<&str> = if cmd == "LREM" {
            vec![cmd, &key, "0", &task]
        } else {
            vec![cmd, &key, &task]
        };
        redis_cli(&url, &args);
    }
    assert_eq!(
        redis_cli(&url, &["HEXISTS", &format!("{queue}:data"), &task]),
        "0"
    );
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Attempt, Expr::value(1))
        .col_expr(job_run::Column::ErrorCategory, Expr::value("transient"))
        .col_expr(
            job_run::Column::ErrorMessage,
            Expr::value("failed; retried"),
        )
        .col_expr(
            job_run::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(job_run::Column::Id.eq(id))
        .exec(&app.ctx.db)
        .await
        .expect("the state after a failed attempt");

    let worker = WorkerHandle::start(app.ctx.clone());
    let started = tokio::time::Instant::now();
    let lease = app.config.lease();
    // Two leases since the run was last touched, plus one reaper pass (half a lease) and
    // the run itself.
    let done = app
        .wait_status(id, &["succeeded"], lease * 3 + Duration::from_secs(5))
        .await;
    assert_eq!(done["attempt"], 2, "{done}");
    assert!(started.elapsed() <= lease * 3 + Duration::from_secs(5));
    worker.shutdown().await.expect("worker stops");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_kills_its_workers_goes_dead() {
    let _turn = tests::drill_turn().await;
    let app = TestApp::spawn_with(Backend::Redis, Options::no_worker()).await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_TEST_FAULTS".into(), "true".into()));
    let mut workers: Vec<_> = (0..3)
        .map(|_| tests::process::spawn(&["worker"], &env))
        .collect();
    let id = app
        .start_run(
            json!({ "kind": "ping", "params": { "steps": 3, "abort_at": 1 }, "max_attempts": 2 }),
        )
        .await;
    let run = app
        .wait_status(
            id,
            &["dead", "failed", "succeeded"],
            Duration::from_secs(90),
        )
        .await;
    assert_eq!(run["status"], "dead", "{run:#}");
    assert_eq!(run["error"]["category"], "worker_lost", "{run:#}");
    assert_eq!(run["attempt"], 2, "{run:#}");
    let alive = workers
        .iter_mut()
        .map(|w| w.try_wait())
        .filter(|exited| matches!(exited, Ok(None)))
        .count();
    assert_eq!(alive, 1, "two attempts, two workers lost, one left");
    for mut w in workers {
        let _ = tests::process::stop(&mut w).await;
    }
    // Without the test switch the parameter aborts nothing.
    let worker = WorkerHandle::start(app.ctx.clone());
    let safe = app
        .start_run(json!({ "kind": "ping", "params": { "steps": 3, "abort_at": 1 } }))
        .await;
    let safe = app
        .wait_status(safe, &["failed", "dead"], Duration::from_secs(60))
        .await;
    assert_eq!(safe["error"]["category"], "invalid_input", "{safe:#}");
    worker.shutdown().await.expect("worker stops");
    app.shutdown().await;
}
