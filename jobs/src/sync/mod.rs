//! `sync`: copy every offer and order of an eMAG account into the database.
//!
//! One run syncs one (account, resource); several become one run each under a parent
//! (`crate::submit`). Pages are written with the run's checkpoint in one transaction, so
//! a killed worker loses only what was not committed and the next attempt resumes there.

pub mod breaker;
pub mod history;
mod named_orders;
mod offers;
mod orders;
pub mod params;
pub mod store;
mod submit;

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use entity::{emag_account, sync_state};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict};
use uuid::Uuid;

pub use params::{AccountSelection, Mode, Resource, SyncParams};
pub use submit::lock_key;

use crate::{
    accounts, clock,
    context::JobContext,
    emag::{EmagClient, EmagError},
    error::{ErrorCategory, JobError, SubmitError},
    job::Job,
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::{ItemOutcome, Level, Progress},
    submit::Created,
};

pub struct SyncJob;

impl Job for SyncJob {
    const KIND: JobKind = JobKind::Sync;
    const RETRY: RetryPolicy =
        RetryPolicy::new(5, Duration::from_secs(5), Duration::from_secs(300));
    const TIMEOUT: Duration = Duration::from_secs(4 * 3600);
    type Params = SyncParams;
    type Stored = SyncParams;

    fn validate(params: &SyncParams) -> Result<(), ParamError> {
        params.validate()
    }

    fn account(params: &SyncParams) -> Option<String> {
        match &params.accounts {
            AccountSelection::Named(names) if names.len() == 1 => Some(names[0].clone()),
            _ => None,
        }
    }

    async fn check_in_db(db: &DatabaseConnection, params: &SyncParams) -> Result<(), SubmitError> {
        submit::check_in_db(db, params).await
    }

    async fn insert_runs<C: sea_orm::ConnectionTrait + Sync>(
        txn: &C,
        db: &DatabaseConnection,
        params: SyncParams,
        max_attempts: Option<u32>,
    ) -> Result<Created, SubmitError> {
        let max_attempts = max_attempts.unwrap_or(Self::RETRY.max_attempts);
        submit::insert_runs(txn, db, params, max_attempts).await
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        params: SyncParams,
        _attempt: u32,
    ) -> Result<(), JobError> {
        run(ctx, progress, params).await
    }
}

/// Tries of one page (each already retried by the client) before the breaker opens.
const PAGE_TRIES: u32 = 3;

/// Failed rows named one by one in the run's log, per page; the rest are counted.
const LOGGED_FAILURES: usize = 5;

/// Everything one attempt of a sync run works with.
pub(crate) struct Session<'a> {
    ctx: &'a JobContext,
    account: emag_account::Model,
    client: EmagClient,
    tz: Tz,
    params: &'a SyncParams,
    /// Consecutive failed tries of the current page.
    failures: u32,
    /// eMAG has answered this attempt: the account's outage, if any, is over.
    reached: bool,
    /// When the run's current wait for eMAG began (its first paused attempt in a row),
    /// or this attempt's start: it waits at most `MAGFLOW_EMAG_MAX_PAUSE`.
    waiting_since: DateTime<Utc>,
    /// What a whole read of the offers summed up as the day's stock (one pass, not two).
    stock: Option<crate::analytics::StockDay>,
}

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: SyncParams,
) -> Result<(), JobError> {
    let invalid = |m: &str| JobError::permanent(ErrorCategory::InvalidInput, m);
    let name = match &params.accounts {
        AccountSelection::Named(names) if names.len() == 1 => names[0].clone(),
        _ => return Err(invalid("a sync run covers exactly one account")),
    };
    let resource = match params.resources().as_slice() {
        [one] => *one,
        _ => return Err(invalid("a sync run covers exactly one resource")),
    };
    let (account, client) = open_client(ctx, &name).await?;
    let waiting_since = crate::runs::paused_since(&ctx.db, progress.run_id())
        .await?
        .unwrap_or_else(Utc::now);
    let mut session = Session {
        ctx,
        tz: clock::platform_tz(account.platform),
        account,
        client,
        params: &params,
        failures: 0,
        reached: false,
        waiting_since,
        stock: None,
    };
    let result = match resource {
        Resource::Offers => offers::run(&mut session, progress).await,
        Resource::Orders => orders::run(&mut session, progress).await,
        Resource::All => return Err(invalid("a sync run covers exactly one resource")),
    };
    history::after(&session, progress, resource, &result).await;
    progress.track_emag(session.client.stats());
    result
}

/// [`Session::begin_page`], for a write spawned on its own (one group of offers written
/// while the one before it commits).
pub(crate) async fn begin_page(
    db: &DatabaseConnection,
    account: uuid::Uuid,
) -> Result<sea_orm::DatabaseTransaction, JobError> {
    use sea_orm::{ConnectionTrait, QuerySelect};
    let txn = crate::db::begin_write(db).await?;
    let mut row = emag_account::Entity::find_by_id(account);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        row = row.lock_shared();
    }
    if row.one(&txn).await?.is_none() {
        return Err(JobError::Cancelled);
    }
    Ok(txn)
}

impl Session<'_> {
    fn db(&self) -> &DatabaseConnection {
        &self.ctx.db
    }

    fn name(&self) -> &str {
        &self.account.name
    }

    /// The transaction one page is written in, if the account still exists: it holds
    /// the account's row (PostgreSQL `FOR SHARE`; SQLite's write lock) until the page
    /// commits, so a deletion waits for the page and then removes it too. A deleted
    /// account stops the run here, before anything is written (cancelled).
    pub(crate) async fn begin_page(&self) -> Result<sea_orm::DatabaseTransaction, JobError> {
        begin_page(self.db(), self.account.id).await
    }

    /// Pauses the run while the account's breaker is open (or fails it once it has
    /// waited `MAGFLOW_EMAG_MAX_PAUSE`).
    pub(crate) async fn unless_degraded(&self) -> Result<(), JobError> {
        let Some(outage) = breaker::outage(self.db(), self.name()).await? else {
            return Ok(());
        };
        self.give_up_after_max_pause(outage)?;
        let until = outage.until;
        let delay = (until - Utc::now()).to_std().unwrap_or_default();
        Err(JobError::Paused {
            category: ErrorCategory::EmagUnavailable,
            message: format!(
                "eMAG account {:?} is degraded until {}; the run waits",
                self.name(),
                until.format("%H:%M:%S UTC")
            ),
            delay: delay.max(Duration::from_secs(1)),
        })
    }

    /// eMAG answered: the page's tries start again, and the account's outage, if any,
    /// is over.
    pub(crate) async fn answered(&mut self) -> Result<(), JobError> {
        if self.failures > 0 || !self.reached {
            self.failures = 0;
            self.reached = true;
            breaker::close(self.db(), self.name()).await?;
        }
        Ok(())
    }

    /// A request made ahead of need failed in a way that may pass: it counts as one of
    /// the page's tries, so an outage opens the breaker no later than had it been made
    /// in order.
    pub(crate) fn tried_ahead(&mut self) {
        self.failures += 1;
    }

    /// One eMAG call for the current page: paused while the account is degraded, tried
    /// again with backoff when the failure may pass, and opening the breaker when it
    /// keeps failing.
    async fn fetch<T, F, Fut>(
        &mut self,
        progress: &mut Progress,
        what: &str,
        call: F,
    ) -> Result<T, JobError>
    where
        F: Fn(EmagClient) -> Fut,
        Fut: Future<Output = Result<T, EmagError>>,
    {
        loop {
            self.unless_degraded().await?;
            let result = call(self.client.clone()).await;
            progress.track_emag(self.client.stats());
            let error = match result {
                Ok(value) => {
                    self.answered().await?;
                    return Ok(value);
                }
                Err(e) if !e.is_retryable() => return Err(self.fatal(e)),
                Err(e) => e,
            };
            self.failures += 1;
            if self.failures >= PAGE_TRIES {
                let cooldown = self.ctx.config.emag_breaker_cooldown();
                let reason = format!("{what}: {error} ({PAGE_TRIES} tries)");
                breaker::open(self.db(), self.name(), cooldown, &reason).await?;
                self.failures = 0;
                return Err(JobError::Paused {
                    category: ErrorCategory::EmagUnavailable,
                    message: format!(
                        "eMAG keeps failing for account {:?} ({reason}): account marked degraded",
                        self.name()
                    ),
                    delay: cooldown,
                });
            }
            progress.log(
                Level::Warn,
                format!("{what} failed ({error}); trying again"),
            );
            let wait = self.ctx.config.emag_client_options().backoff_base * self.failures;
            progress.sleep(wait).await?;
        }
    }

    /// Fails the run once it has waited for eMAG longer than `MAGFLOW_EMAG_MAX_PAUSE`: its
    /// subscribers hear of it, and a retry resumes from the checkpoint.
    fn give_up_after_max_pause(&self, outage: breaker::Outage) -> Result<(), JobError> {
        let max = self.ctx.config.emag_max_pause;
        let waited = (Utc::now() - self.waiting_since)
            .to_std()
            .unwrap_or_default();
        if waited < max {
            return Ok(());
        }
        Err(JobError::permanent(
            ErrorCategory::EmagUnavailable,
            format!(
                "eMAG has been failing for account {:?} since {}; the run waited longer than MAGFLOW_EMAG_MAX_PAUSE ({}) and stops (a retry resumes where it stopped)",
                self.name(),
                outage.since.format("%Y-%m-%d %H:%M:%S UTC"),
                humantime_serde::re::humantime::format_duration(max)
            ),
        ))
    }

    fn fatal(&self, e: EmagError) -> JobError {
        fatal(self.name(), e)
    }

    /// Adds a page's outcome to the counters and names failed rows in the log.
    fn record(&self, progress: &mut Progress, page: &store::PageOutcome) {
        progress.record(ItemOutcome::Created, page.created);
        progress.record(ItemOutcome::Updated, page.updated);
        progress.record(ItemOutcome::Unchanged, page.unchanged);
        progress.record(ItemOutcome::Failed, page.failed.len() as u64);
        for (id, reason) in page.failed.iter().take(LOGGED_FAILURES) {
            progress.log(Level::Warn, format!("item {id} skipped: {reason}"));
        }
        if page.failed.len() > LOGGED_FAILURES {
            progress.log(
                Level::Warn,
                format!(
                    "{} more items on this page skipped",
                    page.failed.len() - LOGGED_FAILURES
                ),
            );
        }
    }
}

/// An account's row and a client logged in as it, sharing the process's rate limit.
pub(crate) async fn open_client(
    ctx: &JobContext,
    name: &str,
) -> Result<(emag_account::Model, EmagClient), JobError> {
    let account = accounts::find(&ctx.db, name).await?.ok_or_else(|| {
        JobError::permanent(
            ErrorCategory::InvalidInput,
            format!("there is no eMAG account named {name:?} (was it deleted?)"),
        )
    })?;
    if let Err(m) = accounts::validate_base_url(&account.base_url, &ctx.config.emag_http_hosts) {
        return Err(JobError::permanent(
            ErrorCategory::InvalidInput,
            format!("the base_url of account {name:?} {m}; nothing was sent"),
        ));
    }
    let login = accounts::login(ctx.sealer.as_ref(), &account)
        .map_err(|e| JobError::permanent(ErrorCategory::Credentials, e.to_string()))?;
    let client = EmagClient::new(
        &login,
        ctx.limiter.clone(),
        ctx.config.emag_client_options(),
    )
    .map_err(|e| JobError::permanent(ErrorCategory::Permanent, e.to_string()))?
    .for_account(name)
    .on_wire(ctx.wire.clone());
    Ok((account, client))
}

/// An eMAG error that another try cannot fix, worded for the seller of account `name`.
pub(crate) fn fatal(name: &str, e: EmagError) -> JobError {
    match e {
        EmagError::BadCredentials { message } => JobError::permanent(
            ErrorCategory::BadCredentials,
            format!(
                "eMAG refused the username or password of account {name:?} ({message}); correct them with PUT /api/v1/accounts/{name}"
            ),
        ),
        EmagError::IpNotWhitelisted { message } => JobError::permanent(
            ErrorCategory::IpNotWhitelisted,
            format!(
                "eMAG refused this server's IP address for account {name:?} ({message}); add it to the account's API whitelist in the eMAG seller portal"
            ),
        ),
        e @ EmagError::UnexpectedRedirect { .. } => {
            JobError::permanent(ErrorCategory::UnexpectedRedirect, e.to_string())
        }
        other => JobError::permanent(ErrorCategory::EmagRejected, other.to_string()),
    }
}

/// Notes a successful sync; `high_water` only ever moves forward.
async fn record_success<C: sea_orm::ConnectionTrait>(
    db: &C,
    account: &str,
    resource: &str,
    run_id: Uuid,
    high_water: Option<String>,
) -> Result<(), DbErr> {
    let previous = sync_state::Entity::find_by_id((account.to_owned(), resource.to_owned()))
        .one(db)
        .await?
        .and_then(|s| s.high_water);
    let high_water = high_water.max(previous);
    sync_state::Entity::insert(sync_state::ActiveModel {
        account: Set(account.to_owned()),
        resource: Set(resource.to_owned()),
        last_success_at: Set(Utc::now()),
        last_run_id: Set(run_id),
        high_water: Set(high_water),
    })
    .on_conflict(
        OnConflict::columns([sync_state::Column::Account, sync_state::Column::Resource])
            .update_columns([
                sync_state::Column::LastSuccessAt,
                sync_state::Column::LastRunId,
                sync_state::Column::HighWater,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
