//! Downloads: a bulk update's outcome per item and an export's file.

use entity::job_run;
use jobs::{
    JobKind,
    downloads::{self, Content, DownloadError},
    runs,
};
use poem::Body;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::Path,
    payload::{Binary, Json},
};
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
    /// A report (`application/pdf`).
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(Binary<Body>, #[oai(header = "Content-Disposition")] String),
    // poem-openapi documents one content type per status, the last variant's: this one.
    /// An XLSX export; the same status answers a CSV (`text/csv`) or a report
    /// (`application/pdf`), as `Content-Type` says.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Xlsx(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

impl From<downloads::Download> for Download {
    fn from(d: downloads::Download) -> Self {
        let body = Binary(match d.content {
            Content::Bytes(bytes) => Body::from(bytes),
            Content::File(file) => Body::from_async_read(file),
        });
        let disposition = format!("attachment; filename=\"{}\"", d.name);
        if d.content_type == downloads::XLSX {
            Download::Xlsx(body, disposition)
        } else if d.content_type == downloads::PDF {
            Download::Pdf(body, disposition)
        } else {
            Download::Csv(body, disposition)
        }
    }
}

impl From<DownloadError> for ApiError {
    fn from(e: DownloadError) -> Self {
        match e {
            DownloadError::NoResult(_) => ApiError::not_found(&format!("a result file ({e})")),
            DownloadError::NotFinished(_) => ApiError::conflict(e.to_string()),
            DownloadError::Gone(_) => ApiError::gone(e.to_string()),
            DownloadError::Db(db) => db.into(),
            e => ApiError::internal(&e),
        }
    }
}

/// The columns an export can write, per resource, in their default order.
#[derive(Object, Debug)]
pub struct ExportColumns {
    pub offers: Vec<String>,
    pub orders: Vec<String>,
    pub runs: Vec<String>,
    /// The daily history: orders per account, local day and status.
    pub sales: Vec<String>,
    /// The daily history: units and revenue per account, local day, product and status.
    pub product_sales: Vec<String>,
}

#[OpenApi(tag = "ApiTags::Runs")]
impl FilesApi {
    /// Columns an export can write
    ///
    /// Per resource, every column in the order an export writes them by default. An
    /// export's `columns` parameter picks some of them, in its own order.
    #[oai(
        path = "/api/v1/exports/columns",
        method = "get",
        operation_id = "export_columns"
    )]
    async fn columns(&self, _auth: ApiKey) -> Result<Json<ExportColumns>, ApiError> {
        use jobs::export::{Resource, columns};
        let names = |r| columns(r).iter().map(|c| (*c).to_owned()).collect();
        Ok(Json(ExportColumns {
            offers: names(Resource::Offers),
            orders: names(Resource::Orders),
            runs: names(Resource::Runs),
            sales: names(Resource::Sales),
            product_sales: names(Resource::ProductSales),
        }))
    }

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
        Ok(downloads::result(&self.state.ctx, &run).await?.into())
    }

    /// Download an export or a report
    ///
    /// 409 while the export has not finished; 410 once its file has passed the retention.
    #[oai(
        path = "/api/v1/exports/:run_id/file",
        method = "get",
        operation_id = "export_file"
    )]
    async fn export(&self, _auth: ApiKey, run_id: Path<String>) -> Result<Download, ApiError> {
        let run = self.run(&run_id).await?;
        if !matches!(run.kind, JobKind::Export | JobKind::Report) {
            return Err(ApiError::not_found("export"));
        }
        Ok(downloads::export_file(&self.state.ctx, &run).await?.into())
    }
}

impl FilesApi {
    async fn run(&self, id: &str) -> Result<job_run::Model, ApiError> {
        let id = Uuid::parse_str(id).map_err(|_| ApiError::invalid("id", "is not a run id"))?;
        runs::find(&self.state.ctx.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))
    }
}
