//! The gate every request passes before a handler sees it: who is asking, then how much
//! they may send.
//!
//! - A request that changes something (any method but GET, HEAD, OPTIONS under
//!   `/api/v1`) needs an admin key, checked here before a single body byte is read: a
//!   viewer's 64 MiB upload costs a 403 and no memory.
//! - Body limits per route: 64 MiB for the two routes that take a bulk update (100,000
//!   items as JSON or CSV fit with room to spare), 1 MiB everywhere else. They hold
//!   whatever the protocol says about length (HTTP/1.1 with a Content-Length, chunked,
//!   HTTP/2 with or without one): a declared length above the limit gets 413 at once, and
//!   every body is counted as it arrives, reading stopping at the limit with 413.
//! - Memory: the first MiB of a body is kept in memory, the rest goes to an anonymous
//!   temporary file, and only a configured number of such large bodies are taken in at
//!   once (`MAGFLOW_API_LARGE_BODIES`); the next waits a few seconds, then gets 503 with
//!   `Retry-After`. (poem's `SizeLimit` trusts Content-Length and refuses every request
//!   without one, GETs included.)

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use poem::{
    Body, Endpoint, IntoResponse, Request, Response,
    http::{Method, StatusCode, header},
};
use tokio::{
    io::{AsyncSeekExt, AsyncWriteExt},
    sync::{OwnedSemaphorePermit, Semaphore},
};

use crate::{
    auth::{self, require_admin},
    error::ApiError,
    state::AppState,
};

/// `POST /api/v1/runs` (a bulk update's items), `POST /api/v1/bulk-updates` (CSV) and
/// the console's upload of one (`POST /bulk`).
pub const MAX_BULK_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Every other route, and the part of any body kept in memory.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;
/// How long a large body waits for its turn before the client is told to come back.
const LARGE_BODY_WAIT: Duration = Duration::from_secs(5);
const RETRY_AFTER_SECS: u64 = 5;

/// The limit of the route `path` is on.
pub fn limit_for(path: &str) -> u64 {
    match path.trim_end_matches('/') {
        "/api/v1/runs" | "/api/v1/bulk-updates" | "/bulk" => MAX_BULK_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

fn too_large(limit: u64) -> Response {
    let size = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit / 1024)
    };
    closing(
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {size}, this route's limit"),
        )
            .into_response(),
    )
}

/// An answer given before the request's body was read: the server drops the connection
/// after it (the rest of the body is never read), so it says so. A client that reused
/// the connection for its next request would otherwise see it cut (HTTP/1.1; hyper
/// leaves the header out on HTTP/2, where it has no meaning).
fn closing(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    resp
}

/// The body length `req` declares (Content-Length), if any.
fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// Whether `req` comes with a body (declared or chunked).
fn has_body(req: &Request) -> bool {
    declared_length(req).is_some_and(|n| n > 0)
        || req.headers().contains_key(header::TRANSFER_ENCODING)
}

fn busy() -> Response {
    let mut resp = ApiError::unavailable(
        "too many large request bodies are being read at once; try again shortly",
    )
    .into_response();
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(RETRY_AFTER_SECS),
    );
    resp
}

/// Whether `req` is a console form (any change outside the API): checked for origin,
/// session and role before its body is read, then read under the same limits.
fn is_console_change(req: &Request) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !req.uri().path().starts_with("/api/")
}

/// Whether `req` asks to change something, so needs an admin before its body is read.
fn changes_something(req: &Request) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.uri().path().starts_with("/api/v1/")
}

pub async fn gate<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    state: AppState,
) -> poem::Result<Response> {
    let writes = changes_something(&req);
    let console_change = is_console_change(&req);
    if console_change
        && let Err(refused) = crate::console::session::check_change(&state, &mut req).await
    {
        return Ok(refused);
    }
    if writes {
        let checked = match auth::bearer_token(&req) {
            None => Err(ApiError::unauthorized()),
            Some(token) => auth::principal(&state, &req, token)
                .await
                .and_then(|p| require_admin(&p).map(|_| ())),
        };
        if let Err(e) = checked {
            let refused = e.into_response();
            return Ok(if has_body(&req) {
                closing(refused)
            } else {
                refused
            });
        }
    }
    let limit = limit_for(req.uri().path());
    if declared_length(&req).is_some_and(|n| n > limit) {
        return Ok(too_large(limit));
    }
    // A read route never reads its body, whatever arrives with it.
    if !writes && !console_change {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let (body, _permit) = match take_in(req.take_body(), limit, &state.large_bodies).await {
        Ok(taken) => taken,
        Err(Refused::TooLarge) => return Ok(too_large(limit)),
        Err(Refused::Busy) => return Ok(busy()),
        Err(Refused::Unreadable) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
                .into_response());
        }
    };
    req.set_body(body);
    // The permit is held until the handler has answered: it is the handler that turns
    // the body into items, and that is where a large body costs memory.
    let answer = next.call(req).await.map(IntoResponse::into_response);
    if console_change {
        // What the console shows next reflects the change just made.
        state.overview.clear().await;
        state.runs_page.clear().await;
    }
    answer
}

enum Refused {
    TooLarge,
    Busy,
    Unreadable,
}

/// Reads `body` up to `limit` bytes: in memory while it is small, then into a temporary
/// file under a large-body permit.
async fn take_in(
    body: Body,
    limit: u64,
    large: &Arc<Semaphore>,
) -> Result<(Body, Option<OwnedSemaphorePermit>), Refused> {
    let mut stream = body.into_bytes_stream();
    let mut memory: Vec<u8> = Vec::new();
    let mut spill: Option<(tokio::fs::File, OwnedSemaphorePermit)> = None;
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Refused::Unreadable)?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(Refused::TooLarge);
        }
        if spill.is_none() && total > MAX_BODY_BYTES {
            let permit = tokio::time::timeout(LARGE_BODY_WAIT, large.clone().acquire_owned())
                .await
                .map_err(|_| Refused::Busy)?
                .map_err(|_| Refused::Busy)?;
            let file = tempfile::tempfile().map_err(|e| {
                tracing::error!(error = %e, "cannot create a temporary file for a request body");
                Refused::Busy
            })?;
            let mut file = tokio::fs::File::from_std(file);
            file.write_all(&memory).await.map_err(|_| Refused::Busy)?;
            memory = Vec::new();
            spill = Some((file, permit));
        }
        match &mut spill {
            Some((file, _)) => file.write_all(&chunk).await.map_err(|_| Refused::Busy)?,
            None => memory.extend_from_slice(&chunk),
        }
    }
    match spill {
        None => Ok((Body::from(memory), None)),
        Some((mut file, permit)) => {
            file.flush().await.map_err(|_| Refused::Busy)?;
            file.rewind().await.map_err(|_| Refused::Busy)?;
            Ok((Body::from_async_read(file), Some(permit)))
        }
    }
}
