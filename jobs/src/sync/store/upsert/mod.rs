//! The one statement that writes a group of synced items: an upsert that rewrites only
//! what changed and says, row by row, what it did. PostgreSQL gets it as column arrays,
//! SQLite as bound values.

use std::collections::BTreeMap;

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic, Iterable, ModelTrait,
    Statement,
    sea_query::{Expr, OnConflict, Query, SimpleExpr},
};

use super::{Prepared, Synced};

mod postgres;

/// What the upsert [`statements`] did, row by row.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Written {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Rows per statement on SQLite. Each connection keeps its prepared statements, one per
/// distinct text, and a statement for 300 rows is a large program: with every group size
/// its own text, a worker grew by 13 MiB over 100,000 offers. In statements of at most a
/// page (100 rows, 2,700 bound values, under SQLite's 32,766) nearly all have one text.
const SQLITE_ROWS_PER_STATEMENT: usize = 100;

type Col<M> = <<M as ModelTrait>::Entity as EntityTrait>::Column;

/// A row's values, moved out of it, in its columns' order ([`Iterable`]). Written out
/// per table instead of through its active model: that way moved each row twice and
/// took its columns out one `match` at a time (a tenth of a syncing worker's time went
/// to building the statement from the rows).
pub(super) trait ColumnValues: ModelTrait {
    fn column_values(self) -> Vec<sea_orm::Value>;
}

/// The statements that write `rows` (distinct keys) with `INSERT … ON CONFLICT DO UPDATE
/// … RETURNING`: a new row in full; a stored one with the same content hash keeps its
/// `content` columns (so its `updated_at` does not move) and takes only the `always` ones
/// (when it was read, by which run); a changed one takes both. The key alone decides,
/// through the unique index, so there is no lookup first and no plan to go wrong as the
/// table grows (the lookup it replaces took 4 ms a page at 50,000 rows). What happened to
/// each row is told by its own columns afterwards: created when first seen as it was
/// read, rewritten when updated as it was read.
///
/// PostgreSQL gets one statement, each column as one array parameter (see
/// [`postgres::upsert`]): a statement text that does not grow with the rows (prepared
/// once), values sent in binary, and the large `raw` documents serialized once, for their
/// hash and the write. SQLite, in-process, takes bound values, 100 rows at most a
/// statement. CPU only: a caller can build them away from the threads that wait for the
/// database, then [`run`] them.
pub(super) fn statements<M>(
    backend: DbBackend,
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    content: &[Col<M>],
    always: &[Col<M>],
) -> Result<Vec<Statement>, DbErr>
where
    M: ColumnValues,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let name = M::Entity::default().table_name().to_owned();
    let seen = quoted(&table.last_synced);
    let set = conflict_set::<M::Entity>(&name, &quoted(&table.hash), content, always);
    let returning = format!(
        "{} = {seen}, {} = {seen}",
        quoted(&table.first_seen),
        quoted(&table.updated)
    );
    if backend == DbBackend::Postgres {
        Ok(vec![postgres::upsert(table, rows, &set, &returning)?])
    } else {
        sqlite_upserts(table, rows, &set, &returning)
    }
}

/// Runs the [`statements`]: what each row became.
pub(super) async fn run<C: ConnectionTrait>(
    conn: &C,
    statements: Vec<Statement>,
) -> Result<Written, DbErr> {
    let mut written = Written::default();
    for statement in statements {
        for row in conn.query_all_raw(statement).await? {
            match (row.try_get_by_index(0)?, row.try_get_by_index(1)?) {
                (true, _) => written.created += 1,
                (false, true) => written.updated += 1,
                (false, false) => written.unchanged += 1,
            }
        }
    }
    Ok(written)
}

/// Where the `raw` column is among `columns`.
pub(super) fn raw_position<E: EntityTrait>(
    table: &Synced<E>,
    columns: &[E::Column],
) -> Result<usize, DbErr> {
    columns
        .iter()
        .position(|c| c.as_str() == table.raw.as_str())
        .ok_or_else(|| DbErr::Custom("no raw column".into()))
}

/// A prepared row's values in `columns`' order, its `raw` text at `raw_at` and its other
/// JSON texts in their columns.
pub(super) fn row_values<M>(
    columns: &[Col<M>],
    raw_at: usize,
    Prepared { model, raw, json }: Prepared<M>,
) -> Result<Vec<sea_orm::Value>, DbErr>
where
    M: ColumnValues,
{
    let mut values = model.column_values();
    if values.len() != columns.len() {
        return Err(DbErr::Custom(format!(
            "a row has {} values for {} columns",
            values.len(),
            columns.len()
        )));
    }
    values[raw_at] = raw.into();
    for (name, text) in json {
        let at = columns
            .iter()
            .position(|c| c.as_str() == name)
            .ok_or_else(|| DbErr::Custom(format!("no column {name}")))?;
        values[at] = text.into();
    }
    Ok(values)
}

/// A column's name as SQL writes it.
pub(super) fn quoted<C: IdenStatic>(c: &C) -> String {
    format!("\"{}\"", c.as_str())
}

/// The [`statements`] on SQLite: bound values, the `raw` text as it was hashed.
fn sqlite_upserts<M>(
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    set: &[(Col<M>, String)],
    returning: &str,
) -> Result<Vec<Statement>, DbErr>
where
    M: ColumnValues,
{
    let columns: Vec<Col<M>> = Col::<M>::iter().collect();
    let raw_at = raw_position(table, &columns)?;
    let mut rows = rows.into_values().peekable();
    let mut statements = Vec::new();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(M::Entity::default().table_ref())
            .columns(columns.iter().copied());
        for prepared in rows.by_ref().take(SQLITE_ROWS_PER_STATEMENT) {
            let values = row_values(&columns, raw_at, prepared)?;
            insert
                .values(values.into_iter().map(SimpleExpr::from))
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        let mut conflict = OnConflict::columns([table.account, table.id]);
        for (c, value) in set {
            conflict.value(*c, Expr::cust(value.clone()));
        }
        insert.on_conflict(conflict);
        insert.returning(Query::returning().expr(Expr::cust(returning.to_owned())));
        statements.push(DbBackend::Sqlite.build(&insert));
    }
    Ok(statements)
}

/// What an upsert sets on a stored row: its `content` columns only when the hash changed,
/// its `always` ones in any case.
fn conflict_set<E: EntityTrait>(
    table: &str,
    hash: &str,
    content: &[E::Column],
    always: &[E::Column],
) -> Vec<(E::Column, String)> {
    let kept = content.iter().map(|c| {
        let q = quoted(c);
        let value = format!(
            "CASE WHEN \"{table}\".{hash} = excluded.{hash} THEN \"{table}\".{q} ELSE excluded.{q} END"
        );
        (*c, value)
    });
    let read = always
        .iter()
        .map(|c| (*c, format!("excluded.{}", quoted(c))));
    kept.chain(read).collect()
}
