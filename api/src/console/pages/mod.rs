//! One file per console area; each handler reads through the same `jobs` functions as
//! the API's routes and renders a template.

pub mod account_form;
pub mod accounts;
pub mod admin;
pub mod analytics;
mod analytics_view;
pub mod bulk;
pub mod data;
pub mod dead_letters;
pub mod exports;
pub mod live;
pub mod me;
pub mod notifications;
pub mod overview;
mod prelude;
pub mod queues;
pub mod runs;
pub mod schedule_fields;
pub mod schedule_form;
pub mod schedules;
pub mod sign_in;
pub mod two_factor;

use poem_openapi::types::ToJSON;
use serde_json::Value;

use super::render::{self, Frame};
use crate::views::RunView;

/// A run as the API shows it, for a template.
pub fn run_json(run: &entity::job_run::Model) -> Value {
    RunView::from(run).to_json().unwrap_or(Value::Null)
}

/// Where to go after a form: a local path only, never another site (`//host`).
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

/// A form or query field with something in it, trimmed.
pub fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The page for a store that failed to answer (logged by the caller's `what`).
pub fn unavailable(frame: &Frame, what: &str, e: &dyn std::fmt::Display) -> poem::Response {
    tracing::error!(error = %e, "{what} failed");
    render::message(
        frame,
        "error",
        "try_again",
        poem::http::StatusCode::SERVICE_UNAVAILABLE,
    )
}

/// 404: no such run, schedule, … (or an id that is not one).
pub fn not_found(frame: &Frame) -> poem::Response {
    render::message(
        frame,
        "not_found",
        "not_found_text",
        poem::http::StatusCode::NOT_FOUND,
    )
}

/// The page for an operator action that did not happen.
pub fn action_failed(frame: &Frame, e: jobs::actions::ActionError) -> poem::Response {
    use jobs::actions::ActionError;
    match e {
        ActionError::NotFound => not_found(frame),
        ActionError::Conflict(why) => refused(frame, &why),
        e => unavailable(frame, "console action", &e),
    }
}

/// 409: an action that does not apply, with the domain's reason (in the page's language).
pub fn refused(frame: &Frame, why: &str) -> poem::Response {
    let data =
        minijinja::context! { title_key => "error", text_key => "action_conflict", detail => why };
    render::page(
        "message.html",
        frame,
        data,
        poem::http::StatusCode::CONFLICT,
    )
}

/// A form with nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct Empty {}

/// A form's answer: 200, or 422 when a field was refused.
pub fn form_status<K, V>(errors: &std::collections::BTreeMap<K, V>) -> poem::http::StatusCode {
    if errors.is_empty() {
        poem::http::StatusCode::OK
    } else {
        poem::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}
