//! Console users: people with a name, a password and a role (the same roles as API
//! keys). [`password`] holds the policy and hashing, [`sessions`] the signed-in
//! browsers, [`sign_in`] the check of a name and password with its throttling.

pub mod password;
pub mod sessions;
pub mod sign_in;
pub mod two_factor;
pub mod uploads;

use chrono::Utc;
use entity::user::{self, Locale, Role, Theme};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

pub use password::PasswordError;

/// The default time zone of the console's dates.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Bucharest";

/// Why a user could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("name: 1 to 64 letters, digits, '.', '-', '_' or '@'")]
    BadName,
    #[error("name: a user called {0:?} exists")]
    NameTaken(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether `name` may name a user: short, and safe in a log line and a URL.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
}

/// Creates a user after checking the name and the password policy.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    name: &str,
    role: Role,
    password: &str,
) -> Result<user::Model, UserError> {
    if !valid_name(name) {
        return Err(UserError::BadName);
    }
    password::check(password, name)?;
    if find_by_name(db, name).await?.is_some() {
        return Err(UserError::NameTaken(name.to_owned()));
    }
    let hash = password::hash(password.to_owned()).await?;
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        role: Set(role),
        password_hash: Set(hash),
        password_changed_at: Set(now),
        created_at: Set(now),
        disabled_at: Set(None),
        totp_secret: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
        recovery_codes: Set(None),
        locale: Set(Locale::Ro),
        theme: Set(Theme::System),
        time_zone: Set(DEFAULT_TIME_ZONE.to_owned()),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        last_sign_in_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Two creations of one name at once: the unique index decides.
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            UserError::NameTaken(name.to_owned())
        }
        _ => UserError::Db(e),
    })?;
    Ok(model)
}

pub async fn find_by_name<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Every user, by name.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .order_by_asc(user::Column::Name)
        .all(db)
        .await
}

/// How many users were ever made (the first start makes `admin` when there are none).
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

/// Sets `user`'s password after the policy check, lifts a lock from failed sign-ins,
/// and ends every session of theirs: whoever held the old password is signed out.
pub async fn set_password<C: ConnectionTrait>(
    db: &C,
    user: &user::Model,
    password: &str,
) -> Result<(), UserError> {
    password::check(password, &user.name)?;
    let hash = password::hash(password.to_owned()).await?;
    let row = user::ActiveModel {
        id: Set(user.id),
        password_hash: Set(hash),
        password_changed_at: Set(Utc::now()),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        ..Default::default()
    };
    user::Entity::update(row).exec(db).await?;
    sessions::end_all(db, user.id).await?;
    Ok(())
}

/// Turns `user`'s second factor off (secret and recovery codes gone) and ends their
/// sessions: for someone who lost their phone and their codes. They enrol again at their
/// next sign-in where the second factor is required.
pub async fn clear_two_factor<C: ConnectionTrait>(db: &C, user: &user::Model) -> Result<(), DbErr> {
    let row = user::ActiveModel {
        id: Set(user.id),
        totp_secret: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
        recovery_codes: Set(None),
        ..Default::default()
    };
    user::Entity::update(row).exec(db).await?;
    sessions::end_all(db, user.id).await?;
    Ok(())
}

/// Gives `user` another role.
pub async fn set_role<C: ConnectionTrait>(
    db: &C,
    user: &user::Model,
    role: Role,
) -> Result<(), DbErr> {
    let row = user::ActiveModel {
        id: Set(user.id),
        role: Set(role),
        ..Default::default()
    };
    user::Entity::update(row).exec(db).await.map(|_| ())
}

/// A user's own settings, remembered across sign-ins.
#[derive(Clone, Debug, Default)]
pub struct Preferences {
    pub locale: Option<Locale>,
    pub theme: Option<Theme>,
    pub time_zone: Option<chrono_tz::Tz>,
}

/// Stores the preferences given (the others stay).
pub async fn set_preferences<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    prefs: &Preferences,
) -> Result<(), DbErr> {
    let mut row = user::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    if let Some(locale) = prefs.locale {
        row.locale = Set(locale);
    }
    if let Some(theme) = prefs.theme {
        row.theme = Set(theme);
    }
    if let Some(tz) = prefs.time_zone {
        row.time_zone = Set(tz.name().to_owned());
    }
    if row.is_changed() {
        user::Entity::update(row).exec(db).await?;
    }
    Ok(())
}
