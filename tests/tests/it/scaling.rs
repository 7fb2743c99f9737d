//! Scale out: worker processes added on one Redis queue and one PostgreSQL database take
//! more runs a second, and every run is still done exactly once.
//!
//! The runs wait (200 ms each, one at a time per process) as a sync waits on eMAG, so one
//! process cannot go faster by itself and the figure can only grow if the processes share
//! the queue without queueing behind each other. Long enough that the other tests running
//! on the same two cores delay a run by a small part of it (with 40 ms runs, 8 processes
//! measured 2.7 times one under CI's load, 5 times when alone). Where the cores become the limit is
//! measured by `magflow bench queue` (docs/scaling.md), not here.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use entity::{
    job_run::{self, RunStatus},
    run_event::{self, AttemptOutcome},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{Backend, Options, TestApp, process};
use tokio::process::Child;
use uuid::Uuid;

const STEP_MS: u64 = 200;
const RUNS_PER_PROCESS: usize = 15;

async fn enqueue(app: &TestApp, n: usize, step_ms: u64) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let new = jobs::runs::NewRun {
            kind: jobs::JobKind::Ping,
            params: json!({ "steps": 1, "step_ms": step_ms }),
            account: None,
            max_attempts: 3,
            parent_id: None,
            lock_key: None,
        };
        let run = jobs::runs::enqueue(&app.ctx.db, &app.ctx.queue, new)
            .await
            .expect("enqueue");
        ids.push(run.id);
    }
    ids
}

/// The runs of `ids`, once every one has ended.
async fn ended(app: &TestApp, ids: &[Uuid]) -> Vec<job_run::Model> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let runs = job_run::Entity::find()
            .filter(job_run::Column::Id.is_in(ids.iter().copied()))
            .all(&app.ctx.db)
            .await
            .expect("runs");
        if runs.len() == ids.len() && runs.iter().all(|r| r.status.is_terminal()) {
            return runs;
        }
        assert!(Instant::now() < deadline, "runs still going after 120 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts processes up to `k` and waits until each of them has taken a run.
async fn grow_to(app: &TestApp, env: &[(String, String)], procs: &mut Vec<Child>, k: usize) {
    while procs.len() < k {
        procs.push(process::spawn(&["worker"], env));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = HashSet::new();
    while seen.len() < k {
        assert!(
            Instant::now() < deadline,
            "{} of {k} workers ready",
            seen.len()
        );
        let ids = enqueue(app, 2 * k, 100).await;
        for run in ended(app, &ids).await {
            seen.extend(run.worker_id);
        }
    }
}

/// Runs a second with `k` processes, from the first start to the last end of the batch.
async fn rate(app: &TestApp, k: usize, all: &mut Vec<Uuid>) -> (f64, HashSet<String>) {
    let ids = enqueue(app, RUNS_PER_PROCESS * k, STEP_MS).await;
    let runs = ended(app, &ids).await;
    all.extend(&ids);
    let first = runs
        .iter()
        .filter_map(|r| r.started_at)
        .min()
        .expect("started");
    let last = runs
        .iter()
        .filter_map(|r| r.finished_at)
        .max()
        .expect("ended");
    let span = (last - first).num_milliseconds().max(1) as f64 / 1000.0;
    let workers = runs.iter().filter_map(|r| r.worker_id.clone()).collect();
    (ids.len() as f64 / span, workers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_worker_processes_take_more_runs_and_run_each_once() {
    let _alone = tests::heavy_turn().await;
    let app = TestApp::spawn_with(
        Backend::Redis,
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_WORKER_CONCURRENCY".into(), "1".into()));
    let mut procs = Vec::new();
    let mut measured = Vec::new();
    let mut rates = Vec::new();
    for k in [1, 2, 8] {
        grow_to(&app, &env, &mut procs, k).await;
        let (per_second, workers) = rate(&app, k, &mut measured).await;
        rates.push((k, per_second, workers.len()));
    }
    // (processes, runs/s, processes that took runs), in the log for whoever reads CI's.
    eprintln!("scaling: {rates:?}");
    let at = |k: usize| rates.iter().find(|r| r.0 == k).map_or(0.0, |r| r.1);
    assert!(at(2) >= 1.5 * at(1), "2 processes: {rates:?}");
    assert!(at(8) >= 3.5 * at(1), "8 processes: {rates:?}");
    assert_eq!(rates[2].2, 8, "all eight took runs: {rates:?}");

    let runs = ended(&app, &measured).await;
    for run in &runs {
        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        assert_eq!(run.attempt, 1, "{run:?}");
    }
    let ends = run_event::Entity::find()
        .filter(run_event::Column::RunId.is_in(measured.iter().copied()))
        .filter(run_event::Column::Outcome.eq(AttemptOutcome::Succeeded))
        .all(&app.ctx.db)
        .await
        .expect("ends");
    let mut per_run: HashMap<Uuid, usize> = HashMap::new();
    for end in &ends {
        *per_run.entry(end.run_id).or_default() += 1;
    }
    assert_eq!(per_run.len(), measured.len(), "every run has its end");
    assert!(per_run.values().all(|n| *n == 1), "a run ended twice");

    for child in &procs {
        process::terminate(child);
    }
    for child in &mut procs {
        assert!(child.wait().await.expect("wait").success());
    }
    app.shutdown().await;
}
