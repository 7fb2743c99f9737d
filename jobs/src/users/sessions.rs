//! Signed-in browsers, stored server-side so any API process serves any of them. The
//! cookie carries 256 random bits; the row is keyed by their SHA-256, so neither a log
//! line nor a database dump opens a session.

use chrono::{DateTime, Duration, Utc};
use entity::{
    console_session::{self, Stage},
    user,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::api_keys::random;

/// How long a session lives: since its last request, and at most since its start.
#[derive(Clone, Copy, Debug)]
pub struct Lifetime {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Lifetime {
    /// The configured lifetime (`MAGFLOW_CONSOLE_IDLE_TIMEOUT_S`,
    /// `MAGFLOW_CONSOLE_ABSOLUTE_TIMEOUT_S`), at least a second each way.
    pub fn of(config: &crate::Config) -> Lifetime {
        const TEN_YEARS: i64 = 10 * 365 * 86_400;
        let secs =
            |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(TEN_YEARS).clamp(1, TEN_YEARS));
        Lifetime {
            idle: secs(config.console_idle_timeout_s),
            absolute: secs(config.console_absolute_timeout_s),
        }
    }

    fn expired(&self, session: &console_session::Model, now: DateTime<Utc>) -> bool {
        now - session.last_seen_at >= self.idle || now - session.created_at >= self.absolute
    }

    /// How stale `last_seen_at` may get before a request moves it: a write per request
    /// would be a write per page view, and the idle timeout needs no finer grain.
    fn touch_after(&self) -> Duration {
        (self.idle / 4).min(Duration::seconds(15))
    }
}

fn key(token: &str) -> String {
    crate::api_keys::hash(token)
}

/// A session that was just started: the cookie value goes to the browser once.
pub struct Started {
    pub token: String,
    pub session: console_session::Model,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// Starts a session for `user` at `stage`.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    stage: Stage,
    address: Option<String>,
) -> Result<Started, DbErr> {
    let token = random(43);
    let now = Utc::now();
    let session = console_session::Model {
        id: key(&token),
        user_id: user,
        stage,
        csrf_token: random(43),
        created_at: now,
        last_seen_at: now,
        address: address.map(|a| a.chars().take(64).collect()),
    };
    console_session::Entity::insert(console_session::ActiveModel {
        id: Set(session.id.clone()),
        user_id: Set(session.user_id),
        stage: Set(session.stage),
        csrf_token: Set(session.csrf_token.clone()),
        created_at: Set(session.created_at),
        last_seen_at: Set(session.last_seen_at),
        address: Set(session.address.clone()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(Started { token, session })
}

/// The live session behind cookie value `token` and its user, moving its idle clock. An
/// expired session, or one of a disabled user, is deleted and is `None`.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    token: &str,
    lifetime: Lifetime,
) -> Result<Option<(console_session::Model, user::Model)>, DbErr> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let id = key(token);
    let Some((mut session, Some(user))) = console_session::Entity::find_by_id(id.clone())
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if lifetime.expired(&session, now) || user.disabled_at.is_some() {
        end(db, token).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= lifetime.touch_after() {
        console_session::Entity::update_many()
            .col_expr(console_session::Column::LastSeenAt, Expr::value(now))
            .filter(console_session::Column::Id.eq(id))
            .exec(db)
            .await?;
        session.last_seen_at = now;
    }
    Ok(Some((session, user)))
}

/// Moves a session on to `stage` under a new cookie value (a session id never survives a
/// change of privilege, so one planted before sign-in is worth nothing after).
pub async fn advance<C: ConnectionTrait>(
    db: &C,
    old_token: &str,
    session: &console_session::Model,
    stage: Stage,
) -> Result<Started, DbErr> {
    end(db, old_token).await?;
    start(db, session.user_id, stage, session.address.clone()).await
}

/// Ends the session behind `token` (sign-out).
pub async fn end<C: ConnectionTrait>(db: &C, token: &str) -> Result<(), DbErr> {
    console_session::Entity::delete_by_id(key(token))
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends every session of `user` ("sign out everywhere", a password change, disabling).
pub async fn end_all<C: ConnectionTrait>(db: &C, user: Uuid) -> Result<u64, DbErr> {
    console_session::Entity::delete_many()
        .filter(console_session::Column::UserId.eq(user))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Deletes sessions past their lifetime (the reaper's hourly purge): a browser that never
/// came back leaves no row for ever.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, lifetime: Lifetime) -> Result<u64, DbErr> {
    let now = Utc::now();
    console_session::Entity::delete_many()
        .filter(
            console_session::Column::LastSeenAt
                .lte(now - lifetime.idle)
                .or(console_session::Column::CreatedAt.lte(now - lifetime.absolute)),
        )
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Whether `given` is the session's CSRF token (compared in constant time).
pub fn csrf_matches(session: &console_session::Model, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    !given.is_empty() && bool::from(session.csrf_token.as_bytes().ct_eq(given.as_bytes()))
}
