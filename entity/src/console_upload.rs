//! A file uploaded in the console (a bulk update's CSV), kept between its dry run and
//! its confirmation, and only as long as the session that uploaded it.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "console_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The uploading session's row: only it can see or send the file.
    pub session_id: String,
    pub file_name: String,
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleUpload")
            .field("id", &self.id)
            .field("file_name", &self.file_name)
            .field("bytes", &self.content.len())
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::console_session::Entity",
        from = "Column::SessionId",
        to = "super::console_session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
}

impl Related<super::console_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
