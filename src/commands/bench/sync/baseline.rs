//! SQLite's baseline for `bench sync --part throughput --backend sqlite`: the rows the
//! sync wrote, inserted again into a copy of the table.

use std::time::Instant;

use anyhow::Context;
use entity::offer;
use jobs::JobContext;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable, Statement,
    sea_query::{Alias, Query, SimpleExpr},
};

/// Rows per `INSERT`: 27 values each, under SQLite's 32,766 bound values.
const ROWS_PER_INSERT: usize = 1_000;

/// Creates `offers_copy` with the table's own key and indexes, then inserts every stored
/// offer into it with multi-row `INSERT`s of bound values in one transaction, `tries`
/// times into a fresh copy; rows and seconds of the fastest. The rows are read and the
/// statements built once, outside the timing.
pub(super) async fn insert_again(ctx: &JobContext, tries: usize) -> anyhow::Result<(u64, f64)> {
    let db = &ctx.db;
    let backend = db.get_database_backend();
    let rows = offer::Entity::find().all(db).await?;
    let count = rows.len() as u64;
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("offers_copy"))
            .columns(offer::Column::iter());
        for model in chunk {
            let active = model.clone().into_active_model();
            let values: Vec<SimpleExpr> = offer::Column::iter()
                .map(|c| active.get(c).into_value().map(SimpleExpr::from))
                .collect::<Option<_>>()
                .context("an offer with a column not set")?;
            insert.values(values)?;
        }
        statements.push(backend.build(&insert));
    }
    drop(rows);
    let mut runs = Vec::new();
    for _ in 0..tries {
        fresh_copy(ctx).await?;
        let started = Instant::now();
        let txn = jobs::db::begin_write(db).await?;
        for statement in &statements {
            txn.execute_raw(statement.clone()).await?;
        }
        txn.commit().await?;
        runs.push((count, started.elapsed().as_secs_f64()));
    }
    super::fastest(runs)
}

/// `offers_copy`, empty, with `offers`' own key and indexes.
async fn fresh_copy(ctx: &JobContext) -> anyhow::Result<()> {
    let db = &ctx.db;
    db.execute_unprepared("DROP TABLE IF EXISTS offers_copy")
        .await?;
    let schema = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'offers' AND sql IS NOT NULL",
        ))
        .await?;
    for row in schema {
        let sql: String = row.try_get_by_index(0)?;
        let copy = sql
            .replace("\"offers\"", "\"offers_copy\"")
            .replace("\"idx_", "\"copy_idx_");
        db.execute_unprepared(&copy).await?;
    }
    Ok(())
}
