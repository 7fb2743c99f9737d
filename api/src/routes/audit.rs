//! `/api/v1/audit`: the audit log (admin only), newest first, filterable.

use chrono::{DateTime, Utc};
use entity::audit_log::Action;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use crate::{auth::ApiKey, enums::AuditAction, error::ApiError, routes::ApiTags, state::AppState};

/// The actions a filter names, or 422 naming every action.
fn actions(given: &str) -> Result<Vec<Action>, ApiError> {
    let matching = jobs::audit::actions_named(given);
    if matching.is_empty() {
        return Err(ApiError::invalid(
            "action",
            format!(
                "no action is or starts with {given:?}; actions: {}",
                Action::names().join(", ")
            ),
        ));
    }
    Ok(matching)
}

pub struct AuditApi {
    pub state: AppState,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `key:NAME`, or the command that acted (`magflow run`).
    pub actor: String,
    pub action: AuditAction,
    /// `run:ID`, `schedule:ID`, …
    pub target: String,
    pub details: Option<serde_json::Value>,
}

#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<i64>,
}

#[OpenApi(tag = "ApiTags::Keys")]
impl AuditApi {
    /// Read the audit log
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per query parameter is how poem-openapi documents them"
    )]
    #[oai(path = "/api/v1/audit", method = "get", operation_id = "list_audit")]
    async fn list(
        &self,
        auth: ApiKey,
        /// Only this actor (`key:NAME`).
        actor: Query<Option<String>>,
        /// Only this action, or actions starting with it when it ends in `.` (`run.`).
        action: Query<Option<String>>,
        /// Only this target (`run:ID`).
        target: Query<Option<String>>,
        /// Only entries at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Only entries before this time.
        until: Query<Option<DateTime<Utc>>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<i64>>,
        /// Page size, 1 to 500 (default 100).
        limit: Query<Option<u64>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        auth.admin()?;
        let limit = limit.0.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be between 1 and 500"));
        }
        let filter = jobs::audit::AuditFilter {
            actor: actor.0,
            actions: action.0.as_deref().map(actions).transpose()?,
            target: target.0,
            since: since.0,
            until: until.0,
        };
        let rows = jobs::audit::list(&self.state.ctx.db, &filter, cursor.0, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        let items: Vec<AuditEntry> = rows
            .into_iter()
            .take(limit as usize)
            .map(|a| AuditEntry {
                id: a.id,
                at: a.at,
                actor: a.actor,
                action: a.action.into(),
                target: a.target,
                details: a.details,
            })
            .collect();
        let next_cursor = if more {
            items.last().map(|a| a.id)
        } else {
            None
        };
        Ok(Json(AuditPage { items, next_cursor }))
    }
}
