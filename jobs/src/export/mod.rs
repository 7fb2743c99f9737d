//! `export`: offers, orders (one row per order line) or runs as a CSV or XLSX file.
//!
//! Rows are read a page at a time and written as they come, so memory does not grow with
//! the row count. The file is written under a temporary name and renamed when complete:
//! a download never sees half a file. Files older than the retention are deleted when an
//! export starts.

pub mod files;
mod series;
mod sink;
mod sources;

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::job_run::RunStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    context::JobContext,
    error::{ErrorCategory, JobError},
    job::{Job, Output},
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::{Level, Progress},
};

pub struct ExportJob;

impl Job for ExportJob {
    const KIND: JobKind = JobKind::Export;
    const PLAIN: bool = true;
    const RETRY: RetryPolicy = RetryPolicy::new(3, Duration::from_secs(5), Duration::from_secs(60));
    const TIMEOUT: Duration = Duration::from_secs(3600);
    const OUTPUT: Output = Output::File;
    type Params = ExportParams;
    type Stored = ExportParams;

    fn validate(params: &ExportParams) -> Result<(), ParamError> {
        params.validate()
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        params: ExportParams,
        _attempt: u32,
    ) -> Result<(), JobError> {
        run(ctx, progress, params).await
    }
}

/// What an export reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Offers,
    Orders,
    Runs,
    /// The daily history: orders per account, local day and status.
    Sales,
    /// The daily history: units and revenue per account, local day, product and status.
    ProductSales,
}

impl Resource {
    pub const ALL: [Resource; 5] = [
        Resource::Offers,
        Resource::Orders,
        Resource::Runs,
        Resource::Sales,
        Resource::ProductSales,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Offers => "offers",
            Resource::Orders => "orders",
            Resource::Runs => "runs",
            Resource::Sales => "sales",
            Resource::ProductSales => "product_sales",
        }
    }
}

/// The file an export writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Csv,
    Xlsx,
}

impl Format {
    /// Its file name extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    pub resource: Resource,
    #[serde(default)]
    pub format: Format,
    /// Only this eMAG account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Offers: 0, 1 or 2; orders: 0 to 5; runs: a run status such as `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// From this time on (offers: last change, orders: order date, runs: creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Offers: also those eMAG no longer lists (with the time they were found removed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_removed: bool,
    /// The columns to write, in this order (default: every column of the resource, as
    /// [`columns`] lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

pub use sources::columns;

impl ExportParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if let Some(status) = &self.status {
            let ok = match self.resource {
                Resource::Runs => status.as_str().and_then(RunStatus::parse).is_some(),
                Resource::Offers => status.as_i64().is_some_and(|s| (0..=2).contains(&s)),
                Resource::Orders | Resource::Sales | Resource::ProductSales => {
                    status.as_i64().is_some_and(|s| (0..=5).contains(&s))
                }
            };
            if !ok {
                let expected = match self.resource {
                    Resource::Runs => {
                        "a run status: queued, running, succeeded, failed, cancelled or dead"
                    }
                    Resource::Offers => "0 (inactive), 1 (active) or 2 (end of life)",
                    Resource::Orders | Resource::Sales | Resource::ProductSales => {
                        "an order status from 0 (cancelled) to 5 (returned)"
                    }
                };
                return Err(ParamError::new(
                    "params.status",
                    format!("must be {expected}"),
                ));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ParamError::new("params.to", "must be after params.from"));
        }
        self.selection().map(|_| ())
    }

    /// Where each chosen column is among the resource's [`columns`], in the chosen order.
    pub fn selection(&self) -> Result<Vec<usize>, ParamError> {
        let all = columns(self.resource);
        let Some(chosen) = &self.columns else {
            return Ok((0..all.len()).collect());
        };
        if chosen.is_empty() {
            return Err(ParamError::new(
                "params.columns",
                "must name at least one column (leave it out for all of them)",
            ));
        }
        let mut at = Vec::with_capacity(chosen.len());
        for (i, name) in chosen.iter().enumerate() {
            let field = format!("params.columns[{i}]");
            let Some(position) = all.iter().position(|c| c == name) else {
                let valid = all.join(", ");
                return Err(ParamError::new(
                    field,
                    format!(
                        "{name:?} is not a column of {}; valid: {valid}",
                        self.resource.as_str()
                    ),
                ));
            };
            if at.contains(&position) {
                return Err(ParamError::new(field, format!("{name:?} is listed twice")));
            }
            at.push(position);
        }
        Ok(at)
    }
}

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: ExportParams,
) -> Result<(), JobError> {
    let dir = files::dir(&ctx.config);
    let removed = files::remove_expired(&dir, ctx.config.export_retention());
    if removed > 0 {
        progress.log(
            Level::Info,
            format!("{removed} export files past their retention deleted"),
        );
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        JobError::permanent(
            ErrorCategory::Permanent,
            format!("cannot create the exports directory {}: {e}", dir.display()),
        )
    })?;
    let db = &ctx.db;
    progress.set_total(sources::count(db, &params).await?);
    let name = files::file_name(progress.run_id(), params.format);
    let partial = dir.join(format!("{name}.part"));
    let sink_error = |e: sink::SinkError| JobError::transient(e.to_string());
    let chosen = params
        .selection()
        .map_err(|e| JobError::permanent(ErrorCategory::InvalidInput, e.to_string()))?;
    let all = columns(params.resource);
    let header: Vec<&str> = chosen.iter().map(|&i| all[i]).collect();
    let mut sink = sink::Sink::create(&partial, params.format, &header).map_err(sink_error)?;
    let mut after = sources::After::default();
    let mut rows = 0u64;
    loop {
        let (page, items) = sources::page(db, &params, &mut after).await?;
        if items == 0 {
            break;
        }
        let written = page.len() as u64;
        for row in page {
            let cells: Vec<sink::Cell> = match &params.columns {
                None => row,
                Some(_) => pick(row, &chosen),
            };
            sink.row(&cells).map_err(sink_error)?;
        }
        rows += written;
        progress.processed(items);
        progress.page_done();
        progress.tick().await?;
    }
    sink.finish().map_err(sink_error)?;
    let path = dir.join(&name);
    std::fs::rename(&partial, &path)
        .map_err(|e| JobError::transient(format!("cannot finish {}: {e}", path.display())))?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    progress.set_result(json!({
        "file": name,
        "format": params.format,
        "rows": rows,
        "bytes": bytes,
        "download": format!("/api/v1/exports/{}/file", progress.run_id()),
    }));
    progress.log(
        Level::Info,
        format!("{rows} rows written to {name} ({bytes} bytes)"),
    );
    Ok(())
}

/// A row's cells at `at`, in that order.
fn pick(row: Vec<sink::Cell>, at: &[usize]) -> Vec<sink::Cell> {
    let mut cells: Vec<Option<sink::Cell>> = row.into_iter().map(Some).collect();
    at.iter()
        .map(|&i| {
            cells
                .get_mut(i)
                .and_then(Option::take)
                .unwrap_or(sink::Cell::Text(None))
        })
        .collect()
}
