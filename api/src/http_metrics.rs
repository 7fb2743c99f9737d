//! Request counts and latency by route and status. The route label is the OpenAPI
//! operation id (a fixed set), never the raw path, so label cardinality stays bounded.

use std::time::Instant;

use jobs::metrics::{HTTP_DURATION, HTTP_REQUESTS};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;

pub async fn record<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let route = match resp.data::<OperationId>() {
        Some(op) => op.0.to_owned(),
        None if path == "/metrics" => "metrics".to_owned(),
        None if path.starts_with("/docs") => "docs".to_owned(),
        None if path == "/api/openapi.json" => "openapi".to_owned(),
        None => "unmatched".to_owned(),
    };
    let status = resp.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status.clone()).increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method, "status" => status)
        .record(started.elapsed().as_secs_f64());
    Ok(resp)
}
