//! What a test runs on: the backend, the options a test may change, and the settings
//! they make (own SQLite files, or own PostgreSQL database and Redis prefix).

use jobs::{Config, SecretUrl};
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

/// Which storage a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files for data and queue: the embedded default.
    Sqlite,
    /// PostgreSQL for data, Redis for the queue: production.
    Redis,
}

impl Backend {
    pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Redis];
}

/// Knobs a test may turn; the defaults keep tests fast.
#[derive(Clone, Debug)]
pub struct Options {
    /// Start an in-process worker with the API.
    pub worker: bool,
    pub shutdown_grace_secs: u64,
    pub lease_secs: u64,
    pub attempt_timeout_secs: Option<u64>,
    pub breaker_cooldown_secs: u64,
    /// `MAGFLOW_EMAG_MAX_PAUSE`; default 2 h.
    pub emag_max_pause: std::time::Duration,
    /// `MAGFLOW_SMTP_URL`, e.g. an [`crate::smtp::SmtpSink`]'s.
    pub smtp_url: Option<String>,
    pub export_retention_hours: u64,
    /// `MAGFLOW_CORS_ORIGINS`.
    pub cors_origins: Vec<String>,
    /// A Redis of the test's own (a [`crate::redis_server::RedisServer`]) instead of the shared one.
    pub redis_url: Option<String>,
    /// A PostgreSQL database of the test's own (a [`crate::pg_server::PgServer`]).
    pub database_url: Option<String>,
    /// `MAGFLOW_EMAG_HTTP_HOSTS`; default `["127.0.0.1"]`, where the simulator answers.
    pub emag_http_hosts: Option<Vec<String>>,
    /// `MAGFLOW_METRICS_TOKEN`.
    pub metrics_token: Option<String>,
    /// `MAGFLOW_SMTP_FROM`; default `magflow <magflow@test.invalid>`.
    pub smtp_from: Option<String>,
    /// `MAGFLOW_SCHEDULE_MIN_INTERVAL_S`; default 1 (the schedule tests fire every second).
    pub schedule_min_interval_s: Option<u64>,
    /// `MAGFLOW_API_AUTH_FAILURES_PER_MINUTE`; default 20.
    pub auth_failures_per_minute: Option<u32>,
    /// `MAGFLOW_HOOK_CALLS_PER_MINUTE`.
    pub hook_calls_per_minute: Option<u32>,
    /// `MAGFLOW_CONSOLE_IDLE_TIMEOUT_S`; default 30 minutes.
    pub console_idle_timeout_s: Option<u64>,
    /// `MAGFLOW_CONSOLE_REQUIRE_2FA`; default off (only the second-factor tests want it).
    pub console_require_2fa: bool,
    /// `MAGFLOW_MAIL_ATTACHMENT_MAX_BYTES`; default 5 MiB.
    pub mail_attachment_max_bytes: Option<u64>,
}

impl Options {
    /// The defaults without the in-process worker: what a test queues stays queued.
    pub fn no_worker() -> Options {
        Options {
            worker: false,
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            worker: true,
            shutdown_grace_secs: 5,
            lease_secs: 3,
            attempt_timeout_secs: None,
            breaker_cooldown_secs: 2,
            emag_max_pause: std::time::Duration::from_secs(2 * 3600),
            smtp_url: None,
            export_retention_hours: 168,
            cors_origins: Vec::new(),
            redis_url: None,
            database_url: None,
            emag_http_hosts: None,
            metrics_token: None,
            smtp_from: None,
            schedule_min_interval_s: None,
            auth_failures_per_minute: None,
            hook_calls_per_minute: None,
            console_idle_timeout_s: None,
            console_require_2fa: false,
            mail_attachment_max_bytes: None,
        }
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `bash .ci/run`, which starts PostgreSQL and Redis")
    })
}

/// A fresh PostgreSQL database for one test.
async fn postgres_database() -> String {
    let admin = env("MAGFLOW_TEST_DATABASE_URL");
    let name = format!("mf_{}", Uuid::new_v4().simple());
    let conn = Database::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("MAGFLOW_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Settings for a test of `backend`: own files, or own database and Redis prefix.
/// Returns the config and its sealing key in hex (for `magflow` processes).
pub async fn test_config(
    backend: Backend,
    dir: &std::path::Path,
    opts: &Options,
) -> (Config, String) {
    let key = jobs::secrets::SecretKey::generate_hex();
    let prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    let (database_url, queue_url) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}/magflow.db", dir.display()),
            format!("sqlite://{}/queue.db", dir.display()),
        ),
        Backend::Redis => (
            match &opts.database_url {
                Some(url) => url.clone(),
                None => postgres_database().await,
            },
            opts.redis_url
                .clone()
                .unwrap_or_else(|| env("MAGFLOW_TEST_REDIS_URL")),
        ),
    };
    let config = Config {
        database_url: SecretUrl::new(database_url),
        queue_url: SecretUrl::new(queue_url),
        queue_prefix: prefix,
        bind: "127.0.0.1:0".into(),
        worker_concurrency: 4,
        shutdown_grace_secs: opts.shutdown_grace_secs,
        poll_interval_ms: 100,
        lease_secs: opts.lease_secs,
        stream_poll_ms: 100,
        attempt_timeout_secs: opts.attempt_timeout_secs,
        secret_key: Some(jobs::secrets::SecretKey::from_hex(&key).expect("key")),
        emag_rate_margin: 0.0,
        // Fast retries: the simulator's faults pass at once, unlike eMAG's.
        emag_rate_limit: true,
        emag_backoff_ms: 20,
        emag_max_attempts: 5,
        emag_breaker_cooldown_secs: opts.breaker_cooldown_secs,
        emag_max_pause: opts.emag_max_pause,
        exports_dir: dir.join("exports").display().to_string(),
        export_retention_hours: opts.export_retention_hours,
        smtp_url: opts.smtp_url.clone().map(SecretUrl::new),
        smtp_from: opts
            .smtp_from
            .clone()
            .unwrap_or_else(|| "magflow <magflow@test.invalid>".into()),
        public_url: Some("https://magflow.example.ro".into()),
        cors_origins: opts.cors_origins.clone(),
        // The simulator answers plain HTTP on this machine.
        emag_http_hosts: opts
            .emag_http_hosts
            .clone()
            .unwrap_or_else(|| vec!["127.0.0.1".into()]),
        metrics_token: opts.metrics_token.clone().map(jobs::SecretText::new),
        // The schedule tests fire every second; the 60 s floor has a test of its own.
        schedule_min_interval_s: opts.schedule_min_interval_s.unwrap_or(1),
        api_auth_failures_per_minute: opts.auth_failures_per_minute.unwrap_or(20),
        hook_calls_per_minute: opts.hook_calls_per_minute.unwrap_or(600),
        console_idle_timeout_s: opts.console_idle_timeout_s.unwrap_or(30 * 60),
        console_require_2fa: opts.console_require_2fa,
        mail_attachment_max_bytes: opts
            .mail_attachment_max_bytes
            .unwrap_or(Config::default().mail_attachment_max_bytes),
        ..Config::default()
    };
    (config, key)
}
