//! Writing one page of offers or orders: real upserts on the (account, eMAG id) keys,
//! and no rewrite of rows whose content hash did not change. What both tables share is
//! here; each table's columns and mapping in its own file.

mod canonical;
mod offers;
mod orders;
mod upsert;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde_json::{Value, value::RawValue};
use sha2::{Digest, Sha256};

pub use offers::{OfferBatch, OfferUpsert, live_offers, mark_removed, prepare_offers};
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
    sha256_hex(raw.to_string().as_bytes())
}

/// A SHA-256 in lowercase hex. Into a buffer of its size: `hex::encode` pushes one
/// character at a time, and was most of the hash's cost for an offer.
fn sha256_hex(bytes: &[u8]) -> String {
    let mut out = [0u8; 64];
    // The buffer holds exactly the 32 bytes' digits, and they are ASCII.
    let _ = hex::encode_to_slice(Sha256::digest(bytes), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical JSON text of an item as eMAG sent it (compact, keys sorted) and its
/// [`content_hash`]: the text is what gets stored, so it is made once for both.
fn text_and_hash(raw: &RawValue) -> Result<(String, String), serde_json::Error> {
    let text = canonical::canonical(raw.get())?;
    let hash = sha256_hex(text.as_bytes());
    Ok((text, hash))
}

fn raw_id(raw: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<Value>,
    }
    match serde_json::from_str::<Id>(raw.get())
        .ok()
        .and_then(|i| i.id)
    {
        Some(Value::String(s)) => s,
        Some(v) if !v.is_null() => v.to_string(),
        _ => "?".into(),
    }
}

fn id_i64(id: u64) -> Result<i64, ItemError> {
    i64::try_from(id).map_err(|_| ItemError::IdTooLarge(id))
}

/// Items of a page that parsed, by id: (typed, raw, content hash).
pub(super) type Readable<T> = BTreeMap<i64, (T, Value, String)>;

/// Splits a page into the items that parsed, keyed by id (the last copy wins) and made
/// into what `keep` returns from (id, item, raw), and failures: (eMAG id if known, reason).
fn sort_items<T, R>(
    items: Vec<Parsed<T>>,
    id: impl Fn(&T) -> u64,
    mut keep: impl FnMut(i64, T, &RawValue) -> Result<R, String>,
) -> (BTreeMap<i64, R>, Vec<(String, String)>) {
    let mut ok = BTreeMap::new();
    let mut failed = Vec::new();
    for parsed in items {
        let kept = parsed
            .item
            .and_then(|item| Ok((id_i64(id(&item))?, item)))
            .map_err(|e| e.to_string())
            .and_then(|(key, item)| Ok((key, keep(key, item, &parsed.raw)?)));
        match kept {
            Ok((key, row)) => {
                ok.insert(key, row);
            }
            Err(reason) => failed.push((raw_id(&parsed.raw), reason)),
        }
    }
    (ok, failed)
}

/// Splits a page into readable items keyed by id (the last copy wins) and failures.
pub(super) fn readable<T>(
    items: Vec<Parsed<T>>,
    id: impl Fn(&T) -> u64,
) -> (Readable<T>, Vec<(String, String)>) {
    sort_items(items, id, |_, item, raw| {
        let raw: Value = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        let hash = content_hash(&raw);
        Ok((item, raw, hash))
    })
}

/// One item ready to write: its row with the `raw` column left out (JSON null), and that
/// column's text, the very text its content hash was taken from. Holding the text instead
/// of the parsed tree keeps a page read ahead at a third of the memory.
pub(super) struct Prepared<M> {
    pub(super) model: M,
    pub(super) raw: String,
    /// Other JSON columns, by name, as text: the row holds null there. Written straight
    /// from the typed item, a small document costs no tree of values made, printed and
    /// dropped (for an offer's `stock`, a twentieth of a syncing worker's time).
    pub(super) json: Vec<(&'static str, String)>,
}

/// Items of one or more pages, ready to write, by id. A later copy of an item replaces
/// an earlier one (eMAG's pages can shift between two reads, and one statement may not
/// write a row twice).
pub struct Batch<M> {
    rows: BTreeMap<i64, Prepared<M>>,
    failed: Vec<(String, String)>,
    read: usize,
}

impl<M> Batch<M> {
    /// Parses, hashes and maps a page's items; `row` makes an item's row and its other
    /// JSON texts ([`Prepared::json`]), given its id and hash. CPU only: a page read
    /// ahead is prepared in the task that read it, while the one before it is being
    /// written.
    pub(super) fn prepare<T>(
        items: Vec<Parsed<T>>,
        id: impl Fn(&T) -> u64,
        row: impl Fn(i64, T, String) -> (M, Vec<(&'static str, String)>),
    ) -> Batch<M> {
        let read = items.len();
        let (rows, failed) = sort_items(items, id, |key, item, raw| {
            let (raw, hash) = text_and_hash(raw).map_err(|e| e.to_string())?;
            let (model, json) = row(key, item, hash);
            Ok(Prepared { model, raw, json })
        });
        Batch { rows, failed, read }
    }

    /// Items read, whether they could be written or not.
    pub fn read(&self) -> usize {
        self.read
    }

    /// Adds the items of the page after this batch's last.
    pub fn append(&mut self, later: Batch<M>) {
        self.rows.extend(later.rows);
        self.failed.extend(later.failed);
        self.read += later.read;
    }
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
    pub(super) account: E::Column,
    pub(super) id: E::Column,
    pub(super) hash: E::Column,
    pub(super) last_synced: E::Column,
    pub(super) first_seen: E::Column,
    pub(super) updated: E::Column,
    /// The item as eMAG sent it (JSON), written from [`Prepared::raw`].
    pub(super) raw: E::Column,
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
