//! Schema migrations, run by `magflow migrate` (and by `magflow run` for the embedded
//! default). Tables are named by string identifiers here, never through `entity`, so a
//! later change to a model cannot rewrite history.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_job_runs;
mod m20261127_000002_create_run_events;
mod m20261127_000003_create_api_keys;
mod m20261127_000004_create_audit_log;
mod m20261127_000005_create_emag_accounts;
mod m20261127_000006_create_synced_data;
mod m20261127_000007_sync_bookkeeping;
mod m20261128_000008_bulk_exports_notifications;
mod m20261128_000009_schedules;
mod m20261128_000010_operations;
mod m20261202_000011_console_users;
mod m20261202_000012_totp_last_step;
mod m20261203_000013_console_uploads;
mod m20261203_000014_attempt_events;
mod m20261203_000015_offer_removals;
mod m20261203_000016_account_callbacks;
mod m20261203_000017_account_unreachable;
mod m20261207_000018_runs_finished_at;
mod m20261207_000019_analytics;

pub use m20261207_000019_analytics::fill_ordered_days;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_job_runs::Migration),
            Box::new(m20261127_000002_create_run_events::Migration),
            Box::new(m20261127_000003_create_api_keys::Migration),
            Box::new(m20261127_000004_create_audit_log::Migration),
            Box::new(m20261127_000005_create_emag_accounts::Migration),
            Box::new(m20261127_000006_create_synced_data::Migration),
            Box::new(m20261127_000007_sync_bookkeeping::Migration),
            Box::new(m20261128_000008_bulk_exports_notifications::Migration),
            Box::new(m20261128_000009_schedules::Migration),
            Box::new(m20261128_000010_operations::Migration),
            Box::new(m20261202_000011_console_users::Migration),
            Box::new(m20261202_000012_totp_last_step::Migration),
            Box::new(m20261203_000013_console_uploads::Migration),
            Box::new(m20261203_000014_attempt_events::Migration),
            Box::new(m20261203_000015_offer_removals::Migration),
            Box::new(m20261203_000016_account_callbacks::Migration),
            Box::new(m20261203_000017_account_unreachable::Migration),
            Box::new(m20261207_000018_runs_finished_at::Migration),
            Box::new(m20261207_000019_analytics::Migration),
        ]
    }
}
