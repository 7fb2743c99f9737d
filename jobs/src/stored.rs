//! Stored values no enum of this version knows. A column with a fixed set of values is a
//! Rust enum (`DeriveActiveEnum`): a row holding another name (written by a newer
//! version, or by hand) fails to load rather than being read as some default. This
//! finds such rows and names each: table, row and column, so an operator can mend them.

use entity::{
    api_key::Role,
    job_run::{ErrorCategory, JobKind, RunStatus},
};
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

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

/// The enum columns, with every name their enum knows.
fn columns() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "job_runs",
            "kind",
            JobKind::ALL.map(JobKind::as_str).to_vec(),
        ),
        (
            "job_runs",
            "status",
            RunStatus::ALL.map(RunStatus::as_str).to_vec(),
        ),
        (
            "job_runs",
            "error_category",
            ErrorCategory::ALL.map(ErrorCategory::as_str).to_vec(),
        ),
        (
            "api_keys",
            "role",
            vec![Role::Admin.as_str(), Role::Viewer.as_str()],
        ),
    ]
}

/// Every row (up to ten per column) whose enum column holds a name no enum knows.
pub async fn unknown_values<C: ConnectionTrait>(db: &C) -> Result<Vec<UnknownValue>, DbErr> {
    let mut found = Vec::new();
    for (table, column, known) in columns() {
        let select = Query::select()
            .expr_as(Expr::col(Alias::new("id")), Alias::new("row"))
            .expr_as(Expr::col(Alias::new(column)), Alias::new("value"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_not_null())
            .and_where(Expr::col(Alias::new(column)).is_not_in(known))
            .limit(PER_COLUMN)
            .to_owned();
        for row in db.query_all(&select).await? {
            found.push(UnknownValue {
                table,
                row: row.try_get::<uuid::Uuid>("", "row")?.to_string(),
                column,
                value: row.try_get("", "value")?,
            });
        }
    }
    Ok(found)
}
