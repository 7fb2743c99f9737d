use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleUploads {
    Table,
    Id,
    SessionId,
    FileName,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A file uploaded in the console, kept between its dry run and its confirmation:
        // in the database, so any API process can take the confirmation, and only as long
        // as the session that uploaded it.
        manager
            .create_table(
                Table::create()
                    .table(ConsoleUploads::Table)
                    .if_not_exists()
                    .col(uuid(ConsoleUploads::Id).primary_key())
                    .col(string_len(ConsoleUploads::SessionId, 64))
                    .col(string_len(ConsoleUploads::FileName, 255))
                    .col(blob(ConsoleUploads::Content))
                    .col(timestamp_with_time_zone(ConsoleUploads::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleUploads::Table, ConsoleUploads::SessionId)
                            .to(ConsoleSessions::Table, ConsoleSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_console_uploads_session")
                    .table(ConsoleUploads::Table)
                    .col(ConsoleUploads::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleUploads::Table).to_owned())
            .await
    }
}
