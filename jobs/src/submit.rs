//! Turning a validated request into runs. Most requests are one run. A sync over several
//! accounts, or over both resources, becomes one run per (account, resource) grouped
//! under a parent, so each runs in parallel under its own login's budget and can be
//! followed, cancelled and retried alone. At most one sync per (account, resource) is
//! active at a time: the database enforces it (a partial unique index on `lock_key`).

use entity::job_run::{self, RunStatus};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    JobKind, Queue, accounts,
    bulk_update::{self, BulkUpdateParams},
    params::{ParamError, RawParams},
    registry::{self, Validated},
    runs::{self, NewRun},
    sync::{AccountSelection, SyncParams},
};

pub use crate::error::SubmitError;

/// What a request to `POST /api/v1/runs` became.
#[derive(Debug)]
pub enum Submitted {
    /// The run to report: the parent when there are several.
    Queued(Box<job_run::Model>),
    /// A bulk update's dry run: what each item would change; nothing was stored or sent.
    Preview(Vec<bulk_update::PlannedItem>),
}

/// Validates a request's parameters as they arrived and creates its run(s).
pub async fn submit_request(
    db: &DatabaseConnection,
    queue: &Queue,
    kind: JobKind,
    params: RawParams<'_>,
    max_attempts: Option<u32>,
) -> Result<Submitted, SubmitError> {
    if kind == JobKind::BulkUpdate {
        let params: BulkUpdateParams = params.parse()?;
        params.validate()?;
        let items = params.items.into_items().map_err(SubmitError::Items)?;
        return Ok(if params.dry_run {
            Submitted::Preview(bulk_update::preview(db, &items).await?)
        } else {
            Submitted::Queued(Box::new(
                bulk_update::accept(db, queue, &items, max_attempts).await?,
            ))
        });
    }
    let validated = registry::validate_raw(kind, params)?;
    let run = submit(db, queue, kind, validated, max_attempts).await?;
    Ok(Submitted::Queued(Box::new(run)))
}

/// Creates and enqueues the run(s) of a validated request; returns the run to report
/// (the parent when there are several). Bulk updates go through [`submit_request`].
pub async fn submit(
    db: &DatabaseConnection,
    queue: &Queue,
    kind: JobKind,
    validated: Validated,
    max_attempts: Option<u32>,
) -> Result<job_run::Model, SubmitError> {
    let txn = crate::db::begin_write(db).await?;
    let created = insert_runs(&txn, db, kind, validated, max_attempts).await?;
    txn.commit().await?;
    dispatch_all(db, queue, created).await
}

/// Runs inserted by [`insert_runs`], not yet on the queue.
#[derive(Debug)]
pub struct Created {
    /// The run to report: the parent when there are several.
    pub report: job_run::Model,
    /// The runs that get a queue task (not a parent).
    pub to_dispatch: Vec<job_run::Model>,
}

/// Inserts the run(s) of a request inside the caller's transaction `txn` (so a scheduler
/// can claim its tick in the same one); `db` reads outside it. Not for bulk updates,
/// whose items are stored by `bulk_update::accept`.
pub async fn insert_runs<C: sea_orm::ConnectionTrait>(
    txn: &C,
    db: &DatabaseConnection,
    kind: JobKind,
    validated: Validated,
    max_attempts: Option<u32>,
) -> Result<Created, SubmitError> {
    if kind != JobKind::Sync {
        let new = NewRun {
            kind,
            params: validated.params,
            account: validated.account,
            max_attempts,
            parent_id: None,
            lock_key: None,
        };
        let run = runs::insert(txn, new).await?;
        return Ok(Created {
            report: run.clone(),
            to_dispatch: vec![run],
        });
    }
    let params: SyncParams = crate::params::parse(&validated.params)?;
    let names = resolve_accounts(db, &params.accounts).await?;
    let targets: Vec<(String, &str)> = names
        .iter()
        .flat_map(|n| params.resources().into_iter().map(move |r| (n.clone(), r)))
        .collect();
    let child = |name: &str, resource: &str, parent_id: Option<Uuid>| {
        let mut p = params.clone();
        p.accounts = AccountSelection::Named(vec![name.to_owned()]);
        p.resource = resource.to_owned();
        NewRun {
            kind,
            params: serde_json::to_value(&p).unwrap_or_default(),
            account: Some(name.to_owned()),
            max_attempts,
            parent_id,
            lock_key: Some(lock_key(name, resource)),
        }
    };
    if let [(name, resource)] = targets.as_slice() {
        let run = insert_locked(txn, db, child(name, resource, None)).await?;
        return Ok(Created {
            report: run.clone(),
            to_dispatch: vec![run],
        });
    }
    let parent = runs::insert(
        txn,
        NewRun {
            kind,
            params: validated.params,
            account: (names.len() == 1).then(|| names[0].clone()),
            max_attempts,
            parent_id: None,
            lock_key: None,
        },
    )
    .await?;
    let mut children = Vec::new();
    for (name, resource) in &targets {
        children.push(insert_locked(txn, db, child(name, resource, Some(parent.id))).await?);
    }
    Ok(Created {
        report: parent,
        to_dispatch: children,
    })
}

/// Gives every inserted run its queue task. A push the queue refuses leaves that run
/// queued without a task, for the reaper to dispatch once the queue answers
/// ([`runs::dispatch`]); the others still get theirs.
pub async fn dispatch_all(
    db: &DatabaseConnection,
    queue: &Queue,
    created: Created,
) -> Result<job_run::Model, SubmitError> {
    dispatch_all_after(db, queue, created, std::time::Duration::ZERO).await
}

/// [`dispatch_all`], each task due after `delay` (a schedule's start jitter).
pub async fn dispatch_all_after(
    db: &DatabaseConnection,
    queue: &Queue,
    created: Created,
    delay: std::time::Duration,
) -> Result<job_run::Model, SubmitError> {
    let Created {
        report,
        to_dispatch,
    } = created;
    let mut first_error = None;
    for run in to_dispatch {
        if let Err(e) = runs::dispatch(db, queue, run, delay).await {
            first_error.get_or_insert(e);
        }
    }
    if let Some(e) = first_error {
        if report.parent_id.is_none() && report.lock_key.is_none() && report.kind == "sync" {
            runs::refresh_parent(db, report.id).await?;
        }
        return Err(e.into());
    }
    Ok(report)
}

/// The checks of a request that need the database (a sync's accounts exist), without
/// creating anything: for schedules, whose runs are created later.
pub async fn check_in_db(
    db: &DatabaseConnection,
    kind: JobKind,
    params: &serde_json::Value,
) -> Result<(), SubmitError> {
    if kind == JobKind::Sync {
        let params: SyncParams = crate::params::parse(params)?;
        resolve_accounts(db, &params.accounts).await?;
    }
    Ok(())
}

pub fn lock_key(account: &str, resource: &str) -> String {
    format!("sync:{account}:{resource}")
}

async fn resolve_accounts(
    db: &DatabaseConnection,
    selection: &AccountSelection,
) -> Result<Vec<String>, SubmitError> {
    let known: Vec<String> = accounts::list(db)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    match selection {
        AccountSelection::All(_) if known.is_empty() => Err(ParamError::new(
            "params.accounts",
            "no eMAG accounts exist yet; add one with POST /api/v1/accounts",
        )
        .into()),
        AccountSelection::All(_) => Ok(known),
        AccountSelection::Named(names) => {
            let mut out: Vec<String> = Vec::new();
            for (i, name) in names.iter().enumerate() {
                if !known.contains(name) {
                    return Err(ParamError::new(
                        format!("params.accounts[{i}]"),
                        format!("no eMAG account named {name:?}"),
                    )
                    .into());
                }
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            Ok(out)
        }
    }
}

/// Inserts a run holding a lock key; a clash with an active run becomes `Conflict`.
async fn insert_locked<C: sea_orm::ConnectionTrait>(
    txn: &C,
    db: &DatabaseConnection,
    new: NewRun,
) -> Result<job_run::Model, SubmitError> {
    let key = new.lock_key.clone().unwrap_or_default();
    match runs::insert(txn, new).await {
        Ok(run) => Ok(run),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let holder = job_run::Entity::find()
                .filter(job_run::Column::LockKey.eq(key.as_str()))
                .filter(job_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
                .one(db)
                .await?;
            let what = key.replacen("sync:", "a sync of ", 1).replacen(':', " ", 1);
            Err(SubmitError::Conflict {
                what,
                run_id: holder.map_or(Uuid::nil(), |r| r.id),
            })
        }
        Err(e) => Err(e.into()),
    }
}
