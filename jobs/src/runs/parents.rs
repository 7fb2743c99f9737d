//! Parent runs (a request over several accounts or resources) follow their children:
//! sums of their counters, and a status derived from theirs.

use chrono::Utc;
use entity::job_run::{self, RunStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionSession, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use super::next_revision;
use crate::counters::Counters;

/// True for a parent run: one that other runs name as theirs. A parent gets no queue
/// task of its own and never waits in a queue; its runs do.
pub fn is_parent() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, ExprTrait, Query};
    let child = Alias::new("child");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(job_run::Entity, child.clone())
            .and_where(
                Expr::col((child, job_run::Column::ParentId))
                    .equals((job_run::Entity, job_run::Column::Id)),
            )
            .to_owned(),
    )
}

pub async fn children<C: ConnectionTrait>(
    db: &C,
    parent: Uuid,
) -> Result<Vec<job_run::Model>, DbErr> {
    job_run::Entity::find()
        .filter(job_run::Column::ParentId.eq(parent))
        .order_by_asc(job_run::Column::Id)
        .all(db)
        .await
}

/// Recomputes a parent run from its children: counters are their sums; it is running
/// once any has started, and ends when all have ended (succeeded only if all did).
///
/// Under the parent's row lock (PostgreSQL `FOR UPDATE`; SQLite's IMMEDIATE transaction
/// holds the write lock), so refreshes by children that end at the same moment take
/// turns: each reads what the previous ones committed, and a refresh that read an older
/// state can never be written after a newer one (a parent left running forever).
pub async fn refresh_parent<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    parent: Uuid,
) -> Result<(), DbErr> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    let mut lock = job_run::Entity::find_by_id(parent);
    if txn.get_database_backend() == DbBackend::Postgres {
        lock = lock.lock_exclusive();
    }
    if lock.one(&txn).await?.is_none() {
        return Ok(());
    }
    refresh_locked(&txn, parent).await?;
    txn.commit().await
}

async fn refresh_locked<C: ConnectionTrait>(db: &C, parent: Uuid) -> Result<(), DbErr> {
    let runs = children(db, parent).await?;
    if runs.is_empty() {
        return Ok(());
    }
    let ended = runs.iter().all(|r| r.status.is_terminal());
    let failed: Vec<&job_run::Model> = runs
        .iter()
        .filter(|r| matches!(r.status, RunStatus::Failed | RunStatus::Dead))
        .collect();
    let status = if !ended {
        if runs.iter().any(|r| r.started_at.is_some()) {
            RunStatus::Running
        } else {
            RunStatus::Queued
        }
    } else if !failed.is_empty() {
        RunStatus::Failed
    } else if runs.iter().any(|r| r.status == RunStatus::Cancelled) {
        RunStatus::Cancelled
    } else {
        RunStatus::Succeeded
    };
    let (category, message) = match failed.first() {
        Some(first) => (
            first.error_category,
            Some(format!(
                "{} of {} runs failed; first: {} ({})",
                failed.len(),
                runs.len(),
                first.error_message.clone().unwrap_or_default(),
                first.account.clone().unwrap_or_default()
            )),
        ),
        None => (None, None),
    };
    let now = Utc::now();
    let throughput: f64 = runs.iter().filter_map(|r| r.throughput).sum();
    let eta = runs.iter().filter_map(|r| r.eta_seconds).reduce(f64::max);
    let started = runs.iter().filter_map(|r| r.started_at).min();
    let counters: Vec<Counters> = runs.iter().map(Counters::from_run).collect();
    Counters::sum(&counters)
        .write(job_run::Entity::update_many())
        .col_expr(job_run::Column::Status, Expr::value(status))
        .col_expr(
            job_run::Column::Throughput,
            Expr::value((!ended && throughput > 0.0).then_some(throughput)),
        )
        .col_expr(
            job_run::Column::EtaSeconds,
            Expr::value(if ended { None } else { eta }),
        )
        .col_expr(job_run::Column::ErrorCategory, Expr::value(category))
        .col_expr(job_run::Column::ErrorMessage, Expr::value(message))
        .col_expr(job_run::Column::StartedAt, Expr::value(started))
        .col_expr(
            job_run::Column::FinishedAt,
            Expr::value(ended.then_some(now)),
        )
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .filter(job_run::Column::Id.eq(parent))
        .exec(db)
        .await?;
    Ok(())
}

/// Parents that are not over although every child is: a refresh was lost (a crash
/// between a child's end and its parent's refresh). The reaper ends them.
pub async fn stuck_parents<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>, DbErr> {
    use sea_orm::sea_query::Query;
    let open = [RunStatus::Queued, RunStatus::Running];
    let parents = Query::select()
        .column(job_run::Column::ParentId)
        .from(job_run::Entity)
        .and_where(job_run::Column::ParentId.is_not_null())
        .to_owned();
    let open_parents = Query::select()
        .column(job_run::Column::ParentId)
        .from(job_run::Entity)
        .and_where(job_run::Column::ParentId.is_not_null())
        .and_where(job_run::Column::Status.is_in(open))
        .to_owned();
    job_run::Entity::find()
        .select_only()
        .column(job_run::Column::Id)
        .filter(job_run::Column::Status.is_in(open))
        .filter(job_run::Column::Id.in_subquery(parents))
        .filter(job_run::Column::Id.not_in_subquery(open_parents))
        .limit(100)
        .into_tuple()
        .all(db)
        .await
}
