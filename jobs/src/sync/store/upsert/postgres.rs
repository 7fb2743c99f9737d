//! The upsert [`super::statements`] on PostgreSQL: the rows as one array per column, `unnest`ed.

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, ColumnType, DbBackend, DbErr, EntityName, Iterable, Statement,
    sea_query::ArrayType,
};

use super::{Col, ColumnValues, Prepared, Synced, quoted, raw_position, row_values};

/// The one upsert statement on PostgreSQL: a column's values are one array parameter
/// (`unnest`), sent in binary, so PostgreSQL parses no text but the JSON columns'. sqlx
/// cannot send an array with NULLs through SeaORM, so each row's NULLs go as the bits of
/// one more `bigint` (one statement text for every batch, prepared once).
pub(super) fn upsert<M>(
    table: &Synced<M::Entity>,
    rows: BTreeMap<i64, Prepared<M>>,
    set: &[(Col<M>, String)],
    returning: &str,
) -> Result<Statement, DbErr>
where
    M: ColumnValues,
{
    let name = M::Entity::default().table_name().to_owned();
    let columns: Vec<Col<M>> = Col::<M>::iter().collect();
    let arrays = column_arrays(table, &columns, rows)?;
    let Params {
        values,
        arrays,
        names,
        select,
    } = Params::of(&columns, arrays);
    let into: Vec<String> = columns.iter().map(quoted).collect();
    let set: Vec<String> = set
        .iter()
        .map(|(c, v)| format!("{} = {v}", quoted(c)))
        .collect();
    // In the select list, the arrays are taken apart row by row as the insert asks for
    // them (`ProjectSet`); `FROM unnest(…)` first collects every row in a tuplestore.
    // Timed in `psql`, 100,000 offers upserted 300 at a time: 1.75 s against 2.15 s, and
    // `COPY` of the same rows 1.5 s. Arrays of unequal length give NULLs either way.
    let unnested: Vec<String> = arrays
        .iter()
        .zip(&names)
        .map(|(array, name)| format!("unnest({array}) AS {name}"))
        .collect();
    let sql = format!(
        "INSERT INTO \"{name}\" ({}) SELECT {} FROM (SELECT {}) AS u \
         ON CONFLICT ({}, {}) DO UPDATE SET {} RETURNING {returning}",
        into.join(", "),
        select.join(", "),
        unnested.join(", "),
        quoted(&table.account),
        quoted(&table.id),
        set.join(", "),
    );
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
}

/// The statement's parameters, the array ones (`$k`) with the names they are
/// `unnest`ed as, and the expression that reads each column from them.
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
    // Sized once: a growing buffer of a group's `raw` texts (about 200 KB) was copied
    // at each doubling.
    let size: usize = values
        .iter()
        .map(|v| match v {
            sea_orm::Value::String(Some(s)) => s.len() + 1,
            _ => 16,
        })
        .sum();
    let mut out = Vec::with_capacity(size);
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
    M: ColumnValues,
{
    let raw_at = raw_position(table, columns)?;
    // Not `vec![Vec::with_capacity(n); k]`: a clone of an empty vector has no capacity, so
    // every array but the last grew by doubling.
    let mut arrays: Vec<Vec<sea_orm::Value>> = (0..columns.len())
        .map(|_| Vec::with_capacity(rows.len()))
        .collect();
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
