//! A JSON answer serialized once and sent as is, for a body many requests share (the
//! cached status report): `Json<T>` would turn it into a tree and print it again for each.
//! Documented in OpenAPI exactly as `Json<T>`.

use std::{marker::PhantomData, sync::Arc};

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::{Json, Payload},
    registry::{MetaResponses, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};

pub struct Serialized<T> {
    bytes: Arc<[u8]>,
    _of: PhantomData<fn() -> T>,
}

impl<T: ToJSON> Serialized<T> {
    pub fn new(value: &T) -> Serialized<T> {
        let text = value.to_json_string();
        Serialized {
            bytes: Arc::from(text.into_bytes()),
            _of: PhantomData,
        }
    }
}

impl<T> Serialized<T> {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<T> Clone for Serialized<T> {
    fn clone(&self) -> Self {
        Serialized {
            bytes: self.bytes.clone(),
            _of: PhantomData,
        }
    }
}

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> IntoResponse for Serialized<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.bytes.to_vec())
    }
}

impl<T: ToJSON> ApiResponse for Serialized<T> {
    fn meta() -> MetaResponses {
        <Json<T> as ApiResponse>::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
