//! Request body limits, per route, enforced before a handler reads the body: 64 MiB for
//! the two routes that take a bulk update (100,000 items as JSON or CSV fit with room to
//! spare), 1 MiB everywhere else. A declared Content-Length above the limit gets 413 at
//! once; a body without one (chunked) is read up to the limit and refused past it.
//! (poem's `SizeLimit` refuses every request without a Content-Length, GETs included.)

use poem::{Body, Endpoint, IntoResponse, Request, Response, http::StatusCode};
use tokio::io::AsyncReadExt;

/// `POST /api/v1/runs` (a bulk update's items) and `POST /api/v1/bulk-updates` (CSV).
pub const MAX_BULK_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Every other route.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// The limit of the route `path` is on.
pub fn limit_for(path: &str) -> u64 {
    match path.trim_end_matches('/') {
        "/api/v1/runs" | "/api/v1/bulk-updates" => MAX_BULK_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

fn too_large(limit: u64) -> Response {
    let size = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit / 1024)
    };
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {size}, this route's limit"),
    )
        .into_response()
}

pub async fn limit<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let limit = limit_for(req.uri().path());
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => return Ok(too_large(limit)),
        Some(_) => {}
        None if req
            .headers()
            .contains_key(poem::http::header::TRANSFER_ENCODING) =>
        {
            let mut buf = Vec::new();
            let read = req
                .take_body()
                .into_async_read()
                .take(limit + 1)
                .read_to_end(&mut buf)
                .await;
            if read.is_err() {
                return Ok((
                    StatusCode::BAD_REQUEST,
                    "the request body could not be read",
                )
                    .into_response());
            }
            if buf.len() as u64 > limit {
                return Ok(too_large(limit));
            }
            req.set_body(Body::from(buf));
        }
        None => {}
    }
    next.call(req).await.map(IntoResponse::into_response)
}
