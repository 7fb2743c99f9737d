use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    FinishedAt,
}

const NAME: &str = "idx_job_runs_finished_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each worker process reads the runs that ended since it last looked, for the
        // announcements a crash lost: a range of end times, not the whole table.
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(JobRuns::Table)
                    .col(JobRuns::FinishedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(JobRuns::Table).to_owned())
            .await
    }
}
