//! Checking a name and password, with the per-user throttle: after a few failures a user
//! is locked for a time that doubles with each further failure, so guessing one user's
//! password from many addresses is as slow as from one. (Per-address throttling is the
//! API's, shared with API keys.)

use chrono::{DateTime, Duration, Utc};
use entity::user;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use super::password;

/// Failures allowed before the first lock.
const FREE_FAILURES: i32 = 5;
/// The longest lock.
const MAX_LOCK: Duration = Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong name or password, or a disabled user: one answer for all, so it tells
    /// nothing about which names exist.
    #[error("wrong name or password")]
    Refused,
    #[error("too many failed sign-ins; try again after {0}")]
    Locked(DateTime<Utc>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The lock after `failures` failures in a row, if any.
fn lock_for(failures: i32) -> Option<Duration> {
    let over = failures - FREE_FAILURES;
    (over >= 0).then(|| {
        std::cmp::min(
            Duration::seconds(1_i64 << std::cmp::min(over, 10)),
            MAX_LOCK,
        )
    })
}

/// The user named `name` if `password` is theirs.
pub async fn check_password<C: ConnectionTrait>(
    db: &C,
    name: &str,
    password: &str,
) -> Result<user::Model, SignInError> {
    let found = super::find_by_name(db, name).await?;
    let phc = found
        .as_ref()
        .map_or_else(|| password::DECOY.to_owned(), |u| u.password_hash.clone());
    let now = Utc::now();
    if let Some(until) = found.as_ref().and_then(|u| u.locked_until)
        && until > now
    {
        return Err(SignInError::Locked(until));
    }
    // Verified even for an unknown name (against the decoy), so both take as long.
    let matches = password::verify(phc, password.to_owned()).await;
    let Some(user) = found else {
        return Err(SignInError::Refused);
    };
    if !matches || user.disabled_at.is_some() {
        failed(db, &user).await?;
        return Err(SignInError::Refused);
    }
    Ok(user)
}

/// Counts a failure (a wrong password or second factor) and locks the user past the
/// free ones.
pub async fn failed<C: ConnectionTrait>(db: &C, user: &user::Model) -> Result<(), DbErr> {
    let failures = user.failed_sign_ins.saturating_add(1);
    let locked_until = lock_for(failures).map(|d| Utc::now() + d);
    user::Entity::update_many()
        .col_expr(
            user::Column::FailedSignIns,
            Expr::col(user::Column::FailedSignIns).add(1),
        )
        .col_expr(user::Column::LockedUntil, Expr::value(locked_until))
        .filter(user::Column::Id.eq(user.id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Clears the failures after a complete sign-in.
pub async fn succeeded<C: ConnectionTrait>(db: &C, user: &user::Model) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::FailedSignIns, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(user::Column::LastSignInAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(user.id))
        .exec(db)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_and_stop_growing() {
        assert_eq!(lock_for(FREE_FAILURES - 1), None);
        assert_eq!(lock_for(FREE_FAILURES), Some(Duration::seconds(1)));
        assert_eq!(lock_for(FREE_FAILURES + 3), Some(Duration::seconds(8)));
        assert_eq!(lock_for(FREE_FAILURES + 40), Some(MAX_LOCK));
    }
}
