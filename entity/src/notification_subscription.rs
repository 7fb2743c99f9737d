//! Who gets an e-mail when which runs end.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// E-mail addresses, a JSON array of strings.
    pub recipients: Json,
    /// Job kinds, a JSON array of strings, or the string `"all"`.
    pub kinds: Json,
    pub on: NotifyOn,
    pub locale: Locale,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Which ends of a run a subscription hears about.
    pub enum NotifyOn {
        /// Succeeded.
        Success = "success",
        /// Failed or dead.
        Failure = "failure",
        /// Every end, cancelled included.
        Both = "both",
    }
}

stored_enum! {
    /// The language of what magflow writes to people.
    pub enum Locale {
        /// Romanian.
        Ro = "ro",
        /// English.
        En = "en",
    }
}
