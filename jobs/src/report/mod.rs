//! `report`: a PDF management report for one account or all, for last week, last month
//! or chosen days, in Romanian or English: key figures against the period before, the
//! sales chart, the best sellers, the offers running out and the syncs' health.
//!
//! The PDF is made here (krilla, the font embedded), written beside the exports under a
//! temporary name and renamed when complete; it is downloaded and e-mailed as an export
//! is, and kept as long.

mod draw;
mod figures;
mod params;
mod pdf;
mod words;

use std::time::Duration;

use serde_json::json;

pub use params::{ReportLocale, ReportParams, ReportPeriod};

use crate::{
    analytics::{AnalyticsError, Scope},
    context::JobContext,
    error::{ErrorCategory, JobError, SubmitError},
    export::files,
    job::{Job, Output},
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::{Level, Progress},
};

pub struct ReportJob;

impl Job for ReportJob {
    const KIND: JobKind = JobKind::Report;
    const PLAIN: bool = true;
    const RETRY: RetryPolicy = RetryPolicy::new(3, Duration::from_secs(5), Duration::from_secs(60));
    const TIMEOUT: Duration = Duration::from_secs(600);
    const OUTPUT: Output = Output::File;
    type Params = ReportParams;
    type Stored = ReportParams;

    fn validate(params: &ReportParams) -> Result<(), ParamError> {
        params.validate()
    }

    async fn check_in_db(
        db: &sea_orm::DatabaseConnection,
        params: &ReportParams,
    ) -> Result<(), SubmitError> {
        match Scope::resolve(db, params.account()).await {
            Ok(_) => Ok(()),
            Err(AnalyticsError::Db(e)) => Err(e.into()),
            Err(e) => Err(ParamError::new("params.account", e.to_string()).into()),
        }
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        params: ReportParams,
        _attempt: u32,
    ) -> Result<(), JobError> {
        run(ctx, progress, params).await
    }
}

/// The report `params` asks for, as PDF bytes, and the days it covers.
pub async fn render<C: sea_orm::ConnectionTrait>(
    db: &C,
    params: &ReportParams,
) -> Result<(Vec<u8>, crate::analytics::Period), JobError> {
    let figures_error = |e: AnalyticsError| match e {
        AnalyticsError::Db(db) => JobError::from(db),
        other => JobError::permanent(ErrorCategory::InvalidInput, other.to_string()),
    };
    let scope = Scope::resolve(db, params.account())
        .await
        .map_err(figures_error)?;
    let period = params.period.resolve(scope.today());
    let data = figures::gather(db, scope, period)
        .await
        .map_err(figures_error)?;
    let bytes = pdf::render(&data, words::Words::of(params.locale))
        .map_err(|e| JobError::permanent(ErrorCategory::Permanent, e))?;
    Ok((bytes, period))
}

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: ReportParams,
) -> Result<(), JobError> {
    progress.set_total(1);
    let (bytes, period) = render(&ctx.db, &params).await?;
    let dir = files::dir(&ctx.config);
    std::fs::create_dir_all(&dir).map_err(|e| {
        JobError::permanent(
            ErrorCategory::Permanent,
            format!("cannot create the exports directory {}: {e}", dir.display()),
        )
    })?;
    let name = files::report_name(progress.run_id());
    let partial = dir.join(format!("{name}.part"));
    let path = dir.join(&name);
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|e| JobError::transient(format!("cannot write {}: {e}", path.display())))?;
    progress.processed(1);
    progress.set_result(json!({
        "file": name,
        "format": "pdf",
        "from": period.from,
        "to": period.to,
        "bytes": bytes.len(),
        "download": format!("/api/v1/exports/{}/file", progress.run_id()),
    }));
    progress.log(
        Level::Info,
        format!(
            "report for {} to {} written to {name} ({} bytes)",
            period.from,
            period.to,
            bytes.len()
        ),
    );
    Ok(())
}
