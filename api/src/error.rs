//! One JSON error shape for every failure: `{"code", "message", "field"?}`.
//!
//! Handlers return [`ApiError`]; [`json_errors`] rewrites whatever else poem or
//! poem-openapi produce (bad JSON, bad parameters, missing auth, unknown routes) into the
//! same shape. Internal errors are logged with their cause and returned without it.

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};

#[derive(Object, Clone, Debug, PartialEq)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorBody {
    /// Machine-readable: `unauthorized`, `forbidden`, `not_found`, `validation_failed`, …
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field at fault, as a JSON path (`params.steps`), when there is one.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// With `conflict`: the active run that blocks this request.
    #[oai(skip_serializing_if_is_none)]
    pub run_id: Option<String>,
    /// With a bulk update's `validation_failed`: every bad item.
    #[oai(skip_serializing_if_is_none)]
    pub items: Option<Vec<ItemProblem>>,
}

/// One bad item of a bulk update.
#[derive(Object, Clone, Debug, PartialEq)]
pub struct ItemProblem {
    /// The CSV line (the header is line 1) or the item's position in `items`, from 1.
    pub row: u32,
    pub field: String,
    pub reason: String,
}

#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// Malformed request.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No key, or an unknown or revoked key.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The key's role may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with the current state.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// What was asked for existed once and is gone (e.g. an export past its retention).
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// Well-formed, but a field is invalid.
    /// The body is larger than the route's limit (64 MiB for bulk updates, 1 MiB
    /// elsewhere). Answered before the handler.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body's `Content-Type` is missing or not the one the route takes.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests of a kind (failed authentications, streams): try again after
    /// `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u32),
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database or the queue is unreachable.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>, field: Option<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code: code.to_owned(),
        message: message.into(),
        field,
        run_id: None,
        items: None,
    })
}

impl ApiError {
    /// The status and body it answers with, for a result inside a larger answer (one
    /// item of a batch).
    pub fn into_parts(self) -> (u16, ErrorBody) {
        let (status, Json(body)) = match self {
            ApiError::BadRequest(b) => (400, b),
            ApiError::Unauthorized(b) => (401, b),
            ApiError::Forbidden(b) => (403, b),
            ApiError::NotFound(b) => (404, b),
            ApiError::Conflict(b) => (409, b),
            ApiError::Gone(b) => (410, b),
            ApiError::PayloadTooLarge(b) => (413, b),
            ApiError::UnsupportedMediaType(b) => (415, b),
            ApiError::Unprocessable(b) => (422, b),
            ApiError::TooManyRequests(b, _) => (429, b),
            ApiError::Internal(b) => (500, b),
            ApiError::Unavailable(b) => (503, b),
        };
        (status, body)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(body("bad_request", message, None))
    }

    pub fn bad_field(field: &str, message: impl Into<String>) -> ApiError {
        let message = format!("{field}: {}", message.into());
        ApiError::BadRequest(body("bad_request", message, Some(field.to_owned())))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::Unauthorized(body(
            "unauthorized",
            "a valid API key is required (Authorization: Bearer <key>)",
            None,
        ))
    }

    pub fn forbidden() -> ApiError {
        ApiError::Forbidden(body("forbidden", "this needs an admin key", None))
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(body("not_found", format!("{what} not found"), None))
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::Conflict(body("conflict", message, None))
    }

    pub fn gone(message: impl Into<String>) -> ApiError {
        ApiError::Gone(body("gone", message, None))
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let field = field.into();
        let message = format!("{field}: {}", message.into());
        ApiError::Unprocessable(body("validation_failed", message, Some(field)))
    }

    /// 422 naming every bad item of a bulk update.
    pub fn bad_items(problems: Vec<jobs::bulk_update::Problem>) -> ApiError {
        let first = problems
            .first()
            .map(|p| format!(": row {} {}: {}", p.row, p.field, p.reason));
        let message = format!(
            "{} items cannot be sent{}; nothing was queued",
            problems.len(),
            first.unwrap_or_default()
        );
        let mut body = body("validation_failed", message, Some("items".into()));
        body.0.items = Some(
            problems
                .into_iter()
                .map(|p| ItemProblem {
                    row: p.row,
                    field: p.field,
                    reason: p.reason,
                })
                .collect(),
        );
        ApiError::Unprocessable(body)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after_s: u64) -> ApiError {
        ApiError::TooManyRequests(
            body("too_many_requests", message, None),
            u32::try_from(retry_after_s).unwrap_or(u32::MAX),
        )
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::Unavailable(body("unavailable", message, None))
    }

    /// Logs `cause` with its chain; the caller sees only that something failed inside.
    pub fn internal(cause: &dyn std::error::Error) -> ApiError {
        tracing::error!(error.message = %cause, error.cause_chain = ?cause, "request failed");
        ApiError::Internal(body("internal", "internal error; see the server log", None))
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::unavailable("the database is unavailable; try again shortly")
            }
            // A column's enum met a name it does not know (see jobs::stored): an error,
            // never a default.
            sea_orm::DbErr::Type(what) if what.starts_with("unexpected value for") => {
                tracing::error!(error = %what, "a stored value is not one this version knows");
                ApiError::Internal(body(
                    "unknown_stored_value",
                    format!(
                        "a stored value is not one this version knows ({what}); magflow names the rows in its log when it starts"
                    ),
                    None,
                ))
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<jobs::submit::SubmitError> for ApiError {
    fn from(e: jobs::submit::SubmitError) -> Self {
        use jobs::submit::SubmitError;
        match e {
            SubmitError::Invalid(p) => ApiError::invalid(p.field, p.message),
            SubmitError::Conflict { run_id, .. } => {
                let mut body = body("conflict", e.to_string(), None);
                body.0.run_id = Some(run_id.to_string());
                ApiError::Conflict(body)
            }
            SubmitError::Items(problems) => ApiError::bad_items(problems),
            SubmitError::Runs(r) => r.into(),
        }
    }
}

impl From<jobs::actions::ActionError> for ApiError {
    fn from(e: jobs::actions::ActionError) -> Self {
        use jobs::actions::ActionError;
        match e {
            ActionError::NotFound => ApiError::not_found("run"),
            ActionError::Conflict(message) => ApiError::conflict(message),
            ActionError::Runs(r) => r.into(),
            ActionError::Db(db) => db.into(),
        }
    }
}

impl From<jobs::error::RunsError> for ApiError {
    fn from(e: jobs::error::RunsError) -> Self {
        match e {
            jobs::error::RunsError::Db(db) => db.into(),
            jobs::error::RunsError::Queue(q) => {
                tracing::warn!(error = %q, "queue unavailable");
                ApiError::unavailable("the queue is unavailable; the run was not started")
            }
            other => ApiError::internal(&other),
        }
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        410 => "gone",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "too_many_requests",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// poem-openapi names the bad parameter or field in its messages; pull it out.
fn field_in(message: &str) -> Option<String> {
    for marker in ["parameter `", "field `", "query `", "path `", "header `"] {
        if let Some(rest) = message.split(marker).nth(1) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

/// Middleware: any error response that is not already JSON becomes the JSON error shape.
pub async fn json_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(resp);
    }
    let content_type = resp
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // A console page answers with its own HTML.
    if content_type.starts_with("text/html") {
        return Ok(resp);
    }
    let is_json = resp
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(resp);
    }
    let (parts, body) = resp.into_parts();
    let text = body.into_string().await.unwrap_or_default();
    let message = if status.is_server_error() {
        // Never pass an unexpected internal message through.
        "internal error; see the server log".to_owned()
    } else if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.trim().to_owned()
    };
    let field = field_in(&message);
    // The shape of [`ErrorBody`]: `field` is left out, not null, when there is none.
    let mut json = serde_json::json!({ "code": code_for(status), "message": message });
    if let Some(field) = field {
        json["field"] = serde_json::Value::String(field);
    }
    let mut out = Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json.to_string());
    for (name, value) in parts.headers.iter() {
        if name != poem::http::header::CONTENT_TYPE && name != poem::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(out)
}
