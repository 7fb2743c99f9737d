//! The two ways a bulk update arrives: JSON items and a CSV file. Both become
//! [`RawItem`]s with the row a person would look for.

use serde_json::{Map, Value};

use super::plan::{FIELDS, Problem, RawItem};

/// Most items in one request.
pub const MAX_ITEMS: usize = 100_000;

/// `params.items` (row = position from 1).
pub fn from_json(items: Vec<Value>) -> Result<Vec<RawItem>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match item {
            Value::Object(fields) => out.push(RawItem { row, fields }),
            _ => problems.push(Problem {
                row,
                field: "item".into(),
                reason: "must be a JSON object".into(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
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
    let known = |c: &str| ["account", "id", "part_number"].contains(&c) || FIELDS.contains(&c);
    if let Some(bad) = headers.iter().find(|c| !known(c)) {
        return Err(header_problem(format!(
            "unknown column {bad:?}; columns are account, id or part_number, {}",
            FIELDS.join(", ")
        )));
    }
    if !headers.iter().any(|c| c == "account")
        || !headers.iter().any(|c| c == "id" || c == "part_number")
    {
        return Err(header_problem(
            "the header must name account and id or part_number".into(),
        ));
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
        let fields: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(name, cell)| (name.clone(), Value::String(cell.to_owned())))
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
    fn csv_rows_are_line_numbers_and_empty_cells_change_nothing() {
        let csv = "account,id,sale_price,stock\nmain,12,10.5,\nmain,13,,4\n";
        let items = from_csv(csv.as_bytes()).expect("parsed");
        assert_eq!(items[0].row, 2);
        assert_eq!(items[1].row, 3);
        assert!(!items[0].fields.contains_key("stock"));
        assert_eq!(items[1].fields["stock"], "4");
        let bad = from_csv(b"account,id,colour\nmain,1,red\n").expect_err("unknown column");
        assert_eq!(bad[0].field, "header");
        assert!(bad[0].reason.contains("colour"));
    }
}
