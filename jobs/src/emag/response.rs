//! Reading eMAG's answers: `results` on success, otherwise an [`EmagError`] chosen from the
//! status, the envelope and the message texts.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, value::RawValue};

use super::{error::EmagError, types::Envelope};

/// Turns a response into `results` or an [`EmagError`]. A 429 body is never parsed as the
/// envelope (it has none).
pub fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Value, EmagError> {
    let code = status.as_u16();
    if code == 429 {
        return Err(EmagError::RateLimited { retry_after });
    }
    if status.is_server_error() {
        return Err(EmagError::Server { status: code });
    }
    if status.is_redirection() {
        return Err(EmagError::UnexpectedRedirect { status: code });
    }
    if code == 204 || (status.is_success() && body.is_empty()) {
        return Ok(Value::Null);
    }
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    let Ok(json) = parsed else {
        return Err(EmagError::InvalidBody {
            status: code,
            reason: "not JSON (an HTML page or a captcha?)".into(),
        });
    };
    let messages = message_list(&json);
    if let Some(auth) = auth_error(&messages) {
        return Err(auth);
    }
    match code {
        401 | 403 => {
            return Err(EmagError::BadCredentials {
                message: messages.join("; "),
            });
        }
        404 => {
            return Err(EmagError::NotFound {
                message: messages.join("; "),
            });
        }
        400..=499 => return Err(EmagError::Validation { messages }),
        _ => {}
    }
    match json {
        // Some responses come as a bare list of results.
        Value::Array(_) => Ok(json),
        Value::Object(_) => {
            let envelope: Envelope =
                serde_json::from_value(json).map_err(|e| EmagError::InvalidBody {
                    status: code,
                    reason: shape_error("the envelope", &e),
                })?;
            match envelope.is_error {
                Some(false) => Ok(envelope.results),
                Some(true) => Err(EmagError::Validation {
                    messages: envelope.message_texts(),
                }),
                // eMAG's rule: anything without `isError: false` failed.
                None => Err(EmagError::InvalidBody {
                    status: code,
                    reason: "JSON without isError".into(),
                }),
            }
        }
        _ => Err(EmagError::InvalidBody {
            status: code,
            reason: "JSON that is neither an object nor a list".into(),
        }),
    }
}

/// A plain successful read (200, `isError: false`, no message, `results` a list): its
/// items, each as its own JSON text, found without parsing them into trees. `None` for
/// anything else, which [`classify`] then reads in full: the same answer either way.
pub fn plain_items(status: StatusCode, body: &[u8]) -> Option<Vec<Box<RawValue>>> {
    #[derive(serde::Deserialize)]
    struct Plain<'a> {
        #[serde(rename = "isError")]
        is_error: bool,
        #[serde(borrow, default)]
        messages: Option<&'a RawValue>,
        #[serde(borrow, default)]
        message: Option<&'a RawValue>,
        #[serde(borrow, default)]
        errors: Option<&'a RawValue>,
        #[serde(borrow)]
        results: Vec<&'a RawValue>,
    }
    if status != StatusCode::OK {
        return None;
    }
    let plain: Plain = serde_json::from_slice(body).ok()?;
    let silent = [plain.messages, plain.message, plain.errors]
        .iter()
        .all(|m| m.is_none_or(|m| m.get() == "[]"));
    (!plain.is_error && silent).then(|| plain.results.into_iter().map(RawValue::to_owned).collect())
}

fn auth_error(messages: &[String]) -> Option<EmagError> {
    let joined = messages.join("; ");
    if joined.contains("Invalid vendor ip") {
        Some(EmagError::IpNotWhitelisted { message: joined })
    } else if joined.contains("not allowed to use this API") {
        Some(EmagError::BadCredentials { message: joined })
    } else {
        None
    }
}

/// `messages` of the envelope, or `message` / `errors[].message` of the short error bodies.
fn message_list(json: &Value) -> Vec<String> {
    let mut out = texts(json.get("messages"));
    if let Some(m) = json.get("message").and_then(Value::as_str) {
        out.push(m.to_owned());
    }
    if let Some(Value::Array(errors)) = json.get("errors") {
        for e in errors {
            let msg = e.get("message").and_then(Value::as_str).unwrap_or_default();
            match e.get("field").and_then(Value::as_str) {
                Some(field) => out.push(format!("{field}: {msg}")),
                None if !msg.is_empty() => out.push(msg.to_owned()),
                None => {}
            }
        }
    }
    out
}

pub(crate) fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .map(|m| {
                m.as_str().map_or_else(
                    || {
                        m.get("message")
                            .and_then(Value::as_str)
                            .map_or_else(|| m.to_string(), str::to_owned)
                    },
                    str::to_owned,
                )
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Why `what` does not have the documented shape, in our words: serde's own message
/// quotes the remote values it met, which are never echoed.
pub(crate) fn shape_error(what: &str, e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Data => "has fields of unexpected types or is missing some",
        _ => "is not readable JSON",
    };
    format!("{what} {kind}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classification() {
        let ok = classify(
            StatusCode::OK,
            None,
            br#"{"isError":false,"messages":[],"results":[1],"errors":[]}"#,
        );
        assert_eq!(ok, Ok(json!([1])));
        let limited = classify(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            br#"{"message":"API rate limit exceeded"}"#,
        );
        assert!(matches!(limited, Err(EmagError::RateLimited { .. })));
        let html = classify(StatusCode::OK, None, b"<html>captcha</html>");
        assert!(matches!(html, Err(EmagError::InvalidBody { .. })));
        let ip = classify(
            StatusCode::OK,
            None,
            br#"{"isError":true,"messages":["ERROR: Invalid vendor ip [1.2.3.4]"],"results":[]}"#,
        );
        assert!(matches!(ip, Err(EmagError::IpNotWhitelisted { .. })));
        let creds = classify(
            StatusCode::UNAUTHORIZED,
            None,
            br#"{"isError":true,"messages":["You are not allowed to use this API."],"results":[]}"#,
        );
        assert!(matches!(creds, Err(EmagError::BadCredentials { .. })));
        assert!(!creds.expect_err("err").is_retryable());
        let gateway = classify(StatusCode::BAD_GATEWAY, None, b"<html>502</html>");
        assert_eq!(gateway, Err(EmagError::Server { status: 502 }));
        let no_flag = classify(StatusCode::OK, None, br#"{"results":[]}"#);
        assert!(matches!(no_flag, Err(EmagError::InvalidBody { .. })));
        assert_eq!(classify(StatusCode::NO_CONTENT, None, b""), Ok(Value::Null));
    }

    #[test]
    fn only_a_plain_page_is_cut_without_parsing() {
        let texts = |body: &[u8]| {
            plain_items(StatusCode::OK, body)
                .map(|items| items.iter().map(|i| i.get().to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            texts(br#"{"isError":false,"messages":[],"results":[{"id":1, "a":"\u0103"},2],"errors":[]}"#),
            Some(vec![r#"{"id":1, "a":"\u0103"}"#.to_owned(), "2".to_owned()])
        );
        assert_eq!(texts(br#"{"isError":false,"results":[]}"#), Some(vec![]));
        // Everything else is classified in full.
        for body in [
            &br#"{"isError":true,"messages":[],"results":[]}"#[..],
            br#"{"isError":false,"messages":["ERROR: Invalid vendor ip [1.2.3.4]"],"results":[]}"#,
            br#"{"isError":false,"message":"x","results":[]}"#,
            br#"{"isError":"false","results":[]}"#,
            br#"{"isError":false,"results":{}}"#,
            br#"{"results":[]}"#,
            b"<html>captcha</html>",
        ] {
            assert_eq!(texts(body), None, "{}", String::from_utf8_lossy(body));
        }
        assert!(plain_items(StatusCode::CREATED, br#"{"isError":false,"results":[]}"#).is_none());
    }
}
