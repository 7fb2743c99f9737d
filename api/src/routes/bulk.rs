//! `POST /api/v1/bulk-updates`: a bulk price/stock update from a CSV file.

use jobs::bulk_update;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::{
    OpenApi,
    param::Query,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaSchema, MetaSchemaRef},
};

use crate::{
    auth::ApiKey,
    error::ApiError,
    routes::{
        ApiTags,
        runs::{Accepted, check_max_attempts},
    },
    state::AppState,
    views::{BulkPreview, RunView},
};

pub struct BulkApi {
    pub state: AppState,
}

/// A CSV file sent as the request body (`Content-Type: text/csv`).
pub struct CsvFile(pub Vec<u8>);

impl Payload for CsvFile {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: Some("binary"),
            ..MetaSchema::new("string")
        }))
    }
}

impl ParsePayload for CsvFile {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(CsvFile(Vec::<u8>::from_request(request, body).await?))
    }
}

poem_openapi::impl_apirequest_for_payload!(CsvFile,);

#[OpenApi(tag = "ApiTags::Runs")]
impl BulkApi {
    /// Bulk price/stock update from CSV
    ///
    /// Columns (header line first): `account`, `id` or `part_number`, then any of
    /// `sale_price`, `recommended_price`, `min_sale_price`, `max_sale_price`, `stock`,
    /// `handling_time`, `status`; an empty cell changes nothing. At most 100,000 lines.
    /// Every line is checked against the database first: 422 lists each bad one (line
    /// number, field, reason) and nothing is queued. `dry_run=true` answers with what
    /// would change instead.
    #[oai(
        path = "/api/v1/bulk-updates",
        method = "post",
        operation_id = "create_bulk_update"
    )]
    async fn upload(
        &self,
        auth: ApiKey,
        /// Answer with the per-item diff; store and send nothing.
        dry_run: Query<Option<bool>>,
        /// Overrides the retry policy (1 to 100 attempts).
        max_attempts: Query<Option<u32>>,
        body: CsvFile,
    ) -> Result<Accepted, ApiError> {
        let principal = auth.admin()?;
        check_max_attempts(max_attempts.0)?;
        let items = bulk_update::input::from_csv(&body.0).map_err(ApiError::bad_items)?;
        let db = &self.state.ctx.db;
        if dry_run.0.unwrap_or(false) {
            let planned = bulk_update::preview(db, &items).await?;
            return Ok(Accepted::DryRun(Json(BulkPreview::from(planned))));
        }
        let run = jobs::actions::bulk::accept(
            &self.state.ctx,
            &items,
            "csv",
            max_attempts.0,
            &principal.actor(),
        )
        .await?;
        Ok(Accepted::Accepted(Json(RunView::from(&run))))
    }
}
