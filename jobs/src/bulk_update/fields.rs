//! Reading one item of a bulk update: who it names, which fields it changes, and whether
//! each value is one eMAG accepts (money with at most 4 decimals, whole stock).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::plan::{Cell, FIELDS, Problem, RawItem};

const MONEY: [&str; 4] = [
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
];

/// A field as parsed, before it is compared with the offer.
pub(super) enum Parsed {
    Money(Decimal),
    Whole(i64),
}

pub(super) enum Key {
    Id(i64),
    PartNumber(String),
}

pub(super) struct ParsedItem {
    pub row: u32,
    pub account: String,
    pub key: Key,
    pub fields: BTreeMap<String, Parsed>,
}

impl ParsedItem {
    pub fn money(&self, field: &str) -> Option<Decimal> {
        match self.fields.get(field) {
            Some(Parsed::Money(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn normalised(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Parsed::Money(d) => json!(format!("{:.4}", d)),
                    Parsed::Whole(n) => json!(n),
                };
                (k.clone(), value)
            })
            .collect()
    }
}

/// One field of an item, read.
enum FieldRead {
    /// It names the offer (`account`, `id`, `part_number`): read apart.
    Key,
    Change(Parsed),
    /// What is wrong with it.
    Wrong(String),
}

fn field_value(name: &str, value: &Cell) -> FieldRead {
    let wrong = |reason: &str| FieldRead::Wrong(reason.to_owned());
    match name {
        "account" | "id" | "part_number" => FieldRead::Key,
        f if MONEY.contains(&f) => match money(value) {
            Ok(d) => FieldRead::Change(Parsed::Money(d)),
            Err(reason) => wrong(reason),
        },
        "stock" | "handling_time" => match whole(value) {
            Some(n) if n >= 0 => FieldRead::Change(Parsed::Whole(n)),
            Some(_) => wrong("must be 0 or more"),
            None => wrong("must be a whole number (no decimals)"),
        },
        "status" => match whole(value) {
            Some(n @ 0..=2) => FieldRead::Change(Parsed::Whole(n)),
            _ => wrong("must be 0 (inactive), 1 (active) or 2 (end of life)"),
        },
        _ => FieldRead::Wrong(format!(
            "is not a field a bulk update can change ({})",
            FIELDS.join(", ")
        )),
    }
}

/// Reads one item's fields; its problems go to `problems`. `None` if it has any.
pub(super) fn parse_item(item: &RawItem, problems: &mut Vec<Problem>) -> Option<ParsedItem> {
    let before = problems.len();
    let mut problem = |field: &str, reason: &str| {
        problems.push(Problem {
            row: item.row,
            field: field.to_owned(),
            reason: reason.to_owned(),
        })
    };
    let account = match item.get("account") {
        Some(Cell::Text(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => {
            problem("account", "is required (the eMAG account's name)");
            String::new()
        }
    };
    let key = match (item.get("id"), item.get("part_number")) {
        (Some(id), _) => match whole(id) {
            Some(n) if n > 0 => Some(Key::Id(n)),
            _ => {
                problem("id", "must be a positive whole number");
                None
            }
        },
        (None, Some(Cell::Text(pn))) if !pn.trim().is_empty() => {
            Some(Key::PartNumber(pn.trim().to_owned()))
        }
        _ => {
            problem("id", "either id or part_number is required");
            None
        }
    };
    let mut fields = BTreeMap::new();
    for (i, (name, value)) in item.fields.iter().enumerate() {
        if item.fields[..i].iter().any(|(n, _)| n == name) {
            problem(name, "is given twice");
            continue;
        }
        match field_value(name, value) {
            FieldRead::Change(parsed) => {
                fields.insert(name.clone(), parsed);
            }
            FieldRead::Key => {}
            FieldRead::Wrong(reason) => problem(name, &reason),
        }
    }
    let clean = problems.len() == before;
    if fields.is_empty() && clean {
        problems.push(Problem {
            row: item.row,
            field: "item".into(),
            reason: format!(
                "changes nothing: give at least one of {}",
                FIELDS.join(", ")
            ),
        });
    }
    let key = key?;
    (clean && !fields.is_empty()).then_some(ParsedItem {
        row: item.row,
        account,
        key,
        fields,
    })
}

/// A whole number from a JSON number or a string; `None` for fractions and text.
fn whole(v: &Cell) -> Option<i64> {
    match v {
        Cell::Number(s) | Cell::Text(s) => s.trim().parse().ok(),
        Cell::Other(_) => None,
    }
}

fn money(v: &Cell) -> Result<Decimal, &'static str> {
    let text = match v {
        Cell::Number(s) | Cell::Text(s) => s.trim(),
        Cell::Other(_) => return Err("must be a number"),
    };
    let d: Decimal = text.parse().map_err(|_| "must be a number")?;
    if d.is_sign_negative() {
        return Err("must be 0 or more");
    }
    if d.normalize().scale() > 4 {
        return Err("has more than 4 decimals");
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell as the JSON reader makes it.
    fn cell(json: &str) -> Cell {
        serde_json::from_str(json).expect("a cell")
    }

    #[test]
    fn money_and_whole_numbers_are_strict() {
        assert_eq!(money(&cell(r#""12.5""#)).expect("ok"), Decimal::new(125, 1));
        assert_eq!(
            money(&cell("12.1234")).expect("ok"),
            Decimal::new(121_234, 4)
        );
        assert_eq!(
            money(&cell(r#""1.00000""#)).expect("trailing zeros"),
            Decimal::ONE
        );
        assert_eq!(
            money(&cell(r#""1.00001""#)),
            Err("has more than 4 decimals")
        );
        assert_eq!(money(&cell(r#""-1""#)), Err("must be 0 or more"));
        assert_eq!(money(&cell(r#""ten""#)), Err("must be a number"));
        assert_eq!(money(&cell("[1, 2]")), Err("must be a number"));
        assert_eq!(money(&cell("null")), Err("must be a number"));
        assert_eq!(whole(&cell("3")), Some(3));
        assert_eq!(whole(&cell(r#""3""#)), Some(3));
        assert_eq!(whole(&cell("2.5")), None);
        assert_eq!(whole(&cell(r#""2.5""#)), None);
        assert_eq!(whole(&cell(r#"{"n": 3}"#)), None);
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let item = RawItem {
            row: 4,
            fields: vec![
                ("account".into(), cell(r#""main""#)),
                ("id".into(), cell("7")),
                ("stock".into(), cell("1")),
                ("stock".into(), cell("2")),
            ],
        };
        let mut problems = Vec::new();
        assert!(parse_item(&item, &mut problems).is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].row, problems[0].field.as_str()), (4, "stock"));
    }
}
