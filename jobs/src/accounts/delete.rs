//! Deleting an account, with its synced data and its active runs.

use entity::emag_account;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// Deletes the account with everything synced from it (offers, orders and their lines,
/// sync bookmarks, daily history), so an account created again under the same name starts empty; its
/// active syncs and bulk updates are cancelled (category `account_deleted`): queued ones
/// at once, running ones at their next checkpoint. False if there is no such account.
///
/// The account's row goes first: a sync page in flight holds it (`FOR SHARE`, or SQLite's
/// write lock), so the data is deleted only after that page committed, and a later page
/// finds the account gone and writes nothing.
pub async fn delete(db: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    use entity::{bulk_item, job_run, offer, order, order_line, sync_state};
    use sea_orm::sea_query::{Expr, Query};
    let txn = crate::db::begin_write(db).await?;
    let removed = emag_account::Entity::delete_many()
        .filter(emag_account::Column::Name.eq(name))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Ok(false);
    }
    order_line::Entity::delete_many()
        .filter(order_line::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    order::Entity::delete_many()
        .filter(order::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    offer::Entity::delete_many()
        .filter(offer::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    sync_state::Entity::delete_many()
        .filter(sync_state::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    crate::analytics::forget(&txn, name).await?;
    let bulk_runs = Query::select()
        .column(bulk_item::Column::RunId)
        .from(bulk_item::Entity)
        .and_where(bulk_item::Column::Account.eq(name))
        .to_owned();
    let active: Vec<Uuid> = job_run::Entity::find()
        .select_only()
        .column(job_run::Column::Id)
        .filter(
            job_run::Column::Status
                .is_in([job_run::RunStatus::Queued, job_run::RunStatus::Running]),
        )
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(job_run::Column::Kind.eq(job_run::JobKind::Sync))
                        .add(job_run::Column::Account.eq(name)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(job_run::Column::Kind.eq(job_run::JobKind::BulkUpdate))
                        .add(job_run::Column::Id.in_subquery(bulk_runs)),
                ),
        )
        .into_tuple()
        .all(&txn)
        .await?;
    // The reason first: a cancelled run keeps the category it was stopped for.
    job_run::Entity::update_many()
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(crate::ErrorCategory::AccountDeleted),
        )
        .col_expr(
            job_run::Column::ErrorMessage,
            Expr::value(format!("the eMAG account {name:?} was deleted")),
        )
        .filter(job_run::Column::Id.is_in(active.clone()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    for id in active {
        crate::lifecycle::cancel(db, id).await?;
    }
    Ok(true)
}
