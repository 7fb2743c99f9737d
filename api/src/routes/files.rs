//! Downloads: a bulk update's outcome per item and an export's file.

use entity::job_run::{self, RunStatus};
use jobs::{
    JobKind, bulk_update,
    export::{ExportParams, Format, files},
    job::Output,
    registry, runs,
};
use poem::Body;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Binary};
use uuid::Uuid;

use crate::{auth::ApiKey, error::ApiError, routes::ApiTags, state::AppState};

pub struct FilesApi {
    pub state: AppState,
}

#[derive(ApiResponse)]
pub enum Download {
    /// A bulk update's items with their outcome, or a CSV export.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(Binary<Body>, #[oai(header = "Content-Disposition")] String),
    /// An XLSX export.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Xlsx(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

#[OpenApi(tag = "ApiTags::Runs")]
impl FilesApi {
    /// Download a run's result
    ///
    /// A bulk update: one CSV line per item with its outcome (`pending`, `sent`,
    /// `accepted`, `rejected`) and eMAG's message. An export: its file.
    #[oai(
        path = "/api/v1/runs/:id/result",
        method = "get",
        operation_id = "run_result"
    )]
    async fn result(&self, _auth: ApiKey, id: Path<String>) -> Result<Download, ApiError> {
        let run = self.run(&id).await?;
        match registry::output(run.kind) {
            Output::ItemOutcomes => {
                let csv = bulk_update::result_csv(&self.state.ctx.db, run.id).await?;
                let name = format!(
                    "magflow-{}-{}.csv",
                    run.kind.as_str().replace('_', "-"),
                    run.id
                );
                Ok(Download::Csv(Binary(Body::from(csv)), attachment(&name)))
            }
            Output::File => self.export_file(&run).await,
            Output::None => Err(ApiError::not_found(&format!(
                "a result file (runs of kind {} have none)",
                run.kind
            ))),
        }
    }

    /// Download an export
    ///
    /// 409 while the export has not finished; 410 once its file has passed the retention.
    #[oai(
        path = "/api/v1/exports/:run_id/file",
        method = "get",
        operation_id = "export_file"
    )]
    async fn export(&self, _auth: ApiKey, run_id: Path<String>) -> Result<Download, ApiError> {
        let run = self.run(&run_id).await?;
        if run.kind != JobKind::Export {
            return Err(ApiError::not_found("export"));
        }
        self.export_file(&run).await
    }
}

impl FilesApi {
    async fn run(&self, id: &str) -> Result<job_run::Model, ApiError> {
        let id = Uuid::parse_str(id).map_err(|_| ApiError::invalid("id", "is not a run id"))?;
        runs::find(&self.state.ctx.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))
    }

    async fn export_file(&self, run: &job_run::Model) -> Result<Download, ApiError> {
        if run.status != RunStatus::Succeeded {
            return Err(ApiError::conflict(format!(
                "the export is {}; its file exists once it has succeeded",
                run.status.as_str()
            )));
        }
        let params: ExportParams =
            serde_json::from_value(run.params.clone()).map_err(|e| ApiError::internal(&e))?;
        let format = params.format;
        let name = files::file_name(run.id, format);
        let path = files::dir(&self.state.ctx.config).join(&name);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::gone(format!(
                    "the file of this export was deleted (retention {} h); export again",
                    self.state.ctx.config.export_retention_hours
                )));
            }
            Err(e) => return Err(ApiError::internal(&e)),
        };
        let day = run.finished_at.unwrap_or(run.created_at).format("%Y-%m-%d");
        let download = format!(
            "magflow-{}-{day}-{}.{}",
            params.resource.as_str(),
            &run.id.simple().to_string()[..8],
            format.as_str()
        );
        let body = Binary(Body::from_async_read(file));
        Ok(match format {
            Format::Xlsx => Download::Xlsx(body, attachment(&download)),
            Format::Csv => Download::Csv(body, attachment(&download)),
        })
    }
}
