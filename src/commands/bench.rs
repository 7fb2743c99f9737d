//! `magflow bench …`: figures for BENCHMARKS.md. Each benchmark measures a baseline in
//! the same run, so results are read as ratios, not as absolute numbers of one machine.

mod analytics;
mod bulk;
mod console;
mod export;
mod freshness;
mod load;
mod queue;
mod ratelimit;
mod status;
mod sync;

use clap::Subcommand;
use tokio_util::sync::CancellationToken;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// No-op ping jobs per second through one worker, and enqueue→start latency,
    /// against raw round trips of the same store.
    Queue(queue::QueueBench),
    /// Requests/s against eMAG's limit with N processes sharing one login through Redis.
    Ratelimit(ratelimit::RateLimitBench),
    /// The sync job end to end: rate-limit utilisation with 1..N worker processes, or
    /// offers/s into PostgreSQL against COPY plus the worker's peak memory.
    Sync(sync::SyncBench),
    /// Exports of N/10 and N offers (CSV, XLSX): rows/s and the worker's peak memory.
    Export(export::ExportBench),
    /// A bulk price/stock update at eMAG's limits: items/s against 3 requests/s × 50.
    Bulk(bulk::BulkBench),
    /// `GET /api/v1/status` latency under N concurrent clients, against `/health`.
    Status(status::StatusBench),
    /// The API under N concurrent clients (status, runs, SSE, WebSocket) while S syncs
    /// run, against the same clients before the syncs; fails on any error.
    Load(load::LoadBench),
    /// The console's overview, runs list and a run detail under N signed-in sessions,
    /// with 100,000 runs and 20 accounts stored, against `/health`.
    Console(console::ConsoleBench),
    /// Seconds from a new order at eMAG to its stored row, with eMAG's callbacks and with
    /// polling alone, in the same run.
    Freshness(freshness::FreshnessBench),
    /// Two years of orders for N accounts: `analytics rebuild` against a plain
    /// `INSERT … SELECT`, the sales API for a year of days, and a month's PDF report.
    Analytics(analytics::AnalyticsBench),
    /// One load process of `bench ratelimit` (started by it).
    #[command(hide = true)]
    RatelimitLoad(ratelimit::RateLimitLoad),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Queue(args) => queue::run(args).await,
        BenchCommand::Ratelimit(args) => ratelimit::run(args).await,
        BenchCommand::RatelimitLoad(args) => ratelimit::load(args).await,
        BenchCommand::Sync(args) => sync::run(args).await,
        BenchCommand::Status(args) => status::run(args).await,
        BenchCommand::Load(args) => load::run(args).await,
        BenchCommand::Bulk(args) => bulk::run(args).await,
        BenchCommand::Export(args) => export::run(args).await,
        BenchCommand::Console(args) => console::run(args).await,
        BenchCommand::Freshness(args) => freshness::run(args).await,
        BenchCommand::Analytics(args) => analytics::run(args).await,
    }
}

/// Where the end-to-end benchmarks keep their queue and data: a Redis and a PostgreSQL
/// whose user may create databases (each run makes its own and drops it).
#[derive(clap::Args, Debug)]
pub struct Stores {
    /// The Redis the queue and the shared rate limit use (keys under a fresh prefix).
    #[arg(
        long,
        env = "MAGFLOW_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    pub redis_url: String,
    /// A PostgreSQL URL whose user may create databases; the benchmark makes its own.
    #[arg(
        long,
        env = "MAGFLOW_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
}

/// A benchmark's own PostgreSQL database and Redis prefix, or its own SQLite files (with
/// a sealing key), and a context connected to them; [`BenchEnv::close`] removes them.
pub struct BenchEnv {
    pub ctx: jobs::JobContext,
    database_url: String,
    queue_url: String,
    prefix: String,
    key: String,
    cleanup: Cleanup,
}

/// What [`BenchEnv::close`] removes.
enum Cleanup {
    Servers {
        stores_database_url: String,
        db_name: String,
    },
    Files(tempfile::TempDir),
}

fn bench_config(
    database_url: &str,
    queue_url: &str,
    prefix: &str,
    key: &str,
) -> anyhow::Result<jobs::Config> {
    Ok(jobs::Config {
        database_url: jobs::SecretUrl::new(database_url.to_owned()),
        queue_url: jobs::SecretUrl::new(queue_url.to_owned()),
        queue_prefix: prefix.to_owned(),
        secret_key: Some(jobs::secrets::SecretKey::from_hex(key)?),
        // The simulator answers plain HTTP on this machine.
        emag_http_hosts: vec!["127.0.0.1".into()],
        ..jobs::Config::default()
    })
}

impl Stores {
    /// Creates the database and the prefix; `adjust` may change the rest of the config.
    pub async fn open(&self, adjust: impl FnOnce(&mut jobs::Config)) -> anyhow::Result<BenchEnv> {
        let (database_url, db_name) = sync::fresh_database(&self.database_url).await?;
        let key = jobs::secrets::SecretKey::generate_hex();
        let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut config = bench_config(&database_url, &self.redis_url, &prefix, &key)?;
        adjust(&mut config);
        Ok(BenchEnv {
            ctx: jobs::JobContext::connect(config, true).await?,
            database_url,
            queue_url: self.redis_url.clone(),
            prefix,
            key,
            cleanup: Cleanup::Servers {
                stores_database_url: self.database_url.clone(),
                db_name,
            },
        })
    }
}

/// The embedded default: SQLite files for the data and the queue, in a directory of
/// their own.
pub async fn open_embedded(adjust: impl FnOnce(&mut jobs::Config)) -> anyhow::Result<BenchEnv> {
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}/magflow.db", dir.path().display());
    let queue_url = format!("sqlite://{}/queue.db", dir.path().display());
    let key = jobs::secrets::SecretKey::generate_hex();
    let mut config = bench_config(&database_url, &queue_url, "bench", &key)?;
    adjust(&mut config);
    Ok(BenchEnv {
        ctx: jobs::JobContext::connect(config, true).await?,
        database_url,
        queue_url,
        prefix: "bench".into(),
        key,
        cleanup: Cleanup::Files(dir),
    })
}

impl BenchEnv {
    /// What a `magflow worker` process needs to share this environment, plus `extra`.
    pub fn worker_env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        [
            ("MAGFLOW_DATABASE_URL", self.database_url.as_str()),
            ("MAGFLOW_QUEUE_URL", self.queue_url.as_str()),
            ("MAGFLOW_QUEUE_PREFIX", self.prefix.as_str()),
            ("MAGFLOW_SECRET_KEY", self.key.as_str()),
            ("MAGFLOW_EMAG_HTTP_HOSTS", "[\"127.0.0.1\"]"),
            ("MAGFLOW_LOG", "warn"),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// A `main` account named `name` that logs in as `username` to the simulator at
    /// `base_url`.
    pub async fn add_account(
        &self,
        name: &str,
        base_url: &str,
        username: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        let new = jobs::accounts::NewAccount {
            name: name.into(),
            kind: jobs::accounts::AccountKind::Main,
            platform: None,
            base_url: Some(base_url.to_owned()),
            username: username.into(),
            password: password.into(),
            auto_acknowledge: false,
        };
        jobs::actions::accounts::create(&self.ctx, new, "bench").await?;
        Ok(())
    }

    /// Drops the database and the Redis keys, or the files, so repeated runs leave
    /// nothing behind.
    pub async fn close(self) {
        drop(self.ctx);
        match self.cleanup {
            Cleanup::Servers {
                stores_database_url,
                db_name,
            } => {
                cleanup_redis(&self.queue_url, &self.prefix).await;
                sync::drop_database(&stores_database_url, &db_name).await;
            }
            Cleanup::Files(dir) => drop(dir),
        }
    }
}

/// A `magflow worker` process with `env`, killed when dropped.
pub fn spawn_worker(env: &[(String, String)]) -> anyhow::Result<tokio::process::Child> {
    use anyhow::Context;
    tokio::process::Command::new(std::env::current_exe()?)
        .arg("worker")
        .envs(env.iter().cloned())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("start a worker process")
}

/// The API on a free loopback port, in this process, until the token is cancelled;
/// returns its base URL.
pub async fn serve_api(ctx: &jobs::JobContext) -> anyhow::Result<(String, CancellationToken)> {
    use anyhow::Context;
    use poem::listener::{Acceptor, Listener, TcpListener};
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("address")?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let state = api::state(ctx.clone(), CancellationToken::new());
    tokio::spawn(api::serve(state, acceptor, async move {
        signal.cancelled().await
    }));
    Ok((format!("http://{addr}"), stop))
}

/// The p-th percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Removes a benchmark's Redis keys (`<prefix>.*`) so repeated runs do not fill Redis.
pub async fn cleanup_redis(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}.*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

/// A benchmark's database: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database made on `database_url` and dropped by [`BenchDb::finish`]; the queue on
/// SQLite beside it.
pub struct BenchDb {
    pub ctx: jobs::JobContext,
    fresh: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl BenchDb {
    pub async fn open(database_url: Option<&str>) -> anyhow::Result<BenchDb> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir()?;
        let (url, fresh) = match database_url {
            Some(url) => {
                let (db_url, name) = sync::fresh_database(url).await?;
                (db_url, Some((url.to_owned(), name)))
            }
            None => (
                format!("sqlite://{}/magflow.db", dir.path().display()),
                None,
            ),
        };
        let config = jobs::Config {
            database_url: jobs::SecretUrl::new(url),
            queue_url: jobs::SecretUrl::new(format!("sqlite://{}/queue.db", dir.path().display())),
            secret_key: Some(jobs::secrets::SecretKey::from_hex(
                &jobs::secrets::SecretKey::generate_hex(),
            )?),
            ..jobs::Config::default()
        };
        let ctx = jobs::JobContext::connect(config, true).await?;
        Ok(BenchDb {
            ctx,
            fresh,
            _dir: dir,
        })
    }

    pub fn backend(&self) -> &'static str {
        if self.fresh.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Closes the connections, then drops the fresh database if there is one.
    pub async fn finish(self) {
        let BenchDb { ctx, fresh, _dir } = self;
        drop(ctx);
        if let Some((admin_url, name)) = fresh {
            sync::drop_database(&admin_url, &name).await;
        }
    }
}
