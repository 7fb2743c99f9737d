use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    ParentId,
    Kind,
    QueueJobId,
    Account,
    Params,
    Status,
    Attempt,
    MaxAttempts,
    Total,
    Processed,
    Created,
    Updated,
    Unchanged,
    Failed,
    PagesDone,
    PagesTotal,
    EmagRequests,
    RateLimitWaits,
    Checkpoint,
    Throughput,
    EtaSeconds,
    ErrorCategory,
    ErrorMessage,
    CancelRequested,
    WorkerId,
    HeartbeatAt,
    NextAttemptAt,
    Revision,
    CreatedAt,
    StartedAt,
    FinishedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .if_not_exists()
                    .col(pk_uuid(JobRuns::Id))
                    .col(uuid_null(JobRuns::ParentId))
                    .col(string_len(JobRuns::Kind, 32))
                    .col(string_len_null(JobRuns::QueueJobId, 64))
                    .col(string_len_null(JobRuns::Account, 128))
                    .col(json(JobRuns::Params))
                    .col(string_len(JobRuns::Status, 16))
                    .col(integer(JobRuns::Attempt).default(0))
                    .col(integer(JobRuns::MaxAttempts))
                    .col(big_integer_null(JobRuns::Total))
                    .col(big_integer(JobRuns::Processed).default(0))
                    .col(big_integer(JobRuns::Created).default(0))
                    .col(big_integer(JobRuns::Updated).default(0))
                    .col(big_integer(JobRuns::Unchanged).default(0))
                    .col(big_integer(JobRuns::Failed).default(0))
                    .col(integer(JobRuns::PagesDone).default(0))
                    .col(integer_null(JobRuns::PagesTotal))
                    .col(big_integer(JobRuns::EmagRequests).default(0))
                    .col(big_integer(JobRuns::RateLimitWaits).default(0))
                    .col(json_null(JobRuns::Checkpoint))
                    .col(double_null(JobRuns::Throughput))
                    .col(double_null(JobRuns::EtaSeconds))
                    .col(string_len_null(JobRuns::ErrorCategory, 32))
                    .col(text_null(JobRuns::ErrorMessage))
                    .col(boolean(JobRuns::CancelRequested).default(false))
                    .col(string_len_null(JobRuns::WorkerId, 128))
                    .col(timestamp_with_time_zone_null(JobRuns::HeartbeatAt))
                    .col(timestamp_with_time_zone_null(JobRuns::NextAttemptAt))
                    .col(big_integer(JobRuns::Revision).default(0))
                    .col(timestamp_with_time_zone(JobRuns::CreatedAt))
                    .col(timestamp_with_time_zone_null(JobRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(JobRuns::FinishedAt))
                    .col(timestamp_with_time_zone(JobRuns::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The stream poller reads "changed since", the list endpoint filters by these.
        for (name, cols) in [
            ("idx_job_runs_updated_at", vec![JobRuns::UpdatedAt]),
            (
                "idx_job_runs_kind_status",
                vec![JobRuns::Kind, JobRuns::Status],
            ),
            ("idx_job_runs_account", vec![JobRuns::Account]),
            (
                "idx_job_runs_status_heartbeat",
                vec![JobRuns::Status, JobRuns::HeartbeatAt],
            ),
            ("idx_job_runs_parent", vec![JobRuns::ParentId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(JobRuns::Table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobRuns::Table).to_owned())
            .await
    }
}
