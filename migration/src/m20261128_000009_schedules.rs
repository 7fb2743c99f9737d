use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    Name,
    Cron,
    Timezone,
    Template,
    Overlap,
    Misfire,
    JitterS,
    Notify,
    Paused,
    NextFireAt,
    LastFireAt,
    LastRunId,
    Revision,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScheduleFires {
    Table,
    ScheduleId,
    FireAt,
    RunId,
    Outcome,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    ScheduleId,
    ScheduledFor,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Schedules::Table)
                    .if_not_exists()
                    .col(uuid(Schedules::Id).primary_key())
                    .col(string_len_uniq(Schedules::Name, 64))
                    .col(string_len(Schedules::Cron, 255))
                    .col(string_len(Schedules::Timezone, 64))
                    .col(json(Schedules::Template))
                    .col(string_len(Schedules::Overlap, 16))
                    .col(string_len(Schedules::Misfire, 16))
                    .col(integer(Schedules::JitterS).default(0))
                    .col(json(Schedules::Notify))
                    .col(boolean(Schedules::Paused).default(false))
                    .col(timestamp_with_time_zone_null(Schedules::NextFireAt))
                    .col(timestamp_with_time_zone_null(Schedules::LastFireAt))
                    .col(uuid_null(Schedules::LastRunId))
                    .col(big_integer(Schedules::Revision).default(0))
                    .col(string_len(Schedules::CreatedBy, 128))
                    .col(timestamp_with_time_zone(Schedules::CreatedAt))
                    .col(timestamp_with_time_zone(Schedules::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One row per (schedule, fire time): the primary key is the claim, so a tick fires
        // once however many schedulers see it.
        manager
            .create_table(
                Table::create()
                    .table(ScheduleFires::Table)
                    .if_not_exists()
                    .col(uuid(ScheduleFires::ScheduleId))
                    .col(timestamp_with_time_zone(ScheduleFires::FireAt))
                    .col(uuid_null(ScheduleFires::RunId))
                    .col(string_len(ScheduleFires::Outcome, 32))
                    .col(timestamp_with_time_zone(ScheduleFires::ClaimedAt))
                    .primary_key(
                        Index::create()
                            .col(ScheduleFires::ScheduleId)
                            .col(ScheduleFires::FireAt),
                    )
                    .to_owned(),
            )
            .await?;
        for mut column in [
            uuid_null(JobRuns::ScheduleId),
            timestamp_with_time_zone_null(JobRuns::ScheduledFor),
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
            .create_index(
                Index::create()
                    .name("ix_job_runs_schedule")
                    .table(JobRuns::Table)
                    .col(JobRuns::ScheduleId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_job_runs_schedule").to_owned())
            .await?;
        for column in [JobRuns::ScheduleId, JobRuns::ScheduledFor] {
            manager
                .alter_table(
                    Table::alter()
                        .table(JobRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ScheduleFires::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Schedules::Table).to_owned())
            .await?;
        Ok(())
    }
}
