//! A sync's submission. A request over several accounts, or over both resources, becomes
//! one run per (account, resource) grouped under a parent, so each runs in parallel under
//! its own login's budget and can be followed, cancelled and retried alone. At most one
//! sync per (account, resource) is active at a time: the database enforces it (a partial
//! unique index on `lock_key`).

use entity::job_run::{self, RunStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{AccountSelection, Resource, SyncParams};
use crate::{
    accounts,
    error::SubmitError,
    kind::JobKind,
    params::ParamError,
    runs::{self, NewRun},
    submit::Created,
};

/// A sync's runs: one per (account, resource), under a parent when there are several.
pub(super) async fn insert_runs<C: ConnectionTrait>(
    txn: &C,
    db: &DatabaseConnection,
    params: SyncParams,
    max_attempts: u32,
) -> Result<Created, SubmitError> {
    let kind = JobKind::Sync;
    let names = resolve_accounts(db, &params.accounts).await?;
    let targets: Vec<(String, Resource)> = names
        .iter()
        .flat_map(|n| params.resources().into_iter().map(move |r| (n.clone(), r)))
        .collect();
    let child = |name: &str, resource: Resource, parent_id: Option<Uuid>| {
        let mut p = params.clone();
        p.accounts = AccountSelection::Named(vec![name.to_owned()]);
        p.resource = resource;
        NewRun {
            kind,
            params: serde_json::to_value(&p).unwrap_or_default(),
            account: Some(name.to_owned()),
            max_attempts,
            parent_id,
            // A read of named orders (an eMAG callback) neither waits for nor blocks
            // a whole sync; the callback route itself keeps repeats apart.
            lock_key: p
                .order_ids
                .is_empty()
                .then(|| lock_key(name, resource.as_str())),
        }
    };
    if let [(name, resource)] = targets.as_slice() {
        let run = insert_locked(txn, db, child(name, *resource, None)).await?;
        return Ok(Created {
            report: run.clone(),
            to_dispatch: vec![run],
        });
    }
    let parent = runs::insert(
        txn,
        NewRun {
            kind,
            params: serde_json::to_value(&params)
                .map_err(|e| ParamError::new("params", e.to_string()))?,
            account: (names.len() == 1).then(|| names[0].clone()),
            max_attempts,
            parent_id: None,
            lock_key: None,
        },
    )
    .await?;
    let mut children = Vec::new();
    for (name, resource) in &targets {
        children.push(insert_locked(txn, db, child(name, *resource, Some(parent.id))).await?);
    }
    Ok(Created {
        report: parent,
        to_dispatch: children,
    })
}

/// The accounts a request names exist: for schedules, whose runs are created later.
pub(super) async fn check_in_db(
    db: &DatabaseConnection,
    params: &SyncParams,
) -> Result<(), SubmitError> {
    resolve_accounts(db, &params.accounts).await.map(|_| ())
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
async fn insert_locked<C: ConnectionTrait>(
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
