//! Refuses request bodies larger than [`MAX_BODY_BYTES`] with 413 before reading them.
//! (poem's `SizeLimit` also refuses every request without a Content-Length, GETs included.)

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};

/// A bulk update of 100,000 items, as JSON or CSV, fits with room to spare.
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

pub async fn limit<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
            .into_response());
    }
    next.call(req).await.map(IntoResponse::into_response)
}
