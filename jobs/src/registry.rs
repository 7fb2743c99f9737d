//! The table of job kinds: each [`JobKind`] with the module that implements [`Job`] for
//! it. Everything that depends on a kind asks here; adding a kind is a module with its
//! `impl Job` and one line in `with_job!` below.

use std::time::Duration;

use entity::job_run;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;

use crate::{
    bulk_update::BulkUpdateJob,
    context::JobContext,
    error::{ErrorCategory, JobError, SubmitError},
    export::ExportJob,
    job::{Job, Output},
    kind::{JobKind, RetryPolicy},
    notification::NotificationJob,
    params::{ParamError, RawParams},
    ping::PingJob,
    progress::Progress,
    queue::Queue,
    report::ReportJob,
    submit::{Created, Submitted},
    sync::SyncJob,
};

/// Evaluates `$body` with `$job` naming the implementation of `$kind`.
macro_rules! with_job {
    ($kind:expr, $job:ident => $body:expr) => {
        match $kind {
            JobKind::Sync => {
                type $job = SyncJob;
                $body
            }
            JobKind::BulkUpdate => {
                type $job = BulkUpdateJob;
                $body
            }
            JobKind::Export => {
                type $job = ExportJob;
                $body
            }
            JobKind::Notification => {
                type $job = NotificationJob;
                $body
            }
            JobKind::Report => {
                type $job = ReportJob;
                $body
            }
            JobKind::Ping => {
                type $job = PingJob;
                $body
            }
        }
    };
}

fn parse<J: Job>(raw: RawParams<'_>) -> Result<J::Params, ParamError> {
    let params = raw.parse()?;
    J::validate(&params)?;
    Ok(params)
}

pub fn retry_policy(kind: JobKind) -> RetryPolicy {
    with_job!(kind, J => J::RETRY)
}

/// The longest one attempt may run, unless the configuration sets one for every kind.
pub fn timeout(kind: JobKind) -> Duration {
    with_job!(kind, J => J::TIMEOUT)
}

/// How many tasks of `kind` a worker that runs `concurrency` at once fetches in one round
/// trip ([`Job::SHORT`]).
pub fn fetch_batch(kind: JobKind, concurrency: usize) -> usize {
    if with_job!(kind, J => J::SHORT) {
        concurrency.max(1)
    } else {
        1
    }
}

/// What a run of `kind` leaves behind.
pub fn output(kind: JobKind) -> Output {
    with_job!(kind, J => J::OUTPUT)
}

/// Why a schedule cannot start `kind`; `None` when it can.
pub fn unschedulable(kind: JobKind) -> Option<&'static str> {
    with_job!(kind, J => J::UNSCHEDULABLE)
}

/// Parses and checks a request's parameters, storing nothing.
pub fn validate(kind: JobKind, raw: RawParams<'_>) -> Result<(), ParamError> {
    with_job!(kind, J => parse::<J>(raw).map(|_| ()))
}

/// The checks that need the database, creating nothing.
pub async fn check_in_db(
    kind: JobKind,
    db: &DatabaseConnection,
    raw: &Value,
) -> Result<(), SubmitError> {
    with_job!(kind, J => {
        let params = parse::<J>(RawParams::Value(raw))?;
        J::check_in_db(db, &params).await
    })
}

/// What `POST /api/v1/runs` does with a request: its run(s), stored and queued (or, for
/// a dry run, what would change).
pub async fn submit(
    kind: JobKind,
    db: &DatabaseConnection,
    queue: &Queue,
    raw: RawParams<'_>,
    max_attempts: Option<u32>,
) -> Result<Submitted, SubmitError> {
    with_job!(kind, J => {
        let params = parse::<J>(raw)?;
        J::submit(db, queue, params, max_attempts).await
    })
}

/// [`submit`] for parameters already in memory (the command line, benchmarks): the run
/// to report.
pub async fn start(
    kind: JobKind,
    db: &DatabaseConnection,
    queue: &Queue,
    params: &Value,
) -> Result<job_run::Model, SubmitError> {
    submit(kind, db, queue, RawParams::Value(params), None)
        .await?
        .into_run()
        .ok_or_else(|| ParamError::new("params.dry_run", "a dry run stores nothing").into())
}

/// Inserts the run(s) of a request inside `txn`, not yet queued: for the scheduler,
/// which claims its tick in the same transaction.
pub async fn insert_runs<C: ConnectionTrait + Sync>(
    kind: JobKind,
    txn: &C,
    db: &DatabaseConnection,
    raw: &Value,
    max_attempts: Option<u32>,
) -> Result<Created, SubmitError> {
    with_job!(kind, J => {
        let params = parse::<J>(RawParams::Value(raw))?;
        J::insert_runs(txn, db, params, max_attempts).await
    })
}

/// One run of a batch of a plain kind ([`crate::job::Job::PLAIN`]): parsed and checked,
/// the row to insert; `None` for a kind that is not plain.
pub async fn plain_run(
    kind: JobKind,
    db: &DatabaseConnection,
    raw: RawParams<'_>,
    max_attempts: Option<u32>,
) -> Option<Result<crate::runs::NewRun, SubmitError>> {
    with_job!(kind, J => {
        if !J::PLAIN {
            return None;
        }
        let checked = async {
            let params = parse::<J>(raw)?;
            J::check_in_db(db, &params).await?;
            crate::job::plain_run::<J>(params, max_attempts)
        };
        Some(checked.await)
    })
}

/// One run of a batch: parsed, checked against the database (read through `db`), and
/// inserted inside `txn`, not yet queued.
pub async fn insert_checked<C: ConnectionTrait + Sync>(
    kind: JobKind,
    txn: &C,
    db: &DatabaseConnection,
    raw: RawParams<'_>,
    max_attempts: Option<u32>,
) -> Result<Created, SubmitError> {
    with_job!(kind, J => {
        let params = parse::<J>(raw)?;
        J::check_in_db(db, &params).await?;
        J::insert_runs(txn, db, params, max_attempts).await
    })
}

/// Runs one attempt of a claimed run. Its stored parameters are decoded here, inside the
/// attempt, so a row written by an older version fails its own run and never the worker.
pub async fn execute(
    kind: JobKind,
    ctx: &JobContext,
    progress: &mut Progress,
    stored: &Value,
    attempt: u32,
) -> Result<(), JobError> {
    let invalid = |e: ParamError| JobError::permanent(ErrorCategory::InvalidInput, e.to_string());
    with_job!(kind, J => {
        let stored = RawParams::Value(stored).parse().map_err(invalid)?;
        J::run(ctx, progress, stored, attempt).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_in_the_table_under_its_own_name() {
        for kind in JobKind::ALL {
            assert_eq!(with_job!(kind, J => J::KIND), kind);
        }
    }
}
