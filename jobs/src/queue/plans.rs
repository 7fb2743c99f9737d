//! Planner statistics for apalis-sqlite's `Jobs` table, written once per process start
//! (docs/stack-notes.md §5.12).
//!
//! apalis acknowledges a batch of ended tasks with one `UPDATE Jobs … FROM json_each(?)
//! … WHERE Jobs.id = … AND Jobs.lock_by = ?`. With no statistics SQLite takes the
//! `lock_by` index: every task the worker ever ran (a task keeps `lock_by` once done),
//! reading the batch's JSON again for each. An acknowledgement of 32 tasks took 193 ms
//! once a worker had run 5,000; by the task id it takes 0.5 ms. The lock of started
//! tasks had the same fault through the `status` index (every waiting task, per batch).
//! `ANALYZE` would measure whatever the table holds at that moment (often nothing), so
//! the statistics are set instead: how selective each column is in a large queue.

use sea_orm::sqlx::{self, Row, SqlitePool};

/// Rows of the table the statistics describe.
const ROWS: u64 = 1_000_000;

/// Rows per distinct value of a `Jobs` column in a queue of [`ROWS`] tasks.
fn rows_per_value(column: &str) -> u64 {
    match column {
        "id" | "idempotency_key" => 1,
        "run_at" | "done_at" | "lock_at" => 10,
        "job_type" | "lock_by" => 100_000,
        "status" => 200_000,
        "attempts" => 300_000,
        "priority" => 500_000,
        _ => 1_000,
    }
}

/// One `sqlite_stat1` row: the index's rows, then the rows per distinct value of each
/// leading run of its columns (1 for the whole key of a unique index). A partial index
/// covers a tenth of the table.
fn stat(columns: &[String], unique: bool, partial: bool) -> String {
    let rows = if partial { ROWS / 10 } else { ROWS };
    let mut stat = vec![rows];
    let mut matching = rows as f64;
    for column in columns {
        matching *= rows_per_value(column) as f64 / ROWS as f64;
        stat.push((matching as u64).max(1));
    }
    if unique && let Some(last) = stat.last_mut() {
        *last = 1;
    }
    stat.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Replaces the statistics of `Jobs`' indexes. Connections read them when they load the
/// schema: call it before the pool's other connections are opened.
pub(crate) async fn pin(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    // Creates `sqlite_stat1` if it is not there yet.
    sqlx::query("ANALYZE sqlite_schema")
        .execute(&mut *conn)
        .await?;
    let indexes = sqlx::query("SELECT name, \"unique\", partial FROM pragma_index_list('Jobs')")
        .fetch_all(&mut *conn)
        .await?;
    let mut rows = Vec::new();
    for index in indexes {
        let name: String = index.try_get(0)?;
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await?;
        let unique: i64 = index.try_get(1)?;
        let partial: i64 = index.try_get(2)?;
        rows.push((name, stat(&columns, unique != 0, partial != 0)));
    }
    let mut txn = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = 'Jobs'")
        .execute(&mut *txn)
        .await?;
    for (name, stat) in rows {
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('Jobs', ?, ?)")
            .bind(name)
            .bind(stat)
            .execute(&mut *txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::{self, SqlitePool};

    use super::stat;
    use crate::{Config, queue::Queue};

    /// The plan SQLite picks for `sql` on a queue file opened as magflow opens it.
    async fn plan(pool: &SqlitePool, sql: &str) -> String {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .bind("[]")
                .bind("w")
                .fetch_all(pool)
                .await
                .unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    }

    #[tokio::test]
    async fn acknowledgements_and_locks_find_tasks_by_id() {
        let dir = std::env::temp_dir().join(format!("magflow-plans-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("queue.db").display());
        let setting = [("MAGFLOW_QUEUE_URL".to_owned(), url.clone())];
        let config = Config::from_sources(None, setting).unwrap();
        drop(Queue::connect(&config).await.unwrap());
        let pool = SqlitePool::connect(&url).await.unwrap();
        // apalis-sqlite 1.0's acknowledgement and lock (queries/task/ack.sql, lock.sql).
        let ack = plan(
            &pool,
            "WITH j AS (SELECT value ->> 'task_id' AS task_id, value ->> 'status' AS status \
             FROM json_each(?1)) UPDATE Jobs SET status = j.status FROM j \
             WHERE Jobs.id = j.task_id AND Jobs.lock_by = ?2",
        )
        .await;
        assert!(ack.contains("sqlite_autoindex_Jobs_1 (id=?)"), "{ack}");
        assert!(!ack.contains("LIdx"), "{ack}");
        let lock = plan(
            &pool,
            "UPDATE Jobs SET status = 'Running', lock_by = ?2 WHERE id IN \
             (SELECT value FROM json_each(?1)) AND (status = 'Queued' OR status = 'Pending' \
             OR (status = 'Failed' AND attempts < max_attempts))",
        )
        .await;
        assert!(lock.contains("sqlite_autoindex_Jobs_1 (id=?)"), "{lock}");
        pool.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_unique_key_matches_one_row_and_lock_by_many() {
        let id = stat(&["id".into()], true, false);
        assert_eq!(id, "1000000 1");
        let lock_by = stat(&["lock_by".into()], false, false);
        assert_eq!(lock_by, "1000000 100000");
        let pending = stat(
            &["job_type".into(), "priority".into(), "run_at".into()],
            false,
            true,
        );
        assert_eq!(pending, "100000 10000 5000 1");
    }
}
