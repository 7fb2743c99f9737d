//! What syncs stored, read back: offers and orders filtered by account, status, text and
//! change time, a page at a time. Pages follow a key (`account.emag_id`), not an offset,
//! so a page costs the same at the millionth row and rows written meanwhile are neither
//! skipped nor repeated.

mod offers;
mod orders;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

pub use offers::{OfferFilter, list_offers};
pub use orders::{OrderFilter, find_order, list_orders};

/// Where a page starts: after this (account, eMAG id) in the list's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub account: String,
    pub emag_id: i64,
}

impl Cursor {
    /// `account.emag_id`, as pages hand it out; `None` for anything else.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (account, id) = text.rsplit_once('.')?;
        Some(Cursor {
            account: account.to_owned(),
            emag_id: id.parse().ok()?,
        })
    }

    pub fn text(&self) -> String {
        format!("{}.{}", self.account, self.emag_id)
    }
}

/// What every list filters on.
#[derive(Clone, Debug, Default)]
pub struct Common {
    pub account: Option<String>,
    pub status: Option<i32>,
    /// Text in a name or a part number (case-insensitive), or an id.
    pub text: Option<String>,
    /// Rows written by a sync at or after this.
    pub changed_since: Option<DateTime<Utc>>,
}

/// The longest search text.
pub const MAX_TEXT: usize = 100;

/// `column` contains `text`, ignoring case; `%` and `_` in the text are literal.
fn contains(column: impl ColumnTrait, text: &str) -> SimpleExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Rows after `cursor` in (account, emag_id) order, ascending or descending.
fn after(
    account: impl ColumnTrait,
    emag_id: impl ColumnTrait,
    cursor: &Cursor,
    descending: bool,
) -> Condition {
    let (a, id) = (cursor.account.as_str(), cursor.emag_id);
    if descending {
        Condition::any()
            .add(account.lt(a))
            .add(Condition::all().add(account.eq(a)).add(emag_id.lt(id)))
    } else {
        Condition::any()
            .add(account.gt(a))
            .add(Condition::all().add(account.eq(a)).add(emag_id.gt(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let c = Cursor {
            account: "main-ro".into(),
            emag_id: 4_294_967_301,
        };
        assert_eq!(Cursor::parse(&c.text()), Some(c));
        assert_eq!(Cursor::parse("main"), None);
        assert_eq!(Cursor::parse("main.x"), None);
    }
}
