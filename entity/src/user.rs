//! People who sign in to the console. Only an argon2id hash of the password is kept;
//! the TOTP secret is sealed with the same key as eMAG passwords.

use sea_orm::entity::prelude::*;

pub use crate::{api_key::Role, notification_subscription::Locale};

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub role: Role,
    /// PHC string (`$argon2id$v=19$…`).
    pub password_hash: String,
    pub password_changed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// A disabled user cannot sign in; their sessions end.
    pub disabled_at: Option<DateTimeUtc>,
    /// Sealed base32 TOTP secret; set at enrolment, in use once `totp_enabled_at` is set.
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The time step of the last code accepted (each code is good once).
    pub totp_last_step: Option<i64>,
    /// SHA-256 hashes of the unused one-time recovery codes.
    pub recovery_codes: Option<Json>,
    pub locale: Locale,
    pub theme: Theme,
    /// IANA zone the console shows times in.
    pub time_zone: String,
    /// Wrong passwords or codes since the last sign-in.
    pub failed_sign_ins: i32,
    /// No sign-in is tried before then (throttling after failures).
    pub locked_until: Option<DateTimeUtc>,
    pub last_sign_in_at: Option<DateTimeUtc>,
}

// By hand, so no hash or sealed secret can reach a log line through `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("totp_enabled", &self.totp_enabled_at.is_some())
            .field("disabled", &self.disabled_at.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// The console's colours.
    pub enum Theme {
        /// Follows the browser's preference.
        System = "system",
        Light = "light",
        Dark = "dark",
    }
}
