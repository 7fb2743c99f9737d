//! Database connections (SQLite file or PostgreSQL) and migrations.

use std::{path::Path, str::FromStr, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use crate::{config::Config, error::SetupError};

/// Connects to `MAGFLOW_DATABASE_URL`, failing with one line that names the setting.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, SetupError> {
    let url = &config.database_url;
    match url.scheme() {
        "sqlite" => {
            let pool = sqlite_pool(url.expose(), "MAGFLOW_DATABASE_URL").await?;
            Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
        }
        "postgres" | "postgresql" => {
            let mut opts = ConnectOptions::new(url.expose().to_owned());
            opts.max_connections(16)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(10))
                .acquire_timeout(Duration::from_secs(15))
                // Statement logs would repeat every progress write; keep them off.
                .sqlx_logging(false);
            Database::connect(opts)
                .await
                .map_err(|e| SetupError::Unreachable {
                    setting: "MAGFLOW_DATABASE_URL",
                    target: url.to_string(),
                    reason: redact(&e.to_string(), url.expose()),
                })
        }
        other => Err(SetupError::Config(format!(
            "MAGFLOW_DATABASE_URL: unsupported scheme '{other}'"
        ))),
    }
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), SetupError> {
    Migrator::up(db, None)
        .await
        .map_err(|e| SetupError::Migrate(e.to_string()))
}

/// A pool on a SQLite file with the settings magflow relies on: WAL so readers never
/// block the writer, a busy timeout instead of instant "database is locked", and one
/// explicit `synchronous` level on every connection (docs/stack-notes.md §5.9).
pub(crate) async fn sqlite_pool(
    url: &str,
    setting: &'static str,
) -> Result<SqlitePool, SetupError> {
    let bad = |reason: String| SetupError::Unreachable {
        setting,
        target: url.to_owned(),
        reason,
    };
    ensure_parent_dir(url).map_err(|e| bad(format!("cannot create its folder: {e}")))?;
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| SetupError::Config(format!("{setting}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(15))
        .foreign_keys(true)
        // Each connection's page cache may reach 2 MiB by default, and a process has the
        // data's and the queue's 8 connections each. 512 KiB still holds a page of offers
        // and the indexes' upper levels (bench sync --backend sqlite: no slower).
        .pragma("cache_size", "-512");
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(opts)
        .await
        .map_err(|e| bad(e.to_string()))
}

/// Drivers sometimes echo the URL in their errors; never let the password through.
fn redact(message: &str, url: &str) -> String {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(pw) if !pw.is_empty() => message.replace(&pw, "***"),
        _ => message.to_owned(),
    }
}

/// Creates the folder of a `sqlite://` URL's file if needed.
fn ensure_parent_dir(url: &str) -> std::io::Result<()> {
    match sqlite_file(url).as_deref().and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// The file of a `sqlite://` URL; `None` for an in-memory database.
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// A transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`): a deferred transaction that reads and then writes fails at once with
/// "database is locked" when another writer committed in between, whatever the busy
/// timeout. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
