//! What every job handler (and API request) gets: the database, the queue, the shared
//! eMAG rate limit, the password sealer and the configuration.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    emag::{
        Wire,
        rate_limit::{Limits, RateLimiter},
    },
    error::SetupError,
    queue::Queue,
    secrets::Sealer,
    thread::Thread,
};

#[derive(Clone, Debug)]
pub struct JobContext {
    pub db: DatabaseConnection,
    pub queue: Queue,
    /// Shared through Redis when the queue is Redis; in-process otherwise.
    pub limiter: RateLimiter,
    /// The thread jobs' eMAG requests are written on.
    pub wire: Wire,
    /// The two threads syncs parse and prepare the pages they read ahead on, and build
    /// their statements on: CPU work that would otherwise hold the runtime's threads
    /// while a group's commit waits to be answered (see `sync::offers`).
    pub prepare: Thread,
    /// Present when `MAGFLOW_SECRET_KEY` is set.
    pub sealer: Option<Sealer>,
    pub config: Arc<Config>,
}

impl JobContext {
    /// Connects to the database and the queue named in `config`. With `migrate`, applies
    /// pending migrations first. Fails if sealed passwords exist that the key cannot open,
    /// so a misconfigured process stops at start-up rather than at its first sync.
    pub async fn connect(config: Config, migrate: bool) -> Result<JobContext, SetupError> {
        let db = crate::db::connect(&config).await?;
        if migrate {
            crate::db::migrate(&db).await?;
        }
        let queue = Queue::connect(&config).await?;
        let limits = Limits {
            margin: config.emag_rate_margin,
            ..Limits::EMAG
        };
        let limiter = match queue.redis_connection() {
            _ if !config.emag_rate_limit => RateLimiter::off(),
            Some(conn) => RateLimiter::redis(conn, queue.prefix(), limits),
            None => RateLimiter::local(limits),
        };
        let sealer = config.secret_key.as_ref().map(Sealer::new);
        crate::accounts::verify_key(&db, sealer.as_ref()).await?;
        // Rows this version cannot read fail the queries that meet them; name them now.
        match crate::stored::unknown_values(&db).await {
            Ok(found) => {
                for unknown in found {
                    tracing::error!(%unknown, "a stored value is not one this version knows");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not look for unknown stored values"),
        }
        Ok(JobContext {
            db,
            queue,
            limiter,
            wire: Wire::start()?,
            prepare: Thread::pool("sync-prepare", 2)?,
            sealer,
            config: Arc::new(config),
        })
    }
}
