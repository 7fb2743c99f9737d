//! What makes a job kind, in one place: [`Job`], implemented once per kind in its own
//! module (`ping.rs`, `sync/`, `bulk_update/`, `export/`, `notification/`). The registry
//! is the table of those implementations; submission, the API, the scheduler and the
//! worker ask it, and nothing else branches on a kind.

use std::{future::Future, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    context::JobContext,
    error::{JobError, SubmitError},
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::Progress,
    queue::Queue,
    runs::{self, NewRun},
    submit::{self, Created, Submitted},
};

/// What a run leaves behind besides its counters, served at `GET /api/v1/runs/{id}/result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Nothing.
    None,
    /// An outcome per item (served as CSV); the run's `updated` and `failed` count the
    /// items accepted and rejected.
    ItemOutcomes,
    /// A file it wrote (served as it is).
    File,
}

/// A job kind. `Params` is what a request gives (checked by [`validate`](Job::validate)
/// before anything is stored); `Stored` is what a run's row keeps and each attempt
/// reads (the same type, but for a kind that keeps its input elsewhere).
pub trait Job: Send + Sync + 'static {
    /// Its wire name: stored in `job_runs.kind` and naming its queue.
    const KIND: JobKind;
    /// Attempts and backoff when an attempt fails in a way that may pass.
    const RETRY: RetryPolicy;
    /// The longest one attempt may run before it counts as a timeout.
    const TIMEOUT: Duration;
    /// Why a schedule cannot start this kind; `None` when it can.
    const UNSCHEDULABLE: Option<&'static str> = None;
    /// What a run leaves behind.
    const OUTPUT: Output = Output::None;
    /// Its attempts take milliseconds, so the queue's round trips are most of a run's
    /// cost: a worker fetches as many tasks at once as it runs at once. A long kind
    /// fetches one at a time, so that no worker holds a task another process could
    /// start now.
    const SHORT: bool = false;

    type Params: DeserializeOwned + Serialize + Send + Sync;
    type Stored: DeserializeOwned + Send;

    /// Its runs are one row each with no lock, as the default [`Job::insert_runs`] writes
    /// them: a batch inserts many in one statement. A kind that overrides `insert_runs`
    /// leaves it false.
    const PLAIN: bool = false;

    /// The checks that need no database; an error names the field (`params.…`).
    fn validate(params: &Self::Params) -> Result<(), ParamError>;

    /// The eMAG account a run works on, when there is exactly one.
    fn account(_params: &Self::Params) -> Option<String> {
        None
    }

    /// The checks that need the database, creating nothing (a schedule's, when saved).
    fn check_in_db(
        _db: &DatabaseConnection,
        _params: &Self::Params,
    ) -> impl Future<Output = Result<(), SubmitError>> + Send {
        async { Ok(()) }
    }

    /// Inserts the run(s) of a request inside `txn` (so a scheduler claims its tick in
    /// the same transaction); `db` reads outside it. One run, unless the kind says more,
    /// after [`Job::check_in_db`]: what was true when a schedule was saved may not be
    /// when it fires.
    fn insert_runs<C: ConnectionTrait + Sync>(
        txn: &C,
        db: &DatabaseConnection,
        params: Self::Params,
        max_attempts: Option<u32>,
    ) -> impl Future<Output = Result<Created, SubmitError>> + Send {
        async move {
            Self::check_in_db(db, &params).await?;
            let run = runs::insert(txn, plain_run::<Self>(params, max_attempts)?).await?;
            Ok(Created {
                report: run.clone(),
                to_dispatch: vec![run],
            })
        }
    }

    /// What a request to `POST /api/v1/runs` does: its run(s), stored and queued.
    fn submit(
        db: &DatabaseConnection,
        queue: &Queue,
        params: Self::Params,
        max_attempts: Option<u32>,
    ) -> impl Future<Output = Result<Submitted, SubmitError>> + Send {
        async move {
            let txn = crate::db::begin_write(db).await?;
            let created = Self::insert_runs(&txn, db, params, max_attempts).await?;
            txn.commit().await?;
            let run = submit::dispatch_all(db, queue, created).await?;
            Ok(Submitted::Queued(Box::new(run)))
        }
    }

    /// One attempt of a run. `attempt` counts from 1.
    fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        stored: Self::Stored,
        attempt: u32,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// The one row a plain kind's request becomes ([`Job::PLAIN`]).
pub(crate) fn plain_run<J: Job + ?Sized>(
    params: J::Params,
    max_attempts: Option<u32>,
) -> Result<NewRun, SubmitError> {
    Ok(NewRun {
        kind: J::KIND,
        account: J::account(&params),
        params: serde_json::to_value(&params)
            .map_err(|e| ParamError::new("params", e.to_string()))?,
        max_attempts: max_attempts.unwrap_or(J::RETRY.max_attempts),
        parent_id: None,
        lock_key: None,
    })
}
