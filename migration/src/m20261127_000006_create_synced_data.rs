use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Money columns: ex-VAT prices with 4 decimals (eMAG's precision). NUMERIC on
/// PostgreSQL is exact; SQLite has no decimal type and keeps them as REAL (exact to
/// 4 decimals below 10^11, rounded back on read).
const MONEY: (u32, u32) = (19, 4);

#[derive(DeriveIden)]
enum Offers {
    Table,
    Account,
    EmagId,
    PartNumber,
    PartNumberKey,
    Ean,
    Name,
    Brand,
    CategoryId,
    SalePrice,
    RecommendedPrice,
    MinSalePrice,
    MaxSalePrice,
    Currency,
    VatId,
    Status,
    ValidationStatus,
    OfferValidationStatus,
    Stock,
    GeneralStock,
    EstimatedStock,
    Raw,
    ContentHash,
    FirstSeenAt,
    LastSyncedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Account,
    EmagId,
    OrderType,
    Status,
    PaymentModeId,
    PaymentMode,
    PaymentStatus,
    DeliveryMode,
    OrderedAt,
    ModifiedAt,
    ModifiedLocal,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    BillingCity,
    ShippingCity,
    LinesTotal,
    VatTotal,
    VouchersTotal,
    ShippingTax,
    TotalWithVat,
    Currency,
    Raw,
    ContentHash,
    FirstSeenAt,
    LastSyncedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Account,
    OrderId,
    LineId,
    ProductId,
    PartNumberKey,
    Name,
    Status,
    Quantity,
    SalePrice,
    VatRate,
    Currency,
}

#[derive(DeriveIden)]
enum SyncStates {
    Table,
    Account,
    Resource,
    LastSuccessAt,
    LastRunId,
    HighWater,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (p, s) = MONEY;
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .if_not_exists()
                    .col(string_len(Offers::Account, 64))
                    .col(big_integer(Offers::EmagId))
                    .col(string_len_null(Offers::PartNumber, 64))
                    .col(string_len_null(Offers::PartNumberKey, 32))
                    .col(json_null(Offers::Ean))
                    .col(text_null(Offers::Name))
                    .col(string_len_null(Offers::Brand, 255))
                    .col(big_integer_null(Offers::CategoryId))
                    .col(decimal_len_null(Offers::SalePrice, p, s))
                    .col(decimal_len_null(Offers::RecommendedPrice, p, s))
                    .col(decimal_len_null(Offers::MinSalePrice, p, s))
                    .col(decimal_len_null(Offers::MaxSalePrice, p, s))
                    .col(string_len_null(Offers::Currency, 8))
                    .col(big_integer_null(Offers::VatId))
                    .col(integer_null(Offers::Status))
                    .col(integer_null(Offers::ValidationStatus))
                    .col(integer_null(Offers::OfferValidationStatus))
                    .col(json_null(Offers::Stock))
                    .col(big_integer_null(Offers::GeneralStock))
                    .col(big_integer_null(Offers::EstimatedStock))
                    .col(json(Offers::Raw))
                    .col(string_len(Offers::ContentHash, 64))
                    .col(timestamp_with_time_zone(Offers::FirstSeenAt))
                    .col(timestamp_with_time_zone(Offers::LastSyncedAt))
                    .col(timestamp_with_time_zone(Offers::UpdatedAt))
                    .primary_key(Index::create().col(Offers::Account).col(Offers::EmagId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(string_len(Orders::Account, 64))
                    .col(big_integer(Orders::EmagId))
                    .col(integer(Orders::OrderType))
                    .col(integer(Orders::Status))
                    .col(integer_null(Orders::PaymentModeId))
                    .col(string_len_null(Orders::PaymentMode, 64))
                    .col(integer_null(Orders::PaymentStatus))
                    .col(string_len_null(Orders::DeliveryMode, 64))
                    .col(timestamp_with_time_zone_null(Orders::OrderedAt))
                    .col(timestamp_with_time_zone_null(Orders::ModifiedAt))
                    .col(string_len_null(Orders::ModifiedLocal, 19))
                    .col(text_null(Orders::CustomerName))
                    .col(text_null(Orders::CustomerEmail))
                    .col(string_len_null(Orders::CustomerPhone, 64))
                    .col(text_null(Orders::BillingCity))
                    .col(text_null(Orders::ShippingCity))
                    .col(decimal_len(Orders::LinesTotal, p, s))
                    .col(decimal_len(Orders::VatTotal, p, s))
                    .col(decimal_len(Orders::VouchersTotal, p, s))
                    .col(decimal_len(Orders::ShippingTax, p, s))
                    .col(decimal_len(Orders::TotalWithVat, p, s))
                    .col(string_len_null(Orders::Currency, 8))
                    .col(json(Orders::Raw))
                    .col(string_len(Orders::ContentHash, 64))
                    .col(timestamp_with_time_zone(Orders::FirstSeenAt))
                    .col(timestamp_with_time_zone(Orders::LastSyncedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .primary_key(Index::create().col(Orders::Account).col(Orders::EmagId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .if_not_exists()
                    .col(string_len(OrderLines::Account, 64))
                    .col(big_integer(OrderLines::OrderId))
                    .col(big_integer(OrderLines::LineId))
                    .col(big_integer_null(OrderLines::ProductId))
                    .col(string_len_null(OrderLines::PartNumberKey, 32))
                    .col(text_null(OrderLines::Name))
                    .col(integer_null(OrderLines::Status))
                    .col(big_integer(OrderLines::Quantity))
                    .col(decimal_len(OrderLines::SalePrice, p, s))
                    .col(decimal_len(OrderLines::VatRate, p, s))
                    .col(string_len_null(OrderLines::Currency, 8))
                    .primary_key(
                        Index::create()
                            .col(OrderLines::Account)
                            .col(OrderLines::OrderId)
                            .col(OrderLines::LineId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncStates::Table)
                    .if_not_exists()
                    .col(string_len(SyncStates::Account, 64))
                    .col(string_len(SyncStates::Resource, 16))
                    .col(timestamp_with_time_zone(SyncStates::LastSuccessAt))
                    .col(uuid(SyncStates::LastRunId))
                    .col(string_len_null(SyncStates::HighWater, 19))
                    .primary_key(
                        Index::create()
                            .col(SyncStates::Account)
                            .col(SyncStates::Resource),
                    )
                    .to_owned(),
            )
            .await?;
        // The status endpoint groups by status; exports filter by account and dates.
        for (name, table, cols) in [
            (
                "idx_offers_account_status",
                Offers::Table.into_iden(),
                vec![Offers::Account.into_iden(), Offers::Status.into_iden()],
            ),
            (
                "idx_orders_account_status",
                Orders::Table.into_iden(),
                vec![Orders::Account.into_iden(), Orders::Status.into_iden()],
            ),
            (
                "idx_orders_account_ordered_at",
                Orders::Table.into_iden(),
                vec![Orders::Account.into_iden(), Orders::OrderedAt.into_iden()],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SyncStates::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
            Offers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
