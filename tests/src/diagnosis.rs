//! What a test that waited in vain prints: enough to tell a hang from a slow run.

use std::{future::Future, time::Duration};

use uuid::Uuid;

use crate::{Backend, TestApp};

impl TestApp {
    /// What a run that did not finish was doing: its children and the last lines of
    /// each one's log, the queues' status, and on PostgreSQL the sessions of this app's
    /// database that were not idle, with the locks they waited for. A part that does not
    /// answer within a few seconds (a hang may be the app's pool run dry, or its API
    /// stuck) is left out, not waited for.
    pub(crate) async fn diagnosis(&self, id: Uuid) -> String {
        use sea_orm::{ConnectionTrait, Statement};
        let mut out = String::new();
        let children = within(
            self.client
                .get(&format!("/api/v1/runs?parent_id={id}"), Some(&self.viewer)),
        )
        .await
        .map(|(_, page)| page)
        .unwrap_or_default();
        let mut ids = vec![id];
        for child in children["items"].as_array().into_iter().flatten() {
            out += &format!(
                "child {} {} {}: {} (attempt {}) {}\n",
                child["id"],
                child["account"],
                child["params"]["resource"],
                child["status"],
                child["attempt"],
                child["progress"]
            );
            ids.extend(child["id"].as_str().and_then(|s| Uuid::parse_str(s).ok()));
        }
        for run in ids {
            let events = within(jobs::runs::events(&self.ctx.db, run, 0, 10_000))
                .await
                .and_then(Result::ok)
                .unwrap_or_default();
            let from = events.len().saturating_sub(15);
            for e in &events[from..] {
                out += &format!("{run} log: {}\n", e.message);
            }
        }
        if let Some((_, status)) =
            within(self.client.get("/api/v1/status", Some(&self.viewer))).await
        {
            out += &format!("status: {status}\n");
        }
        if self.backend == Backend::Redis {
            let sql = "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, \
                       (now() - a.xact_start)::text AS xact, left(a.query, 200) AS query, \
                       (SELECT string_agg(l.locktype || ' ' || l.mode, ', ') FROM pg_locks l \
                        WHERE l.pid = a.pid AND NOT l.granted) AS waits_for \
                       FROM pg_stat_activity a WHERE a.datname = current_database() \
                       AND a.pid <> pg_backend_pid() AND a.state <> 'idle'";
            // On a connection of its own, not from the app's pool.
            let Some(Ok(db)) = within(sea_orm::Database::connect(
                self.config.database_url.expose(),
            ))
            .await
            else {
                return out + "(no connection for pg_stat_activity)\n";
            };
            let rows =
                within(db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)))
                    .await
                    .and_then(Result::ok);
            for row in rows.into_iter().flatten() {
                let cols = [
                    "state",
                    "xact",
                    "wait_event_type",
                    "wait_event",
                    "query",
                    "waits_for",
                ];
                let pid: i32 = row.try_get("", "pid").unwrap_or_default();
                out += &format!("pg {pid}:");
                for col in cols {
                    let v: Option<String> = row.try_get("", col).unwrap_or_default();
                    out += &format!(" {col}={v:?}");
                }
                out += "\n";
            }
        }
        out
    }
}

/// `part`, if it answers within 3 s.
async fn within<T>(part: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(Duration::from_secs(3), part)
        .await
        .ok()
}
