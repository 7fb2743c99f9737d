//! The per-account circuit breaker. eMAG has per-account storms of 5xx answers that last
//! minutes (docs/emag.md §5.5, §5.6.7): once a page keeps failing after the client's own
//! retries, the account is marked degraded until a cool-down ends, and every run of it
//! pauses (without using an attempt) instead of failing, up to `MAGFLOW_EMAG_MAX_PAUSE`
//! (then it fails with `emag_unavailable`, and its subscribers hear of it).

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::emag_account;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

/// An account eMAG is failing for.
#[derive(Clone, Copy, Debug)]
pub struct Outage {
    /// The breaker holds the account's runs until then.
    pub until: DateTime<Utc>,
    /// When the breaker first opened in this outage.
    pub since: DateTime<Utc>,
}

/// The account's outage, if the breaker holds it now.
pub async fn outage(db: &DatabaseConnection, account: &str) -> Result<Option<Outage>, DbErr> {
    type Times = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let row: Option<Times> = emag_account::Entity::find()
        .select_only()
        .column(emag_account::Column::DegradedUntil)
        .column(emag_account::Column::UnreachableSince)
        .filter(emag_account::Column::Name.eq(account))
        .into_tuple()
        .one(db)
        .await?;
    let now = Utc::now();
    Ok(match row {
        Some((Some(until), since)) if until > now => Some(Outage {
            until,
            since: since.unwrap_or(now),
        }),
        _ => None,
    })
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
    // The outage began at the first opening; a later one keeps that time.
    emag_account::Entity::update_many()
        .col_expr(
            emag_account::Column::UnreachableSince,
            Expr::value(Utc::now()),
        )
        .filter(emag_account::Column::Name.eq(account))
        .filter(emag_account::Column::UnreachableSince.is_null())
        .exec(db)
        .await?;
    Ok(until)
}

/// eMAG answered again: the account is healthy, and its outage over.
pub async fn close(db: &DatabaseConnection, account: &str) -> Result<(), DbErr> {
    emag_account::Entity::update_many()
        .col_expr(
            emag_account::Column::UnreachableSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            emag_account::Column::DegradedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            emag_account::Column::DegradedReason,
            Expr::value(Option::<String>::None),
        )
        .filter(emag_account::Column::Name.eq(account))
        .filter(
            sea_orm::Condition::any()
                .add(emag_account::Column::DegradedUntil.is_not_null())
                .add(emag_account::Column::UnreachableSince.is_not_null()),
        )
        .exec(db)
        .await?;
    Ok(())
}
