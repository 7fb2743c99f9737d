//! Files a console session uploaded (a bulk update's CSV), kept between the dry run and
//! the confirmation. Only the uploading session reads or removes one; signing out or the
//! session's end removes them with it (a cascading key).

use chrono::Utc;
use entity::console_upload;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

pub async fn stage(
    db: &DatabaseConnection,
    session_id: &str,
    file_name: &str,
    content: Vec<u8>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    // The name as the browser gave it, cut to what the column holds.
    let file_name: String = file_name.chars().take(200).collect();
    console_upload::ActiveModel {
        id: Set(id),
        session_id: Set(session_id.to_owned()),
        file_name: Set(file_name),
        content: Set(content),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(id)
}

pub async fn find(
    db: &DatabaseConnection,
    session_id: &str,
    id: Uuid,
) -> Result<Option<console_upload::Model>, DbErr> {
    console_upload::Entity::find_by_id(id)
        .filter(console_upload::Column::SessionId.eq(session_id))
        .one(db)
        .await
}

pub async fn remove(db: &DatabaseConnection, session_id: &str, id: Uuid) -> Result<(), DbErr> {
    console_upload::Entity::delete_many()
        .filter(console_upload::Column::Id.eq(id))
        .filter(console_upload::Column::SessionId.eq(session_id))
        .exec(db)
        .await?;
    Ok(())
}
