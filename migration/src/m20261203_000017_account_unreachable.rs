use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmagAccounts {
    Table,
    UnreachableSince,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When the breaker first opened in the current outage: what the status report
        // shows, and what ends runs that would otherwise wait for eMAG for ever.
        manager
            .alter_table(
                Table::alter()
                    .table(EmagAccounts::Table)
                    .add_column(timestamp_with_time_zone_null(
                        EmagAccounts::UnreachableSince,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmagAccounts::Table)
                    .drop_column(EmagAccounts::UnreachableSince)
                    .to_owned(),
            )
            .await
    }
}
