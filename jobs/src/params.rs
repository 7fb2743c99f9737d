//! Parsing and validating a job's parameters, with errors that name the field.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A parameter the API rejects with 422; `field` is a JSON path such as `params.steps`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParamError {
    pub field: String,
    pub message: String,
}

impl ParamError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ParamError {
        ParamError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A request's `params` as it arrived: the JSON text of a request body (the API), or a
/// value already in memory (a stored schedule, the command line).
#[derive(Clone, Copy, Debug)]
pub enum RawParams<'a> {
    Text(&'a str),
    Value(&'a Value),
}

impl RawParams<'_> {
    /// Deserializes into `T`, reporting the path of the first bad field. Absent (`null`)
    /// is an empty object. From text, `T` is read straight from the bytes: no
    /// `serde_json::Value` tree in between, and an unknown field stops the reading.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ParamError> {
        let empty = Value::Object(Default::default());
        match self {
            RawParams::Value(v) if v.is_null() => from(&empty),
            RawParams::Value(v) if v.is_object() => from(v),
            RawParams::Text(t) => match t.trim_start().as_bytes().first() {
                Some(b'{') => {
                    let mut json = serde_json::Deserializer::from_str(t);
                    let value = from(&mut json)?;
                    json.end()
                        .map_err(|e| ParamError::new("params", e.to_string()))?;
                    Ok(value)
                }
                Some(b'n') if t.trim() == "null" => from(&empty),
                _ => Err(not_an_object()),
            },
            RawParams::Value(_) => Err(not_an_object()),
        }
    }
}

fn not_an_object() -> ParamError {
    ParamError::new("params", "must be a JSON object")
}

/// Deserializes `params` into `T`, reporting the path of the first bad field.
pub fn parse<T: DeserializeOwned>(params: &Value) -> Result<T, ParamError> {
    RawParams::Value(params).parse()
}

fn from<'de, D, T>(d: D) -> Result<T, ParamError>
where
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
    T: serde::Deserialize<'de>,
{
    serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "params".to_owned()
        } else {
            format!("params.{path}")
        };
        let message = without_position(&e.into_inner().to_string());
        // serde names a missing field in the message, not in the path.
        match message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(missing) => ParamError::new(format!("{field}.{missing}"), "is required"),
            None => ParamError::new(field, message),
        }
    })
}

/// serde_json ends its messages with " at line L column C": noise once the field is named.
pub fn without_position(message: &str) -> String {
    match message.rsplit_once(" at line ") {
        Some((head, tail))
            if tail
                .split(" column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            head.to_owned()
        }
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "the fields are only deserialized")]
    struct P {
        steps: u32,
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "the fields are only deserialized")]
    struct Inner {
        n: u8,
    }

    #[test]
    fn names_the_bad_field() {
        let e = parse::<P>(&json!({"steps": "x"})).expect_err("bad type");
        assert_eq!(e.field, "params.steps");
        let e = parse::<P>(&json!({"steps": 1, "inner": {"n": 300}})).expect_err("overflow");
        assert_eq!(e.field, "params.inner.n");
        let e = parse::<P>(&json!({})).expect_err("missing");
        assert_eq!(e.field, "params.steps");
        assert_eq!(e.message, "is required");
        let e = parse::<P>(&json!([1])).expect_err("not an object");
        assert_eq!(e.field, "params");
    }

    #[test]
    fn text_names_the_bad_field_as_a_value_does() {
        let text = |t: &str| RawParams::Text(t).parse::<P>();
        assert_eq!(
            text(r#"{"steps": "x"}"#).expect_err("bad").field,
            "params.steps"
        );
        let e = text(r#"{"steps": 1, "inner": {"n": 300}}"#).expect_err("overflow");
        assert_eq!(e.field, "params.inner.n");
        assert!(!e.message.contains(" at line "), "{}", e.message);
        assert_eq!(text("{}").expect_err("missing").field, "params.steps");
        assert_eq!(text("null").expect_err("missing").field, "params.steps");
        assert_eq!(text(" [1]").expect_err("an array").field, "params");
        assert_eq!(text("7").expect_err("a number").field, "params");
        let e = text(r#"{"steps": 1, "other": [0, 0]}"#).expect_err("unknown");
        assert_eq!(e.field, "params.other");
        assert!(e.message.contains("other"), "{}", e.message);
        assert_eq!(text(r#"{"steps": 2}"#).expect("ok").steps, 2);
    }
}
