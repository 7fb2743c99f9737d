//! The one statement that writes a group of synced items: an upsert that rewrites only
//! what changed and says, row by row, what it did. PostgreSQL gets it as column arrays,
//! SQLite as bound values.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait, DbBackend, DbErr, EntityName,
    EntityTrait, IdenStatic, IntoActiveModel, Iterable, ModelTrait, Statement,
    sea_query::{ArrayType, Expr, OnConflict, Query, SimpleExpr},
};

use super::{Prepared, Synced};

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
/// PostgreSQL gets each column as one array parameter (see [`postgres_upsert`]): a
/// statement text that does not grow with the rows (prepared once), values sent in
/// binary, and the large `raw` documents serialized once, for their hash and the write.
/// SQLite, in-process, takes bound values, 100 rows at most a statement.
pub(super) async fn upsert<C, M>(
    conn: &C,
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    content: &[Col<M>],
    always: &[Col<M>],
) -> Result<Written, DbErr>
where
    C: ConnectionTrait,
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
    <M::Entity as EntityTrait>::ActiveModel: Send,
{
    if rows.is_empty() {
        return Ok(Written::default());
    }
    let name = M::Entity::default().table_name().to_owned();
    let col = |c: &Col<M>| format!("\"{}\"", c.as_str());
    let seen = col(&table.last_synced);
    let set = conflict_set::<M::Entity>(&name, &col(&table.hash), content, always);
    let returning = format!(
        "{} = {seen}, {} = {seen}",
        col(&table.first_seen),
        col(&table.updated)
    );
    let statements = if conn.get_database_backend() == DbBackend::Postgres {
        vec![postgres_upsert(table, rows, &set, &returning)?]
    } else {
        sqlite_upserts(table, rows, &set, &returning)?
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

/// [`upsert`]'s one statement on PostgreSQL: a column's values are one array parameter
/// (`unnest`), sent in binary, so PostgreSQL parses no text but the JSON columns'. sqlx
/// cannot send an array with NULLs through SeaORM, so each row's NULLs go as the bits of
/// one more `bigint` (one statement text for every batch, prepared once).
fn postgres_upsert<M>(
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    set: &[(Col<M>, String)],
    returning: &str,
) -> Result<Statement, DbErr>
where
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
{
    let name = M::Entity::default().table_name().to_owned();
    let col = |c: &Col<M>| format!("\"{}\"", c.as_str());
    let columns: Vec<Col<M>> = Col::<M>::iter().collect();
    let arrays = column_arrays(table, &columns, rows)?;
    let Params {
        values,
        arrays,
        names,
        select,
    } = Params::of(&columns, arrays);
    let into: Vec<String> = columns.iter().map(col).collect();
    let set: Vec<String> = set
        .iter()
        .map(|(c, v)| format!("{} = {v}", col(c)))
        .collect();
    let sql = format!(
        "INSERT INTO \"{name}\" ({}) SELECT {} FROM unnest({}) AS u({}) \
         ON CONFLICT ({}, {}) DO UPDATE SET {} RETURNING {returning}",
        into.join(", "),
        select.join(", "),
        arrays.join(", "),
        names.join(", "),
        col(&table.account),
        col(&table.id),
        set.join(", "),
    );
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
}

/// The statement's parameters, the array ones (`$k`) with their names in
/// `unnest(…) AS u(…)`, and the expression that reads each column from them.
struct Params {
    values: Vec<sea_orm::Value>,
    arrays: Vec<String>,
    names: Vec<String>,
    select: Vec<String>,
}

impl Params {
    /// Which of a row's nullable columns are NULL goes as one bit each of a `bigint`, one
    /// array for them all instead of a `bool[]` per column (`bench sync`: 28 arrays
    /// instead of 48 for offers, about 10% faster). Past 63 such columns, a `bool[]`.
    /// A column with one value for every row of several (the account, the run, when it
    /// was read; often the currency) goes as that one value, not an array for `unnest`
    /// to take apart.
    fn of<C: ColumnTrait>(columns: &[C], arrays: Vec<Vec<sea_orm::Value>>) -> Params {
        let mut p = Params {
            values: Vec::new(),
            arrays: Vec::new(),
            names: Vec::new(),
            select: Vec::new(),
        };
        let mut masks = vec![0i64; arrays.first().map_or(0, Vec::len)];
        let mut bit = 0u32;
        for (i, (c, mut array)) in columns.iter().zip(arrays).enumerate() {
            let def = c.def();
            let cast = |v: String| match def.get_column_type() {
                ColumnType::Json => format!("CAST({v} AS json)"),
                ColumnType::JsonBinary => format!("CAST({v} AS jsonb)"),
                _ => v,
            };
            if array.len() > 1 && array.iter().all(|v| *v == array[0]) {
                let k = p.scalar(json_as_text(array.swap_remove(0)));
                p.select.push(cast(format!("${k}")));
                continue;
            }
            let mut expr = cast(format!("u.c{i}"));
            if let Some(joined) = joined_texts(&array) {
                let k = p.scalar(sea_orm::Value::String(Some(joined)));
                p.arrays
                    .push(format!("string_to_array(${k}, chr({UNIT}), chr({NULL}))"));
                p.names.push(format!("c{i}"));
                p.select.push(expr);
                continue;
            }
            let mut array: Vec<sea_orm::Value> = array.into_iter().map(json_as_text).collect();
            let nulls = def.is_null().then(|| nulls_to_dummies(&mut array));
            p.push(format!("c{i}"), array);
            match nulls {
                Some(nulls) if bit < 63 => {
                    for (mask, _) in masks.iter_mut().zip(&nulls).filter(|(_, null)| **null) {
                        *mask |= 1 << bit;
                    }
                    let flag = 1i64 << bit;
                    expr = format!("CASE WHEN u.m & {flag} <> 0 THEN NULL ELSE {expr} END");
                    bit += 1;
                }
                Some(nulls) => {
                    let flags = nulls.into_iter().map(|n| sea_orm::Value::Bool(Some(n)));
                    p.push(format!("n{i}"), flags.collect());
                    expr = format!("CASE WHEN u.n{i} THEN NULL ELSE {expr} END");
                }
                None => {}
            }
            p.select.push(expr);
        }
        if bit > 0 {
            let masks = masks.into_iter().map(|m| sea_orm::Value::BigInt(Some(m)));
            p.push("m".into(), masks.collect());
        }
        p
    }

    /// Adds a parameter; its number.
    fn scalar(&mut self, value: sea_orm::Value) -> usize {
        self.values.push(value);
        self.values.len()
    }

    fn push(&mut self, name: String, array: Vec<sea_orm::Value>) {
        let kind = array
            .first()
            .map_or(ArrayType::String, sea_orm::Value::array_type);
        let k = self.scalar(sea_orm::Value::Array(kind, Some(Box::new(array))));
        self.arrays.push(format!("${k}"));
        self.names.push(name);
    }
}

/// The character between two values of a column sent as one text ([`joined_texts`]),
/// and the text that stands for NULL: control characters, which JSON escapes and eMAG's
/// fields do not hold (a column whose values hold one goes as an array).
const UNIT: u8 = 0x1f;
const NULL: u8 = 0x1e;

/// A text or JSON column's values as one text, split again by PostgreSQL
/// (`string_to_array`, NULLs included): one parameter instead of an array of values,
/// each of which was allocated, copied by SeaORM when the statement runs, and freed
/// twice (building and sending the statement took a third of a syncing worker's time;
/// this way 118 ms instead of 154 for 30,000 offers). `None` for other columns and for
/// values that hold [`UNIT`] or [`NULL`].
fn joined_texts(values: &[sea_orm::Value]) -> Option<String> {
    let text =
        |v: &sea_orm::Value| matches!(v, sea_orm::Value::String(_) | sea_orm::Value::Json(_));
    if !values.first().is_some_and(text) {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() * 16);
    for (n, value) in values.iter().enumerate() {
        if n > 0 {
            out.push(UNIT);
        }
        let start = out.len();
        match value {
            sea_orm::Value::String(Some(s)) => out.extend_from_slice(s.as_bytes()),
            sea_orm::Value::Json(Some(json)) => serde_json::to_writer(&mut out, json).ok()?,
            sea_orm::Value::String(None) | sea_orm::Value::Json(None) => {
                out.push(NULL);
                continue;
            }
            _ => return None,
        }
        if out[start..].iter().any(|b| *b == UNIT || *b == NULL) {
            return None;
        }
    }
    // Only whole UTF-8 texts and ASCII separators went in.
    String::from_utf8(out).ok()
}

/// A JSON value as its text: PostgreSQL parses it once, as `COPY` would.
fn json_as_text(value: sea_orm::Value) -> sea_orm::Value {
    match value {
        sea_orm::Value::Json(json) => sea_orm::Value::String(json.map(|j| j.to_string())),
        value => value,
    }
}

/// Which values are NULL, each replaced by a value of its type: the array cannot carry
/// a NULL.
fn nulls_to_dummies(array: &mut [sea_orm::Value]) -> Vec<bool> {
    array
        .iter_mut()
        .map(|v| {
            let null = !v.is_some();
            if null {
                *v = v.dummy_value();
            }
            null
        })
        .collect()
}

/// The rows' values column by column.
fn column_arrays<M>(
    table: &Synced<M::Entity>,
    columns: &[Col<M>],
    rows: BTreeMap<i64, Prepared<M>>,
) -> Result<Vec<Vec<sea_orm::Value>>, DbErr>
where
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
{
    let raw_at = raw_position(table, columns)?;
    let mut arrays: Vec<Vec<sea_orm::Value>> = vec![Vec::with_capacity(rows.len()); columns.len()];
    for prepared in rows.into_values() {
        for (value, array) in row_values(columns, raw_at, prepared)?
            .into_iter()
            .zip(arrays.iter_mut())
        {
            array.push(value);
        }
    }
    Ok(arrays)
}

/// Where the `raw` column is among `columns`.
fn raw_position<E: EntityTrait>(table: &Synced<E>, columns: &[E::Column]) -> Result<usize, DbErr> {
    columns
        .iter()
        .position(|c| c.as_str() == table.raw.as_str())
        .ok_or_else(|| DbErr::Custom("no raw column".into()))
}

/// A prepared row's values in `columns`' order, its `raw` text at `raw_at`.
fn row_values<M>(
    columns: &[Col<M>],
    raw_at: usize,
    Prepared { model, raw }: Prepared<M>,
) -> Result<Vec<sea_orm::Value>, DbErr>
where
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
{
    let mut active = model.into_active_model();
    let mut values = columns
        .iter()
        .map(|c| active.take(*c).into_value().ok_or_else(|| not_set(c)))
        .collect::<Result<Vec<_>, _>>()?;
    values[raw_at] = raw.into();
    Ok(values)
}

fn not_set<C: IdenStatic>(c: &C) -> DbErr {
    DbErr::Custom(format!("column {} not set", c.as_str()))
}

/// [`upsert`]'s statements on SQLite: bound values, the `raw` text as it was hashed.
fn sqlite_upserts<M>(
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    set: &[(Col<M>, String)],
    returning: &str,
) -> Result<Vec<Statement>, DbErr>
where
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
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
