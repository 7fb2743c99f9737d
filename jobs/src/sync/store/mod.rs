//! Writing one page of offers or orders: real upserts on the (account, eMAG id) keys,
//! and no rewrite of rows whose content hash did not change. What both tables share is
//! here; each table's columns and mapping in its own file.

mod offers;
mod orders;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
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
    touch_with(conn, table, account, unchanged, now, Vec::new()).await
}

/// [`touch`], setting `also` on the same rows in the same statement.
pub(super) async fn touch_with<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    table: &Synced<E>,
    account: &str,
    unchanged: &[i64],
    now: DateTime<Utc>,
    also: Vec<(E::Column, sea_orm::sea_query::SimpleExpr)>,
) -> Result<(), DbErr> {
    if !unchanged.is_empty() {
        custom_plans(conn, true).await?;
        let mut update = E::update_many().col_expr(table.last_synced, Expr::value(now));
        for (column, value) in also {
            update = update.col_expr(column, value);
        }
        update
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
