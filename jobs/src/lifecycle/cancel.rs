//! Cancelling a run: a queued run ends at once; a running one is asked to stop, and its
//! handler ends it at its next check. A parent is cancelled through its runs.

use chrono::Utc;
use entity::job_run::{self, RunStatus};
use sea_orm::{DatabaseConnection, DbErr, sea_query::Expr};
use uuid::Uuid;

use super::{Event, change};
use crate::runs::{children, find, next_revision, refresh_parent};

/// What a cancel request did.
#[derive(Debug)]
pub enum CancelOutcome {
    /// It had not started: it is cancelled now.
    Cancelled(job_run::Model),
    /// It is running: its handler stops at the next checkpoint.
    Requested(job_run::Model),
    /// It had already ended; nothing changed.
    AlreadyFinished(job_run::Model),
    NotFound,
}

pub async fn cancel(db: &DatabaseConnection, id: Uuid) -> Result<CancelOutcome, DbErr> {
    let children = children(db, id).await?;
    if children.is_empty() {
        let outcome = cancel_one(db, id).await?;
        if let CancelOutcome::Cancelled(run) | CancelOutcome::Requested(run) = &outcome
            && let Some(parent) = run.parent_id
        {
            refresh_parent(db, parent).await?;
        }
        return Ok(outcome);
    }
    // A parent is cancelled through its runs; its own row follows them.
    for child in &children {
        cancel_one(db, child.id).await?;
    }
    refresh_parent(db, id).await?;
    let Some(parent) = find(db, id).await? else {
        return Ok(CancelOutcome::NotFound);
    };
    Ok(match parent.status {
        RunStatus::Cancelled => CancelOutcome::Cancelled(parent),
        s if s.is_terminal() => CancelOutcome::AlreadyFinished(parent),
        _ => CancelOutcome::Requested(parent),
    })
}

async fn cancel_one(db: &DatabaseConnection, id: Uuid) -> Result<CancelOutcome, DbErr> {
    if cancel_queued(db, id).await? {
        let run = find(db, id)
            .await?
            .ok_or(DbErr::RecordNotFound(id.to_string()))?;
        return Ok(CancelOutcome::Cancelled(run));
    }
    let asked = ask_to_cancel(db, id).await?;
    let Some(run) = find(db, id).await? else {
        return Ok(CancelOutcome::NotFound);
    };
    Ok(if asked {
        CancelOutcome::Requested(run)
    } else {
        CancelOutcome::AlreadyFinished(run)
    })
}

/// Ends a run that has not started; false if it is not queued.
pub(super) async fn cancel_queued(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    let result = change(Event::Cancel, id)
        .col_expr(job_run::Column::CancelRequested, Expr::value(true))
        .col_expr(job_run::Column::FinishedAt, Expr::value(now))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
        .col_expr(job_run::Column::Revision, next_revision())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Asks a running run's handler to stop; false if it is not running.
pub(super) async fn ask_to_cancel(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    let result = change(Event::AskToCancel, id)
        .col_expr(job_run::Column::CancelRequested, Expr::value(true))
        .col_expr(job_run::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(job_run::Column::Revision, next_revision())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
