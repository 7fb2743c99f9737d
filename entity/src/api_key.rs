//! API keys. Only a hash of the secret part is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `admin` or `viewer`.
    pub role: String,
    /// Public lookup part of the key (`mf_<prefix>_<secret>`).
    #[sea_orm(unique)]
    pub prefix: String,
    /// Hex SHA-256 of the whole key.
    pub hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The key stops working at this time (set on creation, or by a rotation's grace).
    pub expires_at: Option<DateTimeUtc>,
    /// Client networks the key is accepted from (`["10.0.0.0/8"]`); none = anywhere.
    pub allowed_cidrs: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
