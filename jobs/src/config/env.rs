//! `MAGFLOW_*` environment variables as settings.

/// Settings whose value is text whatever it looks like. figment's own environment
/// provider reads `MAGFLOW_SECRET_KEY=0123…` as a number and then refuses it as text.
pub const TEXT_SETTINGS: &[&str] = &[
    "database_url",
    "queue_url",
    "queue_prefix",
    "bind",
    "secret_key",
    "exports_dir",
    "smtp_url",
    "smtp_from",
    "public_url",
    "metrics_bind",
    "tls_cert",
    "tls_key",
    "metrics_token",
    "emag_max_pause",
];

/// The `MAGFLOW_*` entries of `vars` as settings: text settings verbatim, the others
/// parsed as figment does (numbers, booleans, `["lists"]`).
pub(super) fn env_settings(
    vars: impl IntoIterator<Item = (String, String)>,
) -> figment::value::Dict {
    use figment::value::Value;
    vars.into_iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("MAGFLOW_")?.to_ascii_lowercase();
            if key.is_empty() || key == "config" {
                return None;
            }
            let value = if TEXT_SETTINGS.contains(&key.as_str()) {
                Value::from(value)
            } else {
                value.parse::<Value>().unwrap_or_else(|e| match e {})
            };
            Some((key, value))
        })
        .collect()
}
