//! Text cells of the CSV files magflow writes (exports, bulk results), made safe to open
//! in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return would be read as a formula (CSV injection), so it gets a leading `'`, as
//! OWASP advises. A plain number (`-12.5`) stays a number.

use std::borrow::Cow;

pub fn text(cell: &str) -> Cow<'_, str> {
    let starts_like_formula = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if starts_like_formula && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn formulas_are_quoted_numbers_are_not() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-1+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(text(formula), format!("'{formula}"));
        }
        for plain in ["-12.5", "+3", "10.0000", "Ana-Maria", "", "a=b"] {
            assert_eq!(text(plain), plain);
        }
    }
}
