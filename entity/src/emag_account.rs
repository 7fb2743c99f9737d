//! An eMAG seller login magflow syncs. The password is stored sealed (see `jobs::secrets`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "emag_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What runs and the API call it, e.g. `main`, `fbe`.
    #[sea_orm(unique)]
    pub name: String,
    pub kind: AccountKind,
    /// When the base URL is the platform's.
    pub platform: Option<Platform>,
    pub base_url: String,
    pub username: String,
    /// `v1:` + base64(nonce ‖ ciphertext).
    pub password_sealed: String,
    /// Set by the circuit breaker after a storm of eMAG errors: runs of this account
    /// pause until then instead of failing.
    pub degraded_until: Option<DateTimeUtc>,
    pub degraded_reason: Option<String>,
    /// When the breaker first opened in the current outage; cleared when eMAG answers.
    pub unreachable_since: Option<DateTimeUtc>,
    /// SHA-256 (hex) of the secret in the URLs eMAG calls back; none: callbacks are off.
    pub callback_secret_hash: Option<String>,
    pub callback_secret_set_at: Option<DateTimeUtc>,
    /// A new seller-fulfilled order read because eMAG called back is acknowledged
    /// (status 1 → 2) at once.
    pub auto_acknowledge: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Which of a seller's eMAG accounts this is.
    pub enum AccountKind {
        /// Offers the seller ships.
        Main = "main",
        /// Fulfilled by eMAG.
        Fbe = "fbe",
    }
}

stored_enum! {
    /// An eMAG marketplace, by country.
    pub enum Platform {
        Ro = "ro",
        Bg = "bg",
        Hu = "hu",
    }
}
