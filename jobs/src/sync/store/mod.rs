//! Writing one page of offers or orders: real upserts on the (account, eMAG id) keys,
//! and no rewrite of rows whose content hash did not change. What both tables share is
//! here; each table's columns and mapping in its own file.

mod offers;
mod orders;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic,
    IntoActiveModel, ModelTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
    sea_query::{Expr, OnConflict, Query},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use offers::{live_offers, mark_removed, save_offers};
pub use orders::{OrdersOutcome, save_orders};

use crate::emag::types::{ItemError, Parsed};

/// What one page did to the database.
#[derive(Debug, Default)]
pub struct PageOutcome {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Items that could not be read: (eMAG id if known, reason).
    pub failed: Vec<(String, String)>,
}

/// SHA-256 of the JSON as eMAG sent it (keys sorted by serde_json's map).
pub fn content_hash(raw: &Value) -> String {
    hex::encode(Sha256::digest(raw.to_string().as_bytes()))
}

fn raw_id(raw: &Value) -> String {
    match raw.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => "?".into(),
    }
}

fn id_i64(id: u64) -> Result<i64, ItemError> {
    i64::try_from(id).map_err(|_| ItemError::IdTooLarge(id))
}

/// Items of a page that parsed, by id: (typed, raw, content hash).
pub(super) type Readable<T> = BTreeMap<i64, (T, Value, String)>;

/// Splits a page into readable items keyed by id (the last copy wins) and failures.
pub(super) fn readable<T>(
    items: Vec<Parsed<T>>,
    id: impl Fn(&T) -> u64,
) -> (Readable<T>, Vec<(String, String)>) {
    let mut ok = BTreeMap::new();
    let mut failed = Vec::new();
    for parsed in items {
        let hash = content_hash(&parsed.raw);
        match parsed.item.and_then(|item| Ok((id_i64(id(&item))?, item))) {
            Ok((key, item)) => {
                ok.insert(key, (item, parsed.raw, hash));
            }
            Err(reason) => failed.push((raw_id(&parsed.raw), reason.to_string())),
        }
    }
    (ok, failed)
}

/// sqlx prepares every statement, and after five executions PostgreSQL may switch a
/// prepared statement to a generic plan chosen while the table was still empty (a
/// sequential scan), then keep it as the table grows: the lookup of stored hashes went
/// from 1 ms to 50 ms per page at 30,000 offers. Lookups, touches and deletes by id are
/// planned with their values; the inserts, whose planning is costly and whose conflict
/// check always uses the key, are not.
pub(super) async fn custom_plans<C: ConnectionTrait>(conn: &C, on: bool) -> Result<(), DbErr> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        let mode = if on { "force_custom_plan" } else { "auto" };
        conn.execute_unprepared(&format!("SET LOCAL plan_cache_mode = {mode}"))
            .await?;
    }
    Ok(())
}

/// The columns every synced table has, by which a page is compared and touched.
pub(super) struct Synced<E: EntityTrait> {
    account: E::Column,
    id: E::Column,
    hash: E::Column,
    last_synced: E::Column,
    first_seen: E::Column,
    updated: E::Column,
}

/// What an [`upsert`] did, row by row.
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

/// Writes `rows` (distinct keys) with one `INSERT … ON CONFLICT DO UPDATE … RETURNING`:
/// a new row in full; a stored one with the same content hash keeps its `content`
/// columns (so its `updated_at` does not move) and takes only the `always` ones (when it
/// was read, by which run); a changed one takes both. The key alone decides, through the
/// unique index, so there is no lookup first and no plan to go wrong as the table grows
/// (the lookup it replaces took 4 ms a page at 50,000 rows). What happened to each row is
/// told by its own columns afterwards: created when first seen as it was read, rewritten
/// when updated as it was read.
///
/// PostgreSQL gets every row in one `json` parameter (`json_populate_recordset` of the
/// table's own row type): one value to bind and parse instead of 27 a row, and a
/// statement text that does not grow with the rows, so it is prepared once. SQLite,
/// in-process, takes bound values, 100 rows at most a statement.
pub(super) async fn upsert<C, M>(
    conn: &C,
    table: &Synced<M::Entity>,
    rows: Vec<M>,
    content: &[Col<M>],
    always: &[Col<M>],
) -> Result<Written, DbErr>
where
    C: ConnectionTrait,
    M: ModelTrait + serde::Serialize + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
    <M::Entity as EntityTrait>::ActiveModel: Send,
{
    let name = M::Entity::default().table_name().to_owned();
    let col = |c: &Col<M>| format!("\"{}\"", c.as_str());
    let seen = col(&table.last_synced);
    let set = conflict_set::<M::Entity>(&name, &col(&table.hash), content, always);
    let returning = format!(
        "{} = {seen}, {} = {seen}",
        col(&table.first_seen),
        col(&table.updated)
    );
    let backend = conn.get_database_backend();
    let statements = if backend == DbBackend::Postgres {
        let json = serde_json::to_string(&rows).map_err(|e| DbErr::Custom(e.to_string()))?;
        // Only the text goes on: the rows' memory is given back before it is sent.
        drop(rows);
        let set: Vec<String> = set
            .iter()
            .map(|(c, v)| format!("{} = {v}", col(c)))
            .collect();
        let sql = format!(
            "INSERT INTO \"{name}\" SELECT * FROM json_populate_recordset(NULL::\"{name}\", $1::json) \
             ON CONFLICT ({}, {}) DO UPDATE SET {} RETURNING {returning}",
            col(&table.account),
            col(&table.id),
            set.join(", "),
        );
        vec![Statement::from_sql_and_values(backend, sql, [json.into()])]
    } else {
        let per_statement = SQLITE_ROWS_PER_STATEMENT;
        let mut rows = rows.into_iter().peekable();
        let mut statements = Vec::new();
        while rows.peek().is_some() {
            let chunk = rows
                .by_ref()
                .take(per_statement)
                .map(IntoActiveModel::into_active_model);
            let mut conflict = OnConflict::columns([table.account, table.id]);
            for (c, value) in &set {
                conflict.value(*c, Expr::cust(value.clone()));
            }
            let mut insert = M::Entity::insert_many(chunk)
                .on_conflict(conflict)
                .into_query();
            insert.returning(Query::returning().expr(Expr::cust(returning.clone())));
            statements.push(backend.build(&insert));
        }
        statements
    };
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

/// What an upsert sets on a stored row: its `content` columns only when the hash changed,
/// its `always` ones in any case.
fn conflict_set<E: EntityTrait>(
    table: &str,
    hash: &str,
    content: &[E::Column],
    always: &[E::Column],
) -> Vec<(E::Column, String)> {
    let kept = content.iter().map(|c| {
        let q = format!("\"{}\"", c.as_str());
        let value = format!(
            "CASE WHEN \"{table}\".{hash} = excluded.{hash} THEN \"{table}\".{q} ELSE excluded.{q} END"
        );
        (*c, value)
    });
    let read = always
        .iter()
        .map(|c| (*c, format!("excluded.\"{}\"", c.as_str())));
    kept.chain(read).collect()
}

/// Splits a page's ids against what is stored: (new, changed, unchanged).
pub(super) async fn split<C: ConnectionTrait, E: EntityTrait, T>(
    conn: &C,
    table: &Synced<E>,
    account: &str,
    page: &Readable<T>,
) -> Result<(Vec<i64>, Vec<i64>, Vec<i64>), DbErr> {
    let ids: Vec<i64> = page.keys().copied().collect();
    custom_plans(conn, true).await?;
    let stored: HashMap<i64, String> = E::find()
        .select_only()
        .column(table.id)
        .column(table.hash)
        .filter(table.account.eq(account))
        .filter(table.id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    custom_plans(conn, false).await?;
    let (mut new, mut changed, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
    for (id, (_, _, hash)) in page {
        match stored.get(id) {
            None => new.push(*id),
            Some(h) if h == hash => unchanged.push(*id),
            Some(_) => changed.push(*id),
        }
    }
    Ok((new, changed, unchanged))
}

/// Unchanged rows are not rewritten; only their `last_synced_at` moves.
pub(super) async fn touch<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    table: &Synced<E>,
    account: &str,
    unchanged: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if !unchanged.is_empty() {
        custom_plans(conn, true).await?;
        E::update_many()
            .col_expr(table.last_synced, Expr::value(now))
            .filter(table.account.eq(account))
            .filter(table.id.is_in(unchanged.iter().copied()))
            .exec(conn)
            .await?;
        custom_plans(conn, false).await?;
    }
    Ok(())
}

/// An eMAG code as stored (`None` when it does not fit).
pub(super) fn small(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

#[cfg(test)]
mod tests;
