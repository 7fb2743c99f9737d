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

/// Deserializes `params` into `T`, reporting the path of the first bad field.
pub fn parse<T: DeserializeOwned>(params: &Value) -> Result<T, ParamError> {
    let value = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params.clone()
    };
    if !value.is_object() {
        return Err(ParamError::new("params", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "params".to_owned()
        } else {
            format!("params.{path}")
        };
        let message = e.into_inner().to_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        steps: u32,
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
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
}
