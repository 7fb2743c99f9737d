//! Typed configuration: built-in defaults, then an optional TOML file, then `MAGFLOW_*`
//! environment variables. Tests build [`Config`] literally instead.

use std::{path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

mod env;
mod secret;
mod validate;

pub use env::TEXT_SETTINGS;
use env::env_settings;
pub use secret::{SecretText, SecretUrl};

use crate::error::SetupError;

/// Every setting of a magflow process. The README documents each with its default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`: where runs, keys and synced data live.
    pub database_url: SecretUrl,
    /// `sqlite://PATH` or `redis://…`: where queued tasks wait.
    pub queue_url: SecretUrl,
    /// Prefix of every queue name (and so of every Redis key magflow writes).
    pub queue_prefix: String,
    /// Address the API listens on.
    pub bind: String,
    /// Jobs one worker process runs at once, per queue.
    pub worker_concurrency: usize,
    /// How long a stopping worker lets running jobs go on before it makes them checkpoint
    /// and hands them back to the queue.
    pub shutdown_grace_secs: u64,
    /// How often an idle worker asks the queue for work that no wake-up announced (a
    /// wake-up lost on the way, a retry whose delay ended).
    pub poll_interval_ms: u64,
    /// A running run whose heartbeat is older than this is taken over by another worker.
    pub lease_secs: u64,
    /// How often the API reads changed runs for its SSE and WebSocket clients.
    pub stream_poll_ms: u64,
    /// Caps every attempt of every kind, in seconds (default: each kind's own limit).
    pub attempt_timeout_secs: Option<u64>,
    /// Seals eMAG passwords at rest: 64 hex characters. Required once accounts exist.
    pub secret_key: Option<crate::secrets::SecretKey>,
    /// Share of eMAG's request limits left unused (0.0 to 0.5).
    pub emag_rate_margin: f64,
    /// Keep to eMAG's request limits. Turn off only against a simulator without limits
    /// (benchmarks of everything but eMAG).
    pub emag_rate_limit: bool,
    /// First wait before an eMAG request is retried; doubles up to 30 s.
    pub emag_backoff_ms: u64,
    /// Tries of one eMAG request before its page counts as failed.
    pub emag_max_attempts: u32,
    /// How long an account stays degraded (its runs paused) after an eMAG error storm.
    pub emag_breaker_cooldown_secs: u64,
    /// How long a run may wait for an account eMAG keeps failing for before it fails
    /// (`emag_unavailable`), e.g. `2h`, `90m`.
    #[serde(with = "humantime_serde")]
    pub emag_max_pause: Duration,
    /// Where export files are written; the API serves them from here (same machine, or a
    /// shared volume).
    pub exports_dir: String,
    /// Export files older than this are deleted.
    pub export_retention_hours: u64,
    /// `smtp://[user:pass@]host:port` (plain), `…?tls=starttls`, or `smtps://…` (TLS).
    /// Without it, notification runs fail with `not_configured`.
    pub smtp_url: Option<SecretUrl>,
    /// The From of notification e-mails.
    pub smtp_from: String,
    /// A scheduled export's file up to this size goes with its e-mail; a larger one is
    /// linked instead (most mail servers refuse messages over 10–25 MB).
    pub mail_attachment_max_bytes: u64,
    /// How people reach the API, for links in e-mails (default `http://BIND`).
    pub public_url: Option<String>,
    /// Where `magflow worker` serves `/metrics` for Prometheus (none by default; the API
    /// serves its own on `BIND`).
    pub metrics_bind: Option<String>,
    /// Hosts an eMAG account may reach over plain HTTP besides loopback (a simulator in
    /// the compose file: `["emag-sim"]`). Never eMAG itself.
    pub emag_http_hosts: Vec<String>,
    /// PEM certificate chain and private key: the API then speaks HTTPS only (rustls).
    /// Both or neither.
    pub tls_cert: Option<std::path::PathBuf>,
    pub tls_key: Option<std::path::PathBuf>,
    /// Browser origins allowed to call the API (`https://admin.shop.ro`); none by default.
    pub cors_origins: Vec<String>,
    /// Finished runs (with their log lines, items and schedule ticks) older than this
    /// are purged by the daily maintenance run.
    pub retention_runs_days: u64,
    /// Audit rows older than this are purged (the purge itself is audited).
    pub retention_audit_days: u64,
    /// Failed authentications a client address may make in a minute; past that its
    /// requests get 429 until the minute is over.
    pub api_auth_failures_per_minute: u32,
    /// Calls eMAG may make to one account's callback URLs in a minute; past that they get
    /// 429 (polling still catches up).
    pub hook_calls_per_minute: u32,
    /// The shortest interval between two ticks a schedule may have.
    pub schedule_min_interval_s: u64,
    /// Lets test-only faults act (a ping's `abort_at` aborts the worker process). Never in
    /// production.
    pub test_faults: bool,
    /// SSE and WebSocket streams one API key may hold open at once (per API process).
    pub api_streams_per_key: usize,
    /// When set, `/metrics` (the API's and each worker's) wants
    /// `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretText>,
    /// Request bodies above 1 MiB (bulk uploads) the API takes in at once; the next
    /// waits up to 5 s, then gets 503 with `Retry-After`.
    pub api_large_bodies: usize,
    /// A console session ends after this long without a request.
    pub console_idle_timeout_s: u64,
    /// A console session ends this long after sign-in, however busy.
    pub console_absolute_timeout_s: u64,
    /// Admins must enrol a second factor (TOTP) at their first sign-in.
    pub console_require_2fa: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: SecretUrl::new("sqlite://./magflow-data/magflow.db"),
            queue_url: SecretUrl::new("sqlite://./magflow-data/queue.db"),
            queue_prefix: "magflow".into(),
            bind: "127.0.0.1:8080".into(),
            worker_concurrency: 4,
            shutdown_grace_secs: 30,
            poll_interval_ms: 1000,
            lease_secs: 30,
            stream_poll_ms: 250,
            attempt_timeout_secs: None,
            secret_key: None,
            emag_rate_margin: 0.0,
            emag_rate_limit: true,
            emag_backoff_ms: 2000,
            emag_max_attempts: 5,
            emag_breaker_cooldown_secs: 60,
            emag_max_pause: Duration::from_secs(2 * 3600),
            exports_dir: "./magflow-data/exports".into(),
            export_retention_hours: 168,
            smtp_url: None,
            smtp_from: "magflow <magflow@localhost>".into(),
            mail_attachment_max_bytes: 5 * 1024 * 1024,
            public_url: None,
            metrics_bind: None,
            emag_http_hosts: Vec::new(),
            cors_origins: Vec::new(),
            tls_cert: None,
            tls_key: None,
            retention_runs_days: 90,
            retention_audit_days: 365,
            api_large_bodies: 2,
            metrics_token: None,
            api_auth_failures_per_minute: 20,
            hook_calls_per_minute: 600,
            api_streams_per_key: 20,
            test_faults: false,
            schedule_min_interval_s: 60,
            console_idle_timeout_s: 30 * 60,
            console_absolute_timeout_s: 12 * 3600,
            console_require_2fa: true,
        }
    }
}

impl Config {
    /// Defaults, then `file` (if given and present), then `MAGFLOW_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, SetupError> {
        let config = Config::from_sources(file, std::env::vars())?;
        config.validate()?;
        Ok(config)
    }

    /// Defaults, then `file`, then the `MAGFLOW_*` entries of `vars`, not yet validated.
    /// A text setting is read verbatim: `MAGFLOW_SECRET_KEY=0000…` is text, not a number.
    pub fn from_sources(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, SetupError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(SetupError::Config(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Serialized::defaults(env_settings(vars)))
            .extract()
            .map_err(|e| SetupError::Config(describe_figment_error(&e)))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(2))
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }

    /// How long one attempt of `kind` may run.
    /// `MAGFLOW_ATTEMPT_TIMEOUT_SECS` when set, else the kind's own (`default`).
    pub fn attempt_timeout(&self, default: Duration) -> Duration {
        self.attempt_timeout_secs
            .map_or(default, Duration::from_secs)
    }

    /// The eMAG client's timeouts and retry policy.
    pub fn emag_client_options(&self) -> crate::emag::client::ClientOptions {
        crate::emag::client::ClientOptions {
            max_attempts: self.emag_max_attempts.max(1),
            backoff_base: Duration::from_millis(self.emag_backoff_ms),
            ..crate::emag::client::ClientOptions::default()
        }
    }

    pub fn emag_breaker_cooldown(&self) -> Duration {
        Duration::from_secs(self.emag_breaker_cooldown_secs.max(1))
    }

    pub fn export_retention(&self) -> Duration {
        Duration::from_secs(self.export_retention_hours.saturating_mul(3600))
    }

    /// The API's address as people reach it, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| {
                let scheme = if self.tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{}", self.bind)
            })
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn schedule_min_interval(&self) -> Duration {
        Duration::from_secs(self.schedule_min_interval_s)
    }

    pub fn stream_poll(&self) -> Duration {
        Duration::from_millis(self.stream_poll_ms.max(20))
    }
}

fn describe_figment_error(e: &figment::Error) -> String {
    // Name the variable the way a user sets it, not figment's internal path.
    let key = e.path.join("_").to_uppercase();
    if key.is_empty() {
        e.to_string()
    } else {
        format!("MAGFLOW_{key}: {}", e.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let url = SecretUrl::new("postgres://magflow:hunter2@db:5432/magflow");
        assert_eq!(url.to_string(), "postgres://magflow:***@db:5432/magflow");
        assert!(!format!("{url:?}").contains("hunter2"));
        let redis = SecretUrl::new("redis://:s3cret@127.0.0.1:6379/0");
        assert!(!redis.to_string().contains("s3cret"));
    }

    #[test]
    fn text_settings_are_read_verbatim() {
        let serialized = serde_json::to_value(Config::default()).expect("serialize");
        for name in TEXT_SETTINGS {
            assert!(serialized.get(name).is_some(), "{name} is a setting");
            for text in [
                "0000000000000000000000000000000000000000000000000000000000000000",
                "1e5",
                "true",
            ] {
                let var = format!("MAGFLOW_{}", name.to_uppercase());
                let config = Config::from_sources(None, [(var.clone(), text.to_owned())]);
                // Some values are no valid key or URL, but none may fail as a wrong type.
                match config {
                    Ok(config) => {
                        let value = serde_json::to_value(&config).expect("serialize");
                        if !["secret_key", "metrics_token"].contains(name) {
                            assert_eq!(value[name], text, "{var}={text}");
                        }
                    }
                    Err(e) => {
                        let e = e.to_string();
                        assert!(!e.contains("invalid type"), "{var}={text}: {e}");
                        assert!(e.starts_with(&var), "{var}={text}: {e}");
                    }
                }
            }
        }
        let key = "0".repeat(64);
        let config = Config::from_sources(None, [("MAGFLOW_SECRET_KEY".into(), key)])
            .expect("an all-digit key is a key");
        assert!(config.secret_key.is_some());
        let config = Config::from_sources(
            None,
            [
                ("MAGFLOW_WORKER_CONCURRENCY".into(), "7".into()),
                ("MAGFLOW_EMAG_HTTP_HOSTS".into(), r#"["emag-sim"]"#.into()),
                ("MAGFLOW_EMAG_RATE_LIMIT".into(), "false".into()),
                ("MAGFLOW_EMAG_MAX_PAUSE".into(), "1h 30m".into()),
            ],
        )
        .expect("typed settings");
        assert_eq!(config.emag_max_pause, Duration::from_secs(5400));
        assert_eq!(config.worker_concurrency, 7);
        assert_eq!(config.emag_http_hosts, ["emag-sim"]);
        assert!(!config.emag_rate_limit);
    }

    #[test]
    fn bad_scheme_names_the_setting() {
        let config = Config {
            database_url: SecretUrl::new("mysql://x"),
            ..Config::default()
        };
        let err = config
            .validate()
            .expect_err("mysql is not supported")
            .to_string();
        assert!(err.starts_with("MAGFLOW_DATABASE_URL:"), "{err}");
    }
}
