//! The two ways a bulk update arrives: JSON items and a CSV file. Both become
//! [`RawItem`]s with the row a person would look for.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{
    order_plan::ORDER_FIELDS,
    plan::{Cell, FIELDS, Problem, RawItem},
};

/// Most items in one request.
pub const MAX_ITEMS: usize = 100_000;

/// Most fields in one JSON item: its account, its key and every field it may change,
/// with room for a few mistakes to report.
const MAX_FIELDS: usize = 3 + FIELDS.len() + 6;

/// `params.items` of a JSON request, read straight from the body's bytes into
/// [`RawItem`]s (row = position from 1): no `serde_json::Value` tree in between, and
/// reading stops at the first item over [`MAX_ITEMS`].
#[derive(Debug, Default, serde::Serialize)]
pub struct JsonItems {
    items: Vec<RawItem>,
    /// Items that are not JSON objects.
    problems: Vec<Problem>,
}

impl JsonItems {
    pub fn len(&self) -> usize {
        self.items.len() + self.problems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items, or every item that is not an object.
    pub fn into_items(self) -> Result<Vec<RawItem>, Vec<Problem>> {
        if self.problems.is_empty() {
            Ok(self.items)
        } else {
            Err(self.problems)
        }
    }
}

impl From<Vec<RawItem>> for JsonItems {
    fn from(items: Vec<RawItem>) -> Self {
        JsonItems {
            items,
            problems: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for JsonItems {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ItemsVisitor)
    }
}

struct ItemsVisitor;

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = JsonItems;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonItems, A::Error> {
        let mut out = JsonItems::default();
        while let Some(item) = seq.next_element::<JsonItem>()? {
            if out.len() == MAX_ITEMS {
                return Err(de::Error::custom(format!(
                    "must hold at most {MAX_ITEMS} items"
                )));
            }
            let row = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
            match item {
                JsonItem::Object(fields) => out.items.push(RawItem { row, fields }),
                JsonItem::NotObject => out.problems.push(Problem {
                    row,
                    field: "item".into(),
                    reason: "must be a JSON object".into(),
                }),
                JsonItem::TooManyFields => out.problems.push(Problem {
                    row,
                    field: "item".into(),
                    reason: format!("has more than {MAX_FIELDS} fields"),
                }),
            }
        }
        Ok(out)
    }
}

enum JsonItem {
    Object(Vec<(String, Cell)>),
    NotObject,
    TooManyFields,
}

impl<'de> Deserialize<'de> for JsonItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = JsonItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an item")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonItem, A::Error> {
        let mut fields = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            if fields.len() == MAX_FIELDS {
                map.next_value::<IgnoredAny>()?;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(JsonItem::TooManyFields);
            }
            fields.push((name, map.next_value::<Cell>()?));
        }
        Ok(JsonItem::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonItem, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonItem::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonItem, E> {
        Ok(JsonItem::NotObject)
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
        Ok(Cell::Text(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
        Ok(Cell::Number(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
        Ok(Cell::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
        Ok(Cell::Number(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Cell, E> {
        Ok(Cell::Other("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Other("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Cell::Other("an object"))
    }
}

/// What is wrong with a CSV header, if anything: an unknown column, or no account and key.
fn header_fault(headers: &[String]) -> Option<String> {
    let known = |c: &str| {
        ["account", "id", "part_number"].contains(&c)
            || FIELDS.contains(&c)
            || ORDER_FIELDS.contains(&c)
    };
    if let Some(bad) = headers.iter().find(|c| !known(c)) {
        return Some(format!(
            "unknown column {bad:?}; columns are account, id or part_number, {} (offers) or {} (orders)",
            FIELDS.join(", "),
            ORDER_FIELDS[1..].join(", ")
        ));
    }
    let has = |names: &[&str]| headers.iter().any(|c| names.contains(&c.as_str()));
    (!has(&["account"]) || !has(&["id", "part_number", "order_id"])).then(|| {
        "the header must name account and id or part_number (offers) or order_id (orders)".into()
    })
}

/// A CSV file with a header line naming its columns (row = line number, header = 1).
/// Empty cells change nothing.
pub fn from_csv(data: &[u8]) -> Result<Vec<RawItem>, Vec<Problem>> {
    let header_problem = |reason: String| {
        vec![Problem {
            row: 1,
            field: "header".into(),
            reason,
        }]
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(data);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_lowercase())
            .collect(),
        Err(e) => return Err(header_problem(format!("unreadable CSV header: {e}"))),
    };
    if let Some(reason) = header_fault(&headers) {
        return Err(header_problem(reason));
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                problems.push(Problem {
                    row: u32::try_from(row).unwrap_or(u32::MAX),
                    field: "line".into(),
                    reason: format!("unreadable CSV line: {e}"),
                });
                continue;
            }
        };
        let row = record
            .position()
            .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        if out.len() + problems.len() >= MAX_ITEMS {
            return Err(vec![Problem {
                row,
                field: "file".into(),
                reason: format!("holds more than {MAX_ITEMS} items"),
            }]);
        }
        let fields = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(name, cell)| (name.clone(), Cell::Text(cell.to_owned())))
            .collect();
        out.push(RawItem { row, fields });
    }
    if out.is_empty() && problems.is_empty() {
        return Err(vec![Problem {
            row: 2,
            field: "file".into(),
            reason: "has no items after the header".into(),
        }]);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_items_keep_their_rows_and_stop_at_the_limit() {
        let items: JsonItems = serde_json::from_str(
            r#"[{"account":"main","id":7,"sale_price":"1.5","stock":[1,[2]]}, 3, {}]"#,
        )
        .expect("read");
        let problems = items.into_items().expect_err("3 is not an item");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].row, problems[0].field.as_str()), (2, "item"));

        let items: JsonItems =
            serde_json::from_str(r#"[{"id":7,"sale_price":12.25,"stock":[1,[2]]}]"#).expect("read");
        let items = items.into_items().expect("objects");
        assert_eq!(items[0].get("id"), Some(&Cell::Number("7".into())));
        assert_eq!(
            items[0].get("sale_price"),
            Some(&Cell::Number("12.25".into()))
        );
        assert_eq!(items[0].get("stock"), Some(&Cell::Other("an array")));

        let wide = (0..=MAX_FIELDS)
            .map(|i| format!(r#""f{i}":{i}"#))
            .collect::<Vec<_>>()
            .join(",");
        let items: JsonItems = serde_json::from_str(&format!("[{{{wide}}}]")).expect("read");
        let problems = items.into_items().expect_err("too wide");
        assert!(problems[0].reason.contains("fields"), "{problems:?}");

        let over = format!("[{}{{}}]", "{},".repeat(MAX_ITEMS));
        let e = serde_json::from_str::<JsonItems>(&over).expect_err("over the limit");
        assert!(e.to_string().contains("at most 100000 items"), "{e}");
    }

    #[test]
    fn csv_rows_are_line_numbers_and_empty_cells_change_nothing() {
        let csv = "account,id,sale_price,stock\nmain,12,10.5,\nmain,13,,4\n";
        let items = from_csv(csv.as_bytes()).expect("parsed");
        assert_eq!(items[0].row, 2);
        assert_eq!(items[1].row, 3);
        assert_eq!(items[0].get("stock"), None);
        assert_eq!(items[1].get("stock"), Some(&Cell::Text("4".into())));
        let bad = from_csv(b"account,id,colour\nmain,1,red\n").expect_err("unknown column");
        assert_eq!(bad[0].field, "header");
        assert!(bad[0].reason.contains("colour"));
    }
}
