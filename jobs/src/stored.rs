//! Stored values no enum of this version knows. A column with a fixed set of values is a
//! Rust enum (`DeriveActiveEnum`): a row holding another name (written by a newer
//! version, or by hand) fails to load rather than being read as some default. This
//! finds such rows and names each: table, row and column, so an operator can mend them.

use entity::{
    api_key::Role,
    audit_log::Action,
    bulk_item::ItemState,
    console_session::Stage,
    emag_account::{AccountKind, Platform},
    job_run::{ErrorCategory, JobKind, RunStatus},
    notification_subscription::{Locale, NotifyOn},
    run_event::Level,
    schedule::{Misfire, Overlap},
    schedule_fire::FireOutcome,
    user::Theme,
};
use sea_orm::{
    ConnectionTrait, DbErr, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

/// One stored value that no enum knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{table} row {row}: column {column} holds {value:?}, which this version does not know")]
pub struct UnknownValue {
    pub table: &'static str,
    pub row: String,
    pub column: &'static str,
    pub value: String,
}

/// Rows shown per column: enough to see what is wrong.
const PER_COLUMN: u64 = 10;

/// How a table's rows are named: its key columns and their types.
#[derive(Clone, Copy, Debug)]
enum Key {
    Uuid(&'static str),
    Int(&'static str),
    UuidInt(&'static str, &'static str),
    UuidTime(&'static str, &'static str),
    /// A text key that is a secret's hash (sessions): shown shortened.
    Text(&'static str),
}

impl Key {
    fn select(self, select: &mut SelectStatement) {
        let (a, b) = match self {
            Key::Uuid(a) | Key::Int(a) | Key::Text(a) => (a, None),
            Key::UuidInt(a, b) | Key::UuidTime(a, b) => (a, Some(b)),
        };
        select.expr_as(Expr::col(Alias::new(a)), Alias::new("key_a"));
        if let Some(b) = b {
            select.expr_as(Expr::col(Alias::new(b)), Alias::new("key_b"));
        }
    }

    fn read(self, row: &QueryResult) -> Result<String, DbErr> {
        Ok(match self {
            Key::Uuid(_) => row.try_get::<Uuid>("", "key_a")?.to_string(),
            Key::Int(_) => row.try_get::<i64>("", "key_a")?.to_string(),
            Key::Text(a) => {
                let key = row.try_get::<String>("", "key_a")?;
                format!("{a}={}…", key.get(..12).unwrap_or(&key))
            }
            Key::UuidInt(a, b) => format!(
                "{a}={} {b}={}",
                row.try_get::<Uuid>("", "key_a")?,
                row.try_get::<i32>("", "key_b")?
            ),
            Key::UuidTime(a, b) => format!(
                "{a}={} {b}={}",
                row.try_get::<Uuid>("", "key_a")?,
                row.try_get::<chrono::DateTime<chrono::Utc>>("", "key_b")?
                    .to_rfc3339()
            ),
        })
    }
}

/// The enum columns: table, how its rows are named, column, and every name its enum knows.
fn columns() -> Vec<(&'static str, Key, &'static str, Vec<&'static str>)> {
    let runs = ("job_runs", Key::Uuid("id"));
    let fires = ("schedule_fires", Key::UuidTime("schedule_id", "fire_at"));
    let accounts = ("emag_accounts", Key::Uuid("id"));
    let schedules = ("schedules", Key::Uuid("id"));
    let users = ("users", Key::Uuid("id"));
    vec![
        (
            runs.0,
            runs.1,
            "kind",
            JobKind::ALL.map(JobKind::as_str).to_vec(),
        ),
        (
            runs.0,
            runs.1,
            "status",
            RunStatus::ALL.map(RunStatus::as_str).to_vec(),
        ),
        (
            runs.0,
            runs.1,
            "error_category",
            ErrorCategory::ALL.map(ErrorCategory::as_str).to_vec(),
        ),
        (
            "api_keys",
            Key::Uuid("id"),
            "role",
            vec![Role::Admin.as_str(), Role::Viewer.as_str()],
        ),
        ("run_events", Key::Int("id"), "level", Level::names()),
        ("audit_log", Key::Int("id"), "action", Action::names()),
        (
            "bulk_items",
            Key::UuidInt("run_id", "seq"),
            "state",
            ItemState::names(),
        ),
        (fires.0, fires.1, "outcome", FireOutcome::names()),
        (
            "notification_subscriptions",
            Key::Uuid("id"),
            "on",
            NotifyOn::names(),
        ),
        (
            "notification_subscriptions",
            Key::Uuid("id"),
            "locale",
            Locale::names(),
        ),
        (accounts.0, accounts.1, "kind", AccountKind::names()),
        (accounts.0, accounts.1, "platform", Platform::names()),
        (schedules.0, schedules.1, "overlap", Overlap::names()),
        (schedules.0, schedules.1, "misfire", Misfire::names()),
        (
            users.0,
            users.1,
            "role",
            vec![Role::Admin.as_str(), Role::Viewer.as_str()],
        ),
        (users.0, users.1, "locale", Locale::names()),
        (users.0, users.1, "theme", Theme::names()),
        ("console_sessions", Key::Text("id"), "stage", Stage::names()),
    ]
}

/// Every enum column: table, column, and the names its enum knows.
pub fn enum_columns() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    columns()
        .into_iter()
        .map(|(table, _, column, known)| (table, column, known))
        .collect()
}

/// Every row (up to ten per column) whose enum column holds a name no enum knows.
pub async fn unknown_values<C: ConnectionTrait>(db: &C) -> Result<Vec<UnknownValue>, DbErr> {
    let mut found = Vec::new();
    for (table, key, column, known) in columns() {
        let mut select = Query::select();
        key.select(&mut select);
        select
            .expr_as(Expr::col(Alias::new(column)), Alias::new("value"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_not_null())
            .and_where(Expr::col(Alias::new(column)).is_not_in(known))
            .limit(PER_COLUMN);
        for row in db.query_all(&select).await? {
            found.push(UnknownValue {
                table,
                row: key.read(&row)?,
                column,
                value: row.try_get("", "value")?,
            });
        }
    }
    Ok(found)
}
