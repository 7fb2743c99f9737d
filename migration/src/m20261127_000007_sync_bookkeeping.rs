use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    LockKey,
    EmagErrors,
    RateLimited,
    EmagLatencyMs,
}

#[derive(DeriveIden)]
enum EmagAccounts {
    Table,
    DegradedUntil,
    DegradedReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let run_columns = [
            string_len_null(JobRuns::LockKey, 160),
            big_integer(JobRuns::EmagErrors).default(0).take(),
            big_integer(JobRuns::RateLimited).default(0).take(),
            big_integer(JobRuns::EmagLatencyMs).default(0).take(),
        ];
        for mut column in run_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(JobRuns::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for mut column in [
            timestamp_with_time_zone_null(EmagAccounts::DegradedUntil),
            text_null(EmagAccounts::DegradedReason),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EmagAccounts::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // One active run per lock key (e.g. one sync per account and resource), enforced
        // by the database so two clicks in the same millisecond cannot both start one.
        // Partial indexes are spelled the same on PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS uq_job_runs_active_lock ON job_runs (lock_key) \
                 WHERE lock_key IS NOT NULL AND status IN ('queued', 'running')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS uq_job_runs_active_lock")
            .await?;
        for column in [
            JobRuns::LockKey,
            JobRuns::EmagErrors,
            JobRuns::RateLimited,
            JobRuns::EmagLatencyMs,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(JobRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [EmagAccounts::DegradedUntil, EmagAccounts::DegradedReason] {
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
