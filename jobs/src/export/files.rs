//! Where export files live and how long they stay.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use uuid::Uuid;

use crate::config::Config;

pub fn dir(config: &Config) -> PathBuf {
    PathBuf::from(&config.exports_dir)
}

/// `RUN_ID.csv` or `RUN_ID.xlsx`: one file per run, so a retry overwrites its own.
pub fn file_name(run_id: Uuid, format: &str) -> String {
    format!("{run_id}.{format}")
}

pub fn content_type(format: &str) -> &'static str {
    match format {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "text/csv; charset=utf-8",
    }
}

/// Deletes files (finished or left half-written) older than `retention`; how many.
pub fn remove_expired(dir: &Path, retention: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > retention);
        if old && entry.path().is_file() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}
