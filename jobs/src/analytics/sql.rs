//! Hand-written statements that run on both backends: written with `?` placeholders,
//! numbered for PostgreSQL.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// `sql` with its `?` placeholders bound to `values`, for `conn`'s backend.
pub(crate) fn statement<C: ConnectionTrait>(conn: &C, sql: &str, values: Vec<Value>) -> Statement {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `?, ?, …` for `n` values.
pub(crate) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}
