//! The per-account circuit breaker. eMAG has per-account storms of 5xx answers that last
//! minutes (docs/emag.md §5.5, §5.6.7): once a page keeps failing after the client's own
//! retries, the account is marked degraded until a cool-down ends, and every run of it
//! pauses (without using an attempt) instead of failing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::emag_account;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

/// Until when the account is degraded, if it is now.
pub async fn degraded_until(
    db: &DatabaseConnection,
    account: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let until: Option<Option<DateTime<Utc>>> = emag_account::Entity::find()
        .select_only()
        .column(emag_account::Column::DegradedUntil)
        .filter(emag_account::Column::Name.eq(account))
        .into_tuple()
        .one(db)
        .await?;
    Ok(until.flatten().filter(|t| *t > Utc::now()))
}

pub async fn open(
    db: &DatabaseConnection,
    account: &str,
    cooldown: Duration,
    reason: &str,
) -> Result<DateTime<Utc>, DbErr> {
    let until = Utc::now() + chrono::Duration::from_std(cooldown).unwrap_or_default();
    emag_account::Entity::update_many()
        .col_expr(emag_account::Column::DegradedUntil, Expr::value(until))
        .col_expr(emag_account::Column::DegradedReason, Expr::value(reason))
        .filter(emag_account::Column::Name.eq(account))
        .exec(db)
        .await?;
    Ok(until)
}

/// eMAG answered again: the account is healthy.
pub async fn close(db: &DatabaseConnection, account: &str) -> Result<(), DbErr> {
    emag_account::Entity::update_many()
        .col_expr(
            emag_account::Column::DegradedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            emag_account::Column::DegradedReason,
            Expr::value(Option::<String>::None),
        )
        .filter(emag_account::Column::Name.eq(account))
        .filter(emag_account::Column::DegradedUntil.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}
