//! Where export files live and how long they stay.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use entity::job_run;
use uuid::Uuid;

use super::{ExportParams, Format};
use crate::config::Config;

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PDF: &str = "application/pdf";

/// An export's file as it is offered: where it is on disk, the name a browser or an
/// e-mail gets, and its content type.
pub struct Offered {
    pub path: PathBuf,
    pub name: String,
    pub content_type: &'static str,
}

/// Where export (or report) `run`'s file is (whether it is there or not) and how it is
/// offered.
pub fn offered(config: &Config, run: &job_run::Model) -> Result<Offered, serde_json::Error> {
    let day = run.finished_at.unwrap_or(run.created_at).format("%Y-%m-%d");
    if run.kind == job_run::JobKind::Report {
        return Ok(Offered {
            path: dir(config).join(report_name(run.id)),
            name: format!(
                "magflow-report-{day}-{}.pdf",
                &run.id.simple().to_string()[..8]
            ),
            content_type: PDF,
        });
    }
    let params: ExportParams = serde_json::from_value(run.params.clone())?;
    let format = params.format;
    Ok(Offered {
        path: dir(config).join(file_name(run.id, format)),
        name: format!(
            "magflow-{}-{day}-{}.{}",
            params.resource.as_str(),
            &run.id.simple().to_string()[..8],
            format.as_str()
        ),
        content_type: match format {
            Format::Xlsx => XLSX,
            Format::Csv => CSV,
        },
    })
}

pub fn dir(config: &Config) -> PathBuf {
    PathBuf::from(&config.exports_dir)
}

/// `RUN_ID.csv` or `RUN_ID.xlsx`: one file per run, so a retry overwrites its own.
pub fn file_name(run_id: Uuid, format: Format) -> String {
    format!("{run_id}.{}", format.as_str())
}

/// `RUN_ID.pdf`: a report's file.
pub fn report_name(run_id: Uuid) -> String {
    format!("{run_id}.pdf")
}

/// Whether `name` is a file magflow wrote: `<run id>.csv|xlsx|pdf`, or the same with `.part`
/// while it is written. Nothing else in the directory is ever deleted: an operator may
/// point `MAGFLOW_EXPORTS_DIR` at a directory that holds other files.
pub fn is_export_file(name: &str) -> bool {
    let name = name.strip_suffix(".part").unwrap_or(name);
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        matches!(ext, "csv" | "xlsx" | "pdf")
            && Uuid::try_parse(stem).is_ok_and(|id| id.to_string() == stem)
    })
}

/// Deletes export files (finished or left half-written) older than `retention`; how
/// many. Only files named as magflow names them.
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
        let ours = entry.file_name().to_str().is_some_and(is_export_file);
        if old && ours && entry.path().is_file() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::is_export_file;

    #[test]
    fn only_files_named_by_magflow_are_exports() {
        let id = "01a2352c-552d-70fd-8dfb-07a19952a31b";
        for ours in ["csv", "xlsx", "pdf", "csv.part", "xlsx.part", "pdf.part"] {
            assert!(is_export_file(&format!("{id}.{ours}")), "{ours}");
        }
        for theirs in [
            "notes.csv".to_owned(),
            format!("{id}.txt"),
            format!("{id}.csv.bak"),
            format!("x{id}.csv"),
            "01A2352C-552D-70FD-8DFB-07A19952A31B.csv".to_owned(),
            ".bashrc".to_owned(),
        ] {
            assert!(!is_export_file(&theirs), "{theirs}");
        }
    }
}
