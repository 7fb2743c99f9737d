use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    Role,
    PasswordHash,
    PasswordChangedAt,
    CreatedAt,
    DisabledAt,
    TotpSecret,
    TotpEnabledAt,
    RecoveryCodes,
    Locale,
    Theme,
    TimeZone,
    FailedSignIns,
    LockedUntil,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Id,
    UserId,
    Stage,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    Address,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // People who sign in to the console. The TOTP secret is sealed like an eMAG
        // password; recovery codes and passwords are stored as hashes only.
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(uuid(Users::Id).primary_key())
                    .col(string_len(Users::Name, 64).unique_key())
                    .col(string_len(Users::Role, 16))
                    .col(text(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::DisabledAt))
                    .col(text_null(Users::TotpSecret))
                    .col(timestamp_with_time_zone_null(Users::TotpEnabledAt))
                    .col(json_null(Users::RecoveryCodes))
                    .col(string_len(Users::Locale, 8).default("ro"))
                    .col(string_len(Users::Theme, 8).default("system"))
                    .col(string_len(Users::TimeZone, 64).default("Europe/Bucharest"))
                    .col(integer(Users::FailedSignIns).default(0))
                    .col(timestamp_with_time_zone_null(Users::LockedUntil))
                    .col(timestamp_with_time_zone_null(Users::LastSignInAt))
                    .to_owned(),
            )
            .await?;
        // Server-side sessions, so any API process can serve any signed-in browser. The
        // key is a SHA-256 of the cookie's value: a database dump opens no session.
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .if_not_exists()
                    .col(string_len(ConsoleSessions::Id, 64).primary_key())
                    .col(uuid(ConsoleSessions::UserId))
                    .col(string_len(ConsoleSessions::Stage, 16))
                    .col(string_len(ConsoleSessions::CsrfToken, 64))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::LastSeenAt))
                    .col(string_len_null(ConsoleSessions::Address, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_console_sessions_user")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
