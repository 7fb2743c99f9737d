use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Offers {
    Table,
    RemovedAt,
    LastSeenRun,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // An offer eMAG no longer lists is marked, never deleted: its history stays, and
        // it comes back if eMAG lists it again. The run that last read it is what tells
        // a full read which offers it did not see, whatever the workers' clocks say.
        for column in [
            timestamp_with_time_zone_null(Offers::RemovedAt),
            uuid_null(Offers::LastSeenRun),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Offers::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Offers::RemovedAt, Offers::LastSeenRun] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Offers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
