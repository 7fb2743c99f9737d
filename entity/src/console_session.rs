//! Signed-in browsers. The row's key is a SHA-256 of the cookie, never the cookie.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// Hex SHA-256 of the session cookie's value.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: Uuid,
    pub stage: Stage,
    /// Sent with every form that changes something.
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    /// Moves with each request; the idle timeout counts from here.
    pub last_seen_at: DateTimeUtc,
    pub address: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("user_id", &self.user_id)
            .field("stage", &self.stage)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// How far a sign-in has come.
    pub enum Stage {
        /// The password was right; the TOTP code is still to come.
        SecondFactor = "second_factor",
        /// Signed in, but must enrol a second factor before anything else.
        Enrol = "enrol",
        /// Signed in.
        Full = "full",
    }
}
