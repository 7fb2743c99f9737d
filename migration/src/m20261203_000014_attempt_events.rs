use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RunEvents {
    Table,
    Attempt,
    Outcome,
    ErrorCategory,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The line that ends an attempt says which attempt, how it ended and why: a run's
        // history of attempts and their errors, with no extra write per attempt (the row
        // itself keeps only the last error). One column per statement: SQLite alters a
        // table one column at a time.
        for column in [
            integer_null(RunEvents::Attempt),
            string_len_null(RunEvents::Outcome, 32),
            string_len_null(RunEvents::ErrorCategory, 32),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(RunEvents::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            RunEvents::Attempt,
            RunEvents::Outcome,
            RunEvents::ErrorCategory,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RunEvents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
