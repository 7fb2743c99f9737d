//! Test harness: start the API and a worker in-process on port 0, against a real SQLite
//! file (embedded backend) or a real PostgreSQL database and Redis (production backend).
//!
//! Isolation: every [`TestApp`] gets its own SQLite files, or its own PostgreSQL database
//! and its own Redis queue prefix, so tests run in parallel.
//! The servers come from `MAGFLOW_TEST_DATABASE_URL` (a PostgreSQL URL whose user may
//! create databases) and `MAGFLOW_TEST_REDIS_URL`; `.ci/run` starts both.

#![allow(
    clippy::expect_used,
    reason = "tests and their support code stop at the first broken expectation, naming it"
)]

mod config;
mod diagnosis;
mod sim;
pub use config::{Backend, Options, test_config};
pub use sim::{quick_simulator, sim_admin, sim_dump};
pub mod browser;
pub mod http;
pub mod pg_server;
pub mod process;
pub mod redis_server;
pub mod smtp;

use std::time::Duration;

use jobs::{Config, JobContext, api_keys};
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use http::Client;

pub struct TestApp {
    pub backend: Backend,
    pub config: Config,
    pub ctx: JobContext,
    pub client: Client,
    /// An admin key and a viewer key, in plain text.
    pub admin: String,
    pub viewer: String,
    /// `MAGFLOW_SECRET_KEY` of this app, for `magflow` processes that share its data.
    pub secret_key_hex: String,
    api_stop: CancellationToken,
    api_task: JoinHandle<std::io::Result<()>>,
    pub worker: Option<WorkerHandle>,
    _dir: tempfile::TempDir,
}

/// A worker running inside the test process.
pub struct WorkerHandle {
    stop: CancellationToken,
    task: JoinHandle<Result<(), worker::WorkerError>>,
}

impl WorkerHandle {
    pub fn start(ctx: JobContext) -> WorkerHandle {
        let stop = CancellationToken::new();
        let signal = stop.clone();
        let task = tokio::spawn(worker::run(ctx, async move { signal.cancelled().await }));
        WorkerHandle { stop, task }
    }

    /// Signals shutdown and waits for the worker to return.
    pub async fn shutdown(self) -> Result<(), worker::WorkerError> {
        self.stop.cancel();
        self.task.await.expect("worker task panicked")
    }
}

pub fn install_tls_provider() {
    // reqwest is built without a default provider (docs/stack-notes.md §2).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Tests that start processes or servers of their own take turns: all together on two
/// cores they starved the rest of the suite (a SQLite file took over 15 s to open in
/// another test). A test that keeps a core busy (the API fuzzer, the large bodies) runs
/// alone ([`heavy_turn`]); two failure drills, which mostly wait for a server to come back
/// or a lease to run out, may run at once ([`drill_turn`]).
static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub async fn heavy_turn() -> tokio::sync::SemaphorePermit<'static> {
    TURNS
        .acquire_many(2)
        .await
        .expect("the semaphore is never closed")
}

pub async fn drill_turn() -> tokio::sync::SemaphorePermit<'static> {
    TURNS
        .acquire()
        .await
        .expect("the semaphore is never closed")
}

/// A CSV file with a header line, as one map (column → cell) per line.
pub fn csv_rows(bytes: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().expect("a CSV header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

impl TestApp {
    /// Adds an eMAG account that logs in to `sim` as `username`.
    pub async fn add_account(
        &self,
        name: &str,
        sim: &jobs::emag::sim::Simulator,
        username: &str,
        password: &str,
    ) {
        let kind = if name.contains("fbe") { "fbe" } else { "main" };
        let body = serde_json::json!({ "name": name, "kind": kind, "base_url": sim.base_url, "username": username, "password": password });
        let (status, answer) = self
            .client
            .post("/api/v1/accounts", Some(&self.admin), &body)
            .await;
        assert_eq!(status, 201, "add account: {answer}");
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, opts: Options) -> TestApp {
        install_tls_provider();
        let _ = jobs::metrics::install();
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, secret_key_hex) = test_config(backend, dir.path(), &opts).await;
        let ctx = JobContext::connect(config.clone(), true)
            .await
            .expect("connect database and queue");
        let (admin, _) = api_keys::create(&ctx.db, api_keys::Role::Admin, "test-admin")
            .await
            .expect("admin key");
        let (viewer, _) = api_keys::create(&ctx.db, api_keys::Role::Viewer, "test-viewer")
            .await
            .expect("viewer key");

        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("tcp address");
        let api_stop = CancellationToken::new();
        let state = api::state(ctx.clone(), CancellationToken::new());
        let stop = api_stop.clone();
        let api_task = tokio::spawn(api::serve(state, acceptor, async move {
            stop.cancelled().await
        }));
        let worker = opts.worker.then(|| WorkerHandle::start(ctx.clone()));
        TestApp {
            backend,
            config,
            ctx,
            client: Client::new(format!("http://{addr}")),
            admin,
            viewer,
            secret_key_hex,
            api_stop,
            api_task,
            worker,
            _dir: dir,
        }
    }

    /// `POST /api/v1/accounts/{name}/check` as admin; its answer.
    pub async fn check_account(&self, name: &str) -> Value {
        let (status, answer) = self
            .client
            .post(
                &format!("/api/v1/accounts/{name}/check"),
                Some(&self.admin),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Starts a ping run through the API as admin and returns its id.
    /// Syncs `account`'s offers and waits for the run to succeed.
    pub async fn sync_offers(&self, account: &str) {
        let params = serde_json::json!({ "accounts": [account], "resource": "offers" });
        let id = self
            .start_run(serde_json::json!({ "kind": "sync", "params": params }))
            .await;
        self.wait_status(id, &["succeeded"], Duration::from_secs(60))
            .await;
    }

    pub async fn start_ping(&self, params: Value) -> Uuid {
        self.start_run(serde_json::json!({ "kind": "ping", "params": params }))
            .await
    }

    pub async fn start_run(&self, body: Value) -> Uuid {
        let (status, run) = self
            .client
            .post("/api/v1/runs", Some(&self.admin), &body)
            .await;
        assert_eq!(status, 202, "create run: {run}");
        run["id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .expect("run id")
    }

    pub async fn run(&self, id: Uuid) -> Value {
        let (status, run) = self
            .client
            .get(&format!("/api/v1/runs/{id}"), Some(&self.viewer))
            .await;
        assert_eq!(status, 200, "get run: {run}");
        run
    }

    /// Polls the run until `done` says so, or panics after `deadline`.
    pub async fn wait_run(
        &self,
        id: Uuid,
        deadline: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let run = self.run(id).await;
            if done(&run) {
                return run;
            }
            if tokio::time::Instant::now() >= until {
                let why = self.diagnosis(id).await;
                panic!("run {id} did not reach the expected state in {deadline:?}: {run:#}\n{why}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the run has ended, whatever the outcome.
    pub async fn wait_ended(&self, id: Uuid, deadline: Duration) -> Value {
        let ended = ["succeeded", "failed", "dead", "cancelled"];
        self.wait_status(id, &ended, deadline).await
    }

    /// Waits until the run has one of the given statuses.
    pub async fn wait_status(&self, id: Uuid, statuses: &[&str], deadline: Duration) -> Value {
        self.wait_run(id, deadline, |r| {
            statuses.contains(&r["status"].as_str().unwrap_or_default())
        })
        .await
    }

    /// The run's log lines.
    pub async fn events(&self, id: Uuid) -> Vec<String> {
        jobs::runs::events(&self.ctx.db, id, 0, 1000)
            .await
            .expect("read events")
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    /// Environment for a `magflow` OS process that shares this app's database and queue.
    pub fn process_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "MAGFLOW_DATABASE_URL".into(),
                self.config.database_url.expose().to_owned(),
            ),
            (
                "MAGFLOW_QUEUE_URL".into(),
                self.config.queue_url.expose().to_owned(),
            ),
            (
                "MAGFLOW_QUEUE_PREFIX".into(),
                self.config.queue_prefix.clone(),
            ),
            (
                "MAGFLOW_LEASE_SECS".into(),
                self.config.lease_secs.to_string(),
            ),
            (
                "MAGFLOW_POLL_INTERVAL_MS".into(),
                self.config.poll_interval_ms.to_string(),
            ),
            (
                "MAGFLOW_SHUTDOWN_GRACE_SECS".into(),
                self.config.shutdown_grace_secs.to_string(),
            ),
            ("MAGFLOW_SECRET_KEY".into(), self.secret_key_hex.clone()),
            (
                "MAGFLOW_EMAG_HTTP_HOSTS".into(),
                r#"["127.0.0.1"]"#.to_owned(),
            ),
            (
                "MAGFLOW_EMAG_BACKOFF_MS".into(),
                self.config.emag_backoff_ms.to_string(),
            ),
        ]
    }

    /// Stops the API (and the in-process worker, if any).
    pub async fn shutdown(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.shutdown().await.expect("worker stops cleanly");
        }
        self.api_stop.cancel();
        let _ = (&mut self.api_task).await;
    }
}
