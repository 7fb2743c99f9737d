//! One span per request, as poem's `Tracing` makes, but with the path's secrets hidden:
//! an eMAG callback URL carries the account's callback secret, and a log is no place for
//! it. At debug level (`MAGFLOW_LOG=api=debug`), like poem's own, which the default
//! filter leaves out.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

pub async fn around<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let span = tracing::debug_span!(
        "request",
        remote_addr = %req.remote_addr(),
        method = %req.method(),
        uri = %redact(&req.original_uri().to_string()),
    );
    async move {
        let started = Instant::now();
        let resp = match next.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => err.into_response(),
        };
        tracing::debug!(status = %resp.status(), duration = ?started.elapsed(), "response");
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// `/hooks/emag/{account}/{secret}/…` with the secret replaced.
pub fn redact(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("/hooks/emag/") else {
        return uri.to_owned();
    };
    let mut parts = rest.splitn(3, '/');
    let account = parts.next().unwrap_or_default();
    if parts.next().is_none() {
        return uri.to_owned();
    }
    let tail = parts.next().unwrap_or_default();
    format!("/hooks/emag/{account}/<secret>/{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_callback_secret_never_reaches_the_log() {
        assert_eq!(
            redact("/hooks/emag/main/AbC123/order?order_id=5"),
            "/hooks/emag/main/<secret>/order?order_id=5"
        );
        assert_eq!(
            redact("/hooks/emag/main/AbC123"),
            "/hooks/emag/main/<secret>/"
        );
        assert_eq!(redact("/api/v1/runs?x=1"), "/api/v1/runs?x=1");
    }
}
