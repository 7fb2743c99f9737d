//! `Body<T>`: a JSON request body parsed with serde, so every error names its field.
//!
//! poem-openapi's own `Json<T>` reports "found null while parsing CreateRunRequest"
//! without saying which field; a client deserves `field: "kind"`. The OpenAPI schema is
//! still `T`'s, so the document is unchanged.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::{
    payload::{ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use jobs::params::without_position;

use crate::error::ApiError;

pub struct Body<T>(pub T);

impl<T> std::ops::Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for Body<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for Body<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        // Straight from the bytes into `T`: no `serde_json::Value` tree (several times
        // the body's size) in between.
        let not_json = |e: &serde_json::Error| {
            ApiError::bad_request(format!("the body is not valid JSON: {e}"))
        };
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            use serde_json::error::Category;
            if matches!(
                e.inner().classify(),
                Category::Syntax | Category::Eof | Category::Io
            ) {
                return not_json(e.inner());
            }
            let path = e.path().to_string();
            let message = without_position(&e.inner().to_string());
            // serde names a missing field in its message, not in the path.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next());
            let field = match (missing, path.as_str()) {
                (Some(m), ".") => m.to_owned(),
                (Some(m), p) => format!("{p}.{m}"),
                (None, p) => p.to_owned(),
            };
            let message = if missing.is_some() {
                "is required".to_owned()
            } else {
                message
            };
            ApiError::invalid(field, message)
        })?;
        json.end().map_err(|e| not_json(&e))?;
        Ok(Body(value))
    }
}

/// For an optional field of a request body: absent is `None` (with `#[serde(default)]`),
/// but `null` is refused like any other value of the wrong type, as the OpenAPI document
/// (optional, not nullable) says.
pub fn not_null<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

poem_openapi::impl_apirequest_for_payload!(Body<T>, T: Type + DeserializeOwned);
