//! Checking the settings before anything connects: each error names its setting.

use super::{Config, SetupError};

impl Config {
    /// Checks what can be checked without connecting, naming the setting at fault.
    pub fn validate(&self) -> Result<(), SetupError> {
        self.database_url.scheme_in(
            "MAGFLOW_DATABASE_URL",
            &["sqlite", "postgres", "postgresql"],
        )?;
        self.queue_url
            .scheme_in("MAGFLOW_QUEUE_URL", &["sqlite", "redis", "rediss"])?;
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(SetupError::Config(format!(
                "MAGFLOW_BIND: {:?} is not an address like 127.0.0.1:8080",
                self.bind
            )));
        }
        if self.queue_prefix.is_empty()
            || !self
                .queue_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            // Colons would break apalis-redis's key layout (docs/stack-notes.md §5.4).
            return Err(SetupError::Config(
                "MAGFLOW_QUEUE_PREFIX: use letters, digits, '_', '-' or '.'".into(),
            ));
        }
        if !crate::emag::rate_limit::Limits::MARGINS.contains(&self.emag_rate_margin) {
            return Err(SetupError::Config(
                "MAGFLOW_EMAG_RATE_MARGIN: must be between 0.0 and 0.5".into(),
            ));
        }
        if !(1..=20).contains(&self.emag_max_attempts) {
            return Err(SetupError::Config(
                "MAGFLOW_EMAG_MAX_ATTEMPTS: must be between 1 and 20".into(),
            ));
        }
        if let Some(smtp) = &self.smtp_url {
            smtp.scheme_in("MAGFLOW_SMTP_URL", &["smtp", "smtps"])?;
        }
        if self.smtp_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(SetupError::Config(format!(
                "MAGFLOW_SMTP_FROM: {:?} is not an address like \"magflow <ops@example.ro>\"",
                self.smtp_from
            )));
        }
        self.check_web()?;
        for (name, days) in [
            ("MAGFLOW_RETENTION_RUNS_DAYS", self.retention_runs_days),
            ("MAGFLOW_RETENTION_AUDIT_DAYS", self.retention_audit_days),
        ] {
            if !(1..=36_500).contains(&days) {
                return Err(SetupError::Config(format!(
                    "{name}: must be between 1 and 36500"
                )));
            }
        }
        if self.worker_concurrency == 0 {
            return Err(SetupError::Config(
                "MAGFLOW_WORKER_CONCURRENCY: must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The HTTP side: CORS origins, TLS files, the metrics address.
    fn check_web(&self) -> Result<(), SetupError> {
        for origin in &self.cors_origins {
            let ok = url::Url::parse(origin).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && !origin.ends_with('/')
            });
            if !ok {
                return Err(SetupError::Config(format!(
                    "MAGFLOW_CORS_ORIGINS: {origin:?} is not an origin like https://admin.example.ro"
                )));
            }
        }
        let given =
            |p: &Option<std::path::PathBuf>| p.as_ref().is_some_and(|p| !p.as_os_str().is_empty());
        match (given(&self.tls_cert), given(&self.tls_key)) {
            (true, false) => {
                return Err(SetupError::Config(
                    "MAGFLOW_TLS_KEY: required with MAGFLOW_TLS_CERT (the certificate's private key, PEM)".into(),
                ));
            }
            (false, true) => {
                return Err(SetupError::Config(
                    "MAGFLOW_TLS_CERT: required with MAGFLOW_TLS_KEY (the certificate chain, PEM)"
                        .into(),
                ));
            }
            _ => {}
        }
        if let Some(bind) = &self.metrics_bind
            && bind.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(SetupError::Config(format!(
                "MAGFLOW_METRICS_BIND: {bind:?} is not an address like 0.0.0.0:9464"
            )));
        }
        Ok(())
    }
}
