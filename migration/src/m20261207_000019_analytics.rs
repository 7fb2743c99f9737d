use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Exact on PostgreSQL, REAL on SQLite, as the orders' own money columns.
const MONEY: (u32, u32) = (19, 4);

#[derive(DeriveIden)]
enum Orders {
    Table,
    Account,
    OrderedDay,
}

#[derive(DeriveIden)]
enum SalesDaily {
    Table,
    Account,
    Day,
    Status,
    Orders,
    Units,
    Value,
    Currency,
}

#[derive(DeriveIden)]
enum ProductSalesDaily {
    Table,
    Account,
    Day,
    ProductId,
    Status,
    Units,
    Revenue,
}

#[derive(DeriveIden)]
enum StockDaily {
    Table,
    Account,
    Day,
    UnitsInStock,
    Offers,
    OffersActive,
    OffersOutOfStock,
    TakenAt,
}

#[derive(DeriveIden)]
enum AnalyticsDirty {
    Table,
    Account,
    Day,
}

const ORDERED_DAY_INDEX: &str = "idx_orders_account_ordered_day";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // An order's day is the account's local day, and eMAG's `date` is already in
        // it: kept as its own column, every backend groups by it without time zones.
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(date_null(Orders::OrderedDay))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ORDERED_DAY_INDEX)
                    .table(Orders::Table)
                    .col(Orders::Account)
                    .col(Orders::OrderedDay)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        let (p, s) = MONEY;
        manager
            .create_table(
                Table::create()
                    .table(SalesDaily::Table)
                    .if_not_exists()
                    .col(string_len(SalesDaily::Account, 64))
                    .col(date(SalesDaily::Day))
                    .col(integer(SalesDaily::Status))
                    .col(big_integer(SalesDaily::Orders))
                    .col(big_integer(SalesDaily::Units))
                    .col(decimal_len(SalesDaily::Value, p, s))
                    .col(string_len_null(SalesDaily::Currency, 8))
                    .primary_key(
                        Index::create()
                            .col(SalesDaily::Account)
                            .col(SalesDaily::Day)
                            .col(SalesDaily::Status),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductSalesDaily::Table)
                    .if_not_exists()
                    .col(string_len(ProductSalesDaily::Account, 64))
                    .col(date(ProductSalesDaily::Day))
                    .col(big_integer(ProductSalesDaily::ProductId))
                    .col(integer(ProductSalesDaily::Status))
                    .col(big_integer(ProductSalesDaily::Units))
                    .col(decimal_len(ProductSalesDaily::Revenue, p, s))
                    .primary_key(
                        Index::create()
                            .col(ProductSalesDaily::Account)
                            .col(ProductSalesDaily::Day)
                            .col(ProductSalesDaily::ProductId)
                            .col(ProductSalesDaily::Status),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StockDaily::Table)
                    .if_not_exists()
                    .col(string_len(StockDaily::Account, 64))
                    .col(date(StockDaily::Day))
                    .col(big_integer(StockDaily::UnitsInStock))
                    .col(big_integer(StockDaily::Offers))
                    .col(big_integer(StockDaily::OffersActive))
                    .col(big_integer(StockDaily::OffersOutOfStock))
                    .col(timestamp_with_time_zone(StockDaily::TakenAt))
                    .primary_key(
                        Index::create()
                            .col(StockDaily::Account)
                            .col(StockDaily::Day),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnalyticsDirty::Table)
                    .if_not_exists()
                    .col(string_len(AnalyticsDirty::Account, 64))
                    .col(date(AnalyticsDirty::Day))
                    .primary_key(
                        Index::create()
                            .col(AnalyticsDirty::Account)
                            .col(AnalyticsDirty::Day),
                    )
                    .to_owned(),
            )
            .await?;
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SalesDaily::Table.into_iden(),
            ProductSalesDaily::Table.into_iden(),
            StockDaily::Table.into_iden(),
            AnalyticsDirty::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(ORDERED_DAY_INDEX)
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::OrderedDay)
                    .to_owned(),
            )
            .await
    }
}

/// Orders synced before this migration get their day from eMAG's `date` (platform-local
/// `YYYY-mm-dd HH:ii:ss`), and every such day is marked for the figures to be computed
/// by the account's next sync (or `magflow analytics rebuild`).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    fill_ordered_days(db).await?;
    db.execute_unprepared(
        "INSERT INTO analytics_dirty (account, day) \
         SELECT DISTINCT account, ordered_day FROM orders WHERE ordered_day IS NOT NULL",
    )
    .await?;
    Ok(())
}

/// Gives orders without a local day the date part of eMAG's `date`, which is already
/// the platform's local time. The orders it changed.
pub async fn fill_ordered_days<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "UPDATE orders SET ordered_day = CAST(substr(raw->>'date', 1, 10) AS date) \
             WHERE ordered_day IS NULL AND raw->>'date' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'"
        }
        _ => {
            "UPDATE orders SET ordered_day = substr(json_extract(raw, '$.date'), 1, 10) \
             WHERE ordered_day IS NULL AND json_extract(raw, '$.date') \
             GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
        }
    };
    Ok(db.execute_unprepared(sql).await?.rows_affected())
}
