use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunEvents {
    Table,
    Id,
    RunId,
    At,
    Level,
    Message,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RunEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(RunEvents::Id))
                    .col(uuid(RunEvents::RunId))
                    .col(timestamp_with_time_zone(RunEvents::At))
                    .col(string_len(RunEvents::Level, 8))
                    .col(text(RunEvents::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_run_events_run")
                    .table(RunEvents::Table)
                    .col(RunEvents::RunId)
                    .col(RunEvents::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_run_events_at")
                    .table(RunEvents::Table)
                    .col(RunEvents::At)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RunEvents::Table).to_owned())
            .await
    }
}
