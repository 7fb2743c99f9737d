//! The two queue backends behind one enqueue API: apalis-redis for production, apalis-sqlite
//! for the embedded default. Workers build their apalis storages from here too.

mod plans;

use std::{path::PathBuf, time::Duration};

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::{SqlitePool, SqliteStorage};
use serde_json::Value;

use crate::{
    config::{Config, SecretUrl},
    error::{QueueError, SetupError},
    kind::JobKind,
    task::RunTask,
};

#[derive(Clone)]
pub struct Queue {
    backend: Backend,
    prefix: String,
    /// How long apalis waits between heartbeats; orphans are re-queued after 3 misses.
    heartbeat: Duration,
}

#[derive(Clone)]
enum Backend {
    /// The connection every command shares, and the client that opens the wake-up
    /// subscription (a connection of its own).
    Redis(ConnectionManager, redis::Client),
    /// The pool, and the queue file that wake-ups watch (`None` in memory).
    Sqlite(SqlitePool, Option<PathBuf>),
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("backend", &self.backend_name())
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Queue {
    pub async fn connect(config: &Config) -> Result<Queue, SetupError> {
        let url: &SecretUrl = &config.queue_url;
        let unreachable = |reason: String| SetupError::Unreachable {
            setting: "MAGFLOW_QUEUE_URL",
            target: url.to_string(),
            reason,
        };
        let backend = match url.scheme() {
            "redis" | "rediss" => {
                let conn = tokio::time::timeout(
                    Duration::from_secs(10),
                    apalis_redis::connect(url.expose()),
                )
                .await
                .map_err(|_| unreachable("timed out after 10 s".into()))?
                .map_err(|e| unreachable(e.to_string()))?;
                let client =
                    redis::Client::open(url.expose()).map_err(|e| unreachable(e.to_string()))?;
                Backend::Redis(conn, client)
            }
            "sqlite" => {
                let setup = crate::db::sqlite_pool(url.expose(), "MAGFLOW_QUEUE_URL").await?;
                SqliteStorage::setup(&setup)
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                plans::pin(&setup)
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                // Connections read the statistics with the schema: the workers' are new.
                setup.close().await;
                let pool = crate::db::sqlite_pool(url.expose(), "MAGFLOW_QUEUE_URL").await?;
                // apalis' setup turns synchronous off on one connection only (docs/stack-notes.md §5.9).
                Backend::Sqlite(pool, crate::db::sqlite_file(url.expose()))
            }
            other => {
                return Err(SetupError::Config(format!(
                    "MAGFLOW_QUEUE_URL: unsupported scheme '{other}'"
                )));
            }
        };
        Ok(Queue {
            backend,
            prefix: config.queue_prefix.clone(),
            heartbeat: Duration::from_secs(2),
        })
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Redis(..) => "redis",
            Backend::Sqlite(..) => "sqlite",
        }
    }

    /// The Redis connection, when the queue is Redis (the rate limit shares it).
    pub fn redis_connection(&self) -> Option<ConnectionManager> {
        match &self.backend {
            Backend::Redis(conn, _) => Some(conn.clone()),
            Backend::Sqlite(..) => None,
        }
    }

    /// Where this queue's pushes are announced, for [`crate::wake::Wakeups::listen`].
    pub fn wake_source(&self) -> crate::wake::Source {
        match &self.backend {
            Backend::Redis(_, client) => crate::wake::Source::Redis {
                client: client.clone(),
                prefix: self.prefix.clone(),
            },
            Backend::Sqlite(_, Some(file)) => crate::wake::Source::File(file.clone()),
            Backend::Sqlite(_, None) => crate::wake::Source::None,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>.<kind>`: no colons, which apalis-redis cannot route (docs/stack-notes.md §5.4).
    pub fn queue_name(&self, kind: JobKind) -> String {
        format!("{}.{}", self.prefix, kind.as_str())
    }

    pub fn redis_storage(&self, kind: JobKind) -> Option<RedisStorage<Value>> {
        self.redis_storage_fetching(kind, 1)
    }

    /// [`Queue::redis_storage`] whose fetch takes up to `batch` tasks in one round trip
    /// (see [`crate::registry::fetch_batch`]).
    pub fn redis_storage_fetching(
        &self,
        kind: JobKind,
        batch: usize,
    ) -> Option<RedisStorage<Value>> {
        match &self.backend {
            Backend::Redis(conn, _) => {
                let cfg = apalis_redis::Config::default()
                    .queue(self.queue_name(kind))
                    .heartbeat_interval(self.heartbeat)
                    .missed_heartbeats(3)
                    .batch_size(batch.max(1))
                    // A lease costs a scan of the whole active list per task (stack-notes
                    // §5.11); the run row records who holds a run.
                    .lock_tasks(false)
                    // Without a TTL apalis deletes idempotency keys at once (docs/stack-notes.md §5.7).
                    .idempotency_ttl(Some(Duration::from_secs(86_400)));
                Some(RedisStorage::new(conn.clone()).with_config(cfg))
            }
            Backend::Sqlite(..) => None,
        }
    }

    pub fn sqlite_storage(&self, kind: JobKind) -> Option<SqliteStorage<Value>> {
        self.sqlite_storage_fetching(kind, 1)
    }

    /// [`Queue::sqlite_storage`] whose fetch takes up to `batch` tasks at once.
    pub fn sqlite_storage_fetching(
        &self,
        kind: JobKind,
        batch: usize,
    ) -> Option<SqliteStorage<Value>> {
        match &self.backend {
            Backend::Sqlite(pool, _) => {
                let cfg = apalis_sqlite::Config::default()
                    .queue(self.queue_name(kind))
                    .heartbeat_interval(self.heartbeat)
                    .missed_heartbeats(3)
                    .batch_size(batch.max(1));
                Some(SqliteStorage::new(pool).with_config(cfg))
            }
            Backend::Redis(..) => None,
        }
    }

    /// A fresh task id, for [`Queue::push_as`].
    pub fn new_task_id() -> String {
        ulid::Ulid::generate().to_string()
    }

    /// Puts a task for `run` on the kind's queue, due after `delay`. Returns the task id.
    pub async fn push(
        &self,
        kind: JobKind,
        run: RunTask,
        delay: Duration,
    ) -> Result<String, QueueError> {
        let id = Self::new_task_id();
        self.push_as(kind, run, delay, &id).await?;
        Ok(id)
    }

    /// Puts a task for `run` on the kind's queue, due after `delay`, under a task id made
    /// by [`Queue::new_task_id`], so that the caller can record it before any worker can
    /// see the task.
    pub async fn push_as(
        &self,
        kind: JobKind,
        run: RunTask,
        delay: Duration,
        task_id: &str,
    ) -> Result<(), QueueError> {
        let task = run_task(run, delay, task_id)?;
        // A connection lost mid-command (Redis restarting) can leave it waiting forever.
        tokio::time::timeout(Duration::from_secs(5), self.push_task(kind, task))
            .await
            .map_err(|_| QueueError::Unavailable("the queue did not answer within 5 s".into()))?
    }

    /// Puts a task for each run on the kind's queue, due now, under task ids the caller
    /// recorded: on Redis one script call for all of them, then the due ones moved to the
    /// active list a thousand at a time ([`crate::scheduled`]) and one announcement.
    pub async fn push_all_now(
        &self,
        kind: JobKind,
        runs: &[(uuid::Uuid, String)],
    ) -> Result<(), QueueError> {
        let tasks = runs
            .iter()
            .map(|(run, task_id)| run_task(RunTask::new(*run), Duration::ZERO, task_id))
            .collect::<Result<Vec<_>, _>>()?;
        let push = async {
            self.store(kind, tasks).await?;
            if let Backend::Redis(..) = self.backend {
                self.promote_due(kind).await?;
            }
            self.announce(kind).await;
            Ok(())
        };
        tokio::time::timeout(Duration::from_secs(10), push)
            .await
            .map_err(|_| QueueError::Unavailable("the queue did not answer within 10 s".into()))?
    }

    /// Tells the workers that `kind` has new tasks. Best effort: a lost announcement costs
    /// one slow poll.
    async fn announce(&self, kind: JobKind) {
        let announced = match &self.backend {
            Backend::Redis(conn, _) => redis::cmd("PUBLISH")
                .arg(crate::wake::channel(&self.prefix))
                .arg(kind.as_str())
                .query_async::<i64>(&mut conn.clone())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Backend::Sqlite(_, Some(file)) => {
                crate::wake::announce_to_files(file, kind).map_err(|e| e.to_string())
            }
            Backend::Sqlite(_, None) => Ok(()),
        };
        if let Err(e) = announced {
            tracing::debug!(error = %e, "could not announce a push; workers will find it by polling");
        }
    }

    /// Pushes a raw payload, bypassing [`RunTask`]: only for tests of poison payloads.
    pub async fn push_raw(&self, kind: JobKind, args: Value) -> Result<(), QueueError> {
        self.push_task(kind, TaskBuilder::new(args).build()).await
    }

    async fn push_task(
        &self,
        kind: JobKind,
        task: apalis::prelude::Task<Value>,
    ) -> Result<(), QueueError> {
        let now_id = task
            .run_at()
            .is_none_or(|at| at <= crate::scheduled::now_secs())
            .then(|| task.task_id().map(ToString::to_string))
            .flatten();
        self.store(kind, vec![task]).await?;
        match (&self.backend, now_id) {
            (Backend::Redis(conn, _), Some(id)) => {
                let storage = self
                    .redis_storage(kind)
                    .ok_or_else(|| QueueError::Unavailable("no redis".into()))?;
                let mut conn = conn.clone();
                let channel = crate::wake::channel(&self.prefix);
                let started = crate::scheduled::start_now(
                    &mut conn,
                    storage.get_config(),
                    &id,
                    &channel,
                    kind.as_str(),
                );
                // Best effort: the task is stored; apalis' fetch promotes it anyway.
                if let Err(e) = started.await {
                    tracing::debug!(error = %e, "could not announce a push; workers will find it by polling");
                }
            }
            _ => self.announce(kind).await,
        }
        Ok(())
    }

    /// Stores tasks on the kind's queue, in one call to the store, announcing nothing.
    async fn store(
        &self,
        kind: JobKind,
        tasks: Vec<apalis::prelude::Task<Value>>,
    ) -> Result<(), QueueError> {
        let unavailable = |e: String| QueueError::Unavailable(e);
        let tasks = futures::stream::iter(tasks);
        match &self.backend {
            Backend::Redis(..) => self
                .redis_storage(kind)
                .ok_or_else(|| unavailable("no redis".into()))?
                .push_all(tasks)
                .await
                .map_err(|e| unavailable(e.to_string())),
            Backend::Sqlite(..) => self
                .sqlite_storage(kind)
                .ok_or_else(|| unavailable("no sqlite".into()))?
                .push_all(tasks)
                .await
                .map_err(|e| unavailable(e.to_string())),
        }
    }

    /// Moves due tasks of `kind` from apalis' scheduled set to its active list, a chunk
    /// at a time ([`crate::scheduled`]); how many. Nothing to do on SQLite.
    pub async fn promote_due(&self, kind: JobKind) -> Result<usize, QueueError> {
        let Backend::Redis(conn, _) = &self.backend else {
            return Ok(0);
        };
        let storage = self
            .redis_storage(kind)
            .ok_or_else(|| QueueError::Unavailable("no redis".into()))?;
        let mut conn = conn.clone();
        let promote = crate::scheduled::promote_due(&mut conn, storage.get_config());
        tokio::time::timeout(Duration::from_secs(5), promote)
            .await
            .map_err(|_| QueueError::Unavailable("the queue did not answer within 5 s".into()))?
            .map_err(|e| QueueError::Unavailable(e.to_string()))
    }

    /// Round trip to the queue store, for `/ready`.
    pub async fn ping(&self) -> Result<(), QueueError> {
        match &self.backend {
            Backend::Redis(conn, _) => {
                let mut conn = conn.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| QueueError::Unavailable(e.to_string()))
            }
            Backend::Sqlite(pool, _) => sea_orm::sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| QueueError::Unavailable(e.to_string())),
        }
    }
}

/// The queue task of `run` under `task_id` (made by [`Queue::new_task_id`]), due after
/// `delay`.
fn run_task(
    run: RunTask,
    delay: Duration,
    task_id: &str,
) -> Result<apalis::prelude::Task<Value>, QueueError> {
    let id: ulid::Ulid = task_id
        .parse()
        .map_err(|_| QueueError::Unavailable(format!("bad task id '{task_id}'")))?;
    let args = serde_json::to_value(run).map_err(|e| QueueError::Unavailable(e.to_string()))?;
    Ok(TaskBuilder::new(args)
        .task_id(id.into())
        .run_after(delay)
        .build())
}
