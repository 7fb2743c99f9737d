//! One file per console area; each handler reads through the same `jobs` functions as
//! the API's routes and renders a template.

pub mod live;
pub mod me;
pub mod overview;
pub mod runs;
pub mod sign_in;
pub mod two_factor;

use poem_openapi::types::ToJSON;
use serde_json::Value;

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
