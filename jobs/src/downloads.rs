//! A run's downloadable result, for the API and the console alike: a bulk update's
//! outcome per item (CSV, built from its rows) or an export's file (from disk).

use entity::job_run::{self, RunStatus};

use crate::{JobContext, bulk_update, export::files, job::Output, registry};

/// What a download is made of.
pub enum Content {
    Bytes(Vec<u8>),
    File(tokio::fs::File),
}

pub struct Download {
    /// The file name offered to the browser.
    pub name: String,
    pub content_type: &'static str,
    pub content: Content,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("runs of kind {0} have no result file")]
    NoResult(&'static str),
    #[error("the export is {0}; its file exists once it has succeeded")]
    NotFinished(&'static str),
    #[error("the file of this export was deleted (retention {0} h); export again")]
    Gone(u64),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("the export's parameters do not read: {0}")]
    Params(#[from] serde_json::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub use files::{CSV, PDF, XLSX};

/// The result of `run`: a bulk update's items with their outcome, or an export's file.
pub async fn result(ctx: &JobContext, run: &job_run::Model) -> Result<Download, DownloadError> {
    match registry::output(run.kind) {
        Output::ItemOutcomes => {
            let csv = bulk_update::result_csv(&ctx.db, run.id).await?;
            let kind = run.kind.as_str().replace('_', "-");
            Ok(Download {
                name: format!("magflow-{kind}-{}.csv", run.id),
                content_type: CSV,
                content: Content::Bytes(csv),
            })
        }
        Output::File => export_file(ctx, run).await,
        Output::None => Err(DownloadError::NoResult(run.kind.as_str())),
    }
}

/// An export's file, once it has succeeded and while retention keeps it.
pub async fn export_file(
    ctx: &JobContext,
    run: &job_run::Model,
) -> Result<Download, DownloadError> {
    if run.status != RunStatus::Succeeded {
        return Err(DownloadError::NotFinished(run.status.as_str()));
    }
    let offered = files::offered(&ctx.config, run)?;
    let file = match tokio::fs::File::open(&offered.path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DownloadError::Gone(ctx.config.export_retention_hours));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Download {
        name: offered.name,
        content_type: offered.content_type,
        content: Content::File(file),
    })
}
