use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmagAccounts {
    Table,
    CallbackSecretHash,
    CallbackSecretSetAt,
    AutoAcknowledge,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // eMAG calls the seller back with a secret in the URL: only its SHA-256 is kept,
        // so a copy of the database cannot forge calls.
        for column in [
            string_null(EmagAccounts::CallbackSecretHash),
            timestamp_with_time_zone_null(EmagAccounts::CallbackSecretSetAt),
            boolean(EmagAccounts::AutoAcknowledge).default(false).take(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(EmagAccounts::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            EmagAccounts::CallbackSecretHash,
            EmagAccounts::CallbackSecretSetAt,
            EmagAccounts::AutoAcknowledge,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EmagAccounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
