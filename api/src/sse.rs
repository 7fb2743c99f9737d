//! A Server-Sent Events response documented as what travels: one event (`event`, `data`,
//! `id`) per message, its `data` a [`StreamMessage`] as JSON. poem-openapi's own
//! `EventStream` documents an array of messages, which no client receives; a checker that
//! reads the document (schemathesis) compares each event with it and finds it wrong.

use futures::stream::BoxStream;
use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::{EventStream, Payload},
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry},
    types::Type,
};

use crate::views::StreamMessage;

pub struct Sse(pub EventStream<BoxStream<'static, StreamMessage>>);

fn text(description: &'static str) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(description),
        ..MetaSchema::new("string")
    }))
}

/// The event's text is a `StreamMessage` as JSON. OpenAPI 3.0 cannot say "a string that
/// holds this schema"; naming both keeps the message's schema in the document.
fn data() -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some("The message: a `StreamMessage`, as JSON text."),
        any_of: vec![
            MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
            StreamMessage::schema_ref(),
        ],
        ..MetaSchema::ANY
    }))
}

impl Payload for Sse {
    const CONTENT_TYPE: &'static str = "text/event-stream";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("One Server-Sent Event per message."),
            required: vec!["data"],
            properties: vec![
                (
                    "event",
                    text("The message's `type`: `progress`, `log` or `end`."),
                ),
                ("data", data()),
                ("id", text("Absent: a reconnecting client starts afresh.")),
            ],
            ..MetaSchema::new("object")
        }))
    }

    fn register(registry: &mut Registry) {
        StreamMessage::register(registry);
    }
}

impl IntoResponse for Sse {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl ApiResponse for Sse {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The run's stream of messages.",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        StreamMessage::register(registry);
    }
}
