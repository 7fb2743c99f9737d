//! A transaction stopped while it begins leaves no PostgreSQL session inside it.
//!
//! Writes abort such begins routinely: an offers sync begins the next group's transaction
//! ahead and drops it when it must wait for eMAG, and a cancelled run drops whatever it
//! was doing. sqlx 0.9.0 then handed the connection back to the pool still inside the
//! transaction its `BEGIN` had opened; every later statement on it ran inside that
//! transaction and kept its locks until the process ended (a sync under faults hung on
//! them). 0.9.1 rolls it back; this test fails on 0.9.0.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use tests::{Backend, Options, TestApp};
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_begin_stopped_midway_leaves_no_transaction_open() {
    let app = TestApp::spawn_with(Backend::Redis, Options::no_worker()).await;
    // One connection, so the statement after the stopped begin runs on its session.
    let mut opts = ConnectOptions::new(app.config.database_url.expose().to_owned());
    opts.max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let db = Database::connect(opts).await.expect("connect");
    let pid = backend_pid(&db).await;

    // A begin polled until its BEGIN has reached the server, then dropped with the answer
    // unread. One that answered within a poll (the server can be that quick) is rolled
    // back, and another tried.
    let deadline = Instant::now() + Duration::from_secs(30);
    'caught: loop {
        assert!(Instant::now() < deadline, "no BEGIN was caught midway");
        let mut begin = Box::pin(jobs::db::begin_write(&db));
        for _ in 0..3 {
            if futures::poll!(begin.as_mut()).is_ready() {
                continue 'caught;
            }
            let waited = Instant::now() + Duration::from_millis(500);
            while Instant::now() < waited {
                if state(&app.ctx.db, pid).await == "idle in transaction" {
                    drop(begin);
                    break 'caught;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    db.execute_unprepared("SELECT 1")
        .await
        .expect("a statement");
    assert_eq!(backend_pid(&db).await, pid, "the same session");
    assert_eq!(
        state(&app.ctx.db, pid).await,
        "idle",
        "the session is still inside the stopped transaction"
    );
    app.shutdown().await;
}

async fn backend_pid(db: &DatabaseConnection) -> i32 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_backend_pid() AS pid",
        ))
        .await
        .expect("pid")
        .expect("a row");
    row.try_get("", "pid").expect("pid")
}

/// The session's state as PostgreSQL reports it, from another connection.
async fn state(db: &DatabaseConnection, pid: i32) -> String {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT state FROM pg_stat_activity WHERE pid = $1",
            [pid.into()],
        ))
        .await
        .expect("pg_stat_activity")
        .expect("the session");
    row.try_get("", "state").expect("state")
}
