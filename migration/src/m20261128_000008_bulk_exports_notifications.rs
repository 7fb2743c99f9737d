use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Result,
    Announced,
}

#[derive(DeriveIden)]
enum BulkItems {
    Table,
    RunId,
    Seq,
    Row,
    Account,
    EmagId,
    PartNumber,
    Change,
    Previous,
    State,
    Message,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationSubscriptions {
    Table,
    Id,
    Recipients,
    Kinds,
    On,
    Locale,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailSuppressions {
    Table,
    Address,
    Reason,
    RunId,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [
            // What a run produced for people to open: an export's file, a bulk summary.
            json_null(JobRuns::Result),
            // Set once, when subscriptions were told that the run ended.
            boolean(JobRuns::Announced).default(false).take(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(JobRuns::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BulkItems::Table)
                    .if_not_exists()
                    .col(uuid(BulkItems::RunId))
                    .col(integer(BulkItems::Seq))
                    .col(integer(BulkItems::Row))
                    .col(string_len(BulkItems::Account, 64))
                    .col(big_integer(BulkItems::EmagId))
                    .col(string_len_null(BulkItems::PartNumber, 255))
                    .col(json(BulkItems::Change))
                    .col(json(BulkItems::Previous))
                    .col(string_len(BulkItems::State, 16))
                    .col(text_null(BulkItems::Message))
                    .col(timestamp_with_time_zone(BulkItems::UpdatedAt))
                    .primary_key(Index::create().col(BulkItems::RunId).col(BulkItems::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationSubscriptions::Table)
                    .if_not_exists()
                    .col(uuid(NotificationSubscriptions::Id).primary_key())
                    .col(json(NotificationSubscriptions::Recipients))
                    .col(json(NotificationSubscriptions::Kinds))
                    .col(string_len(NotificationSubscriptions::On, 16))
                    .col(string_len(NotificationSubscriptions::Locale, 8))
                    .col(string_len(NotificationSubscriptions::CreatedBy, 128))
                    .col(timestamp_with_time_zone(
                        NotificationSubscriptions::CreatedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailSuppressions::Table)
                    .if_not_exists()
                    .col(string_len(EmailSuppressions::Address, 320).primary_key())
                    .col(text(EmailSuppressions::Reason))
                    .col(uuid_null(EmailSuppressions::RunId))
                    .col(timestamp_with_time_zone(EmailSuppressions::At))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EmailSuppressions::Table.into_iden(),
            NotificationSubscriptions::Table.into_iden(),
            BulkItems::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [JobRuns::Result, JobRuns::Announced] {
            manager
                .alter_table(
                    Table::alter()
                        .table(JobRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
