//! API keys. Only a hash of the secret part is stored.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub role: Role,
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

/// What a key (and later a user) may do.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May read, stream and change everything.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// May read and stream.
    #[sea_orm(string_value = "viewer")]
    Viewer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
