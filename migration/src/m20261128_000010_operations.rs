use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QueueControls {
    Table,
    Kind,
    Paused,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    DiscardedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    ExpiresAt,
    AllowedCidrs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per job kind that an operator paused or resumed; no row = running.
        manager
            .create_table(
                Table::create()
                    .table(QueueControls::Table)
                    .if_not_exists()
                    .col(string_len(QueueControls::Kind, 32).primary_key())
                    .col(boolean(QueueControls::Paused).default(false))
                    .col(string_len(QueueControls::ChangedBy, 128))
                    .col(timestamp_with_time_zone(QueueControls::ChangedAt))
                    .to_owned(),
            )
            .await?;
        // A dead run an operator has looked at and let go: it stays dead (the truth) but
        // leaves the dead-letter list.
        manager
            .alter_table(
                Table::alter()
                    .table(JobRuns::Table)
                    .add_column(timestamp_with_time_zone_null(JobRuns::DiscardedAt))
                    .to_owned(),
            )
            .await?;
        for mut column in [
            timestamp_with_time_zone_null(ApiKeys::ExpiresAt),
            json_null(ApiKeys::AllowedCidrs),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ApiKeys::ExpiresAt, ApiKeys::AllowedCidrs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(JobRuns::Table)
                    .drop_column(JobRuns::DiscardedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(QueueControls::Table).to_owned())
            .await
    }
}
