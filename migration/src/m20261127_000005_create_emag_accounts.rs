use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmagAccounts {
    Table,
    Id,
    Name,
    Kind,
    Platform,
    BaseUrl,
    Username,
    PasswordSealed,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmagAccounts::Table)
                    .if_not_exists()
                    .col(pk_uuid(EmagAccounts::Id))
                    .col(string_len_uniq(EmagAccounts::Name, 64))
                    .col(string_len(EmagAccounts::Kind, 8))
                    .col(string_len_null(EmagAccounts::Platform, 4))
                    .col(string_len(EmagAccounts::BaseUrl, 255))
                    .col(string_len(EmagAccounts::Username, 255))
                    .col(text(EmagAccounts::PasswordSealed))
                    .col(timestamp_with_time_zone(EmagAccounts::CreatedAt))
                    .col(timestamp_with_time_zone(EmagAccounts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmagAccounts::Table).to_owned())
            .await
    }
}
