//! eMAG is called with four body encodings in the wild (docs/emag.md §1.4): JSON at the top
//! level, JSON under `data`, a form with `data[...]` keys, and a form with bare keys. All
//! four become the same JSON value here.

use serde_json::{Map, Value};

/// A body that is neither JSON nor a form: what the simulator answers, as eMAG would.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON: {0}")]
pub struct InvalidBody(serde_json::Error);

/// The request as one JSON value.
pub fn normalise(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, InvalidBody> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let is_form = content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let value = if is_form {
        from_form(bytes)
    } else {
        serde_json::from_slice(bytes).map_err(InvalidBody)?
    };
    Ok(unwrap_data(value))
}

fn unwrap_data(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("data") => {
            map.remove("data").unwrap_or_default()
        }
        other => other,
    }
}

/// `data[0][stock][0][value]=3` → `{"data": [{"stock": [{"value": "3"}]}]}` (form values stay
/// strings; the handlers read numbers tolerantly).
fn from_form(bytes: &[u8]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in url::form_urlencoded::parse(bytes) {
        let mut path: Vec<String> = Vec::new();
        let (head, rest) = key
            .split_once('[')
            .map_or((key.as_ref(), ""), |(h, r)| (h, r));
        path.push(head.to_owned());
        for part in rest.split('[') {
            let part = part.trim_end_matches(']');
            if !part.is_empty() || !rest.is_empty() {
                path.push(part.to_owned());
            }
        }
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    arrays_from_numeric_maps(root)
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    let Value::Object(map) = node else { return };
    if rest.is_empty() {
        map.insert(first.clone(), value);
    } else {
        let child = map
            .entry(first.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        insert(child, rest, value);
    }
}

/// PHP arrays arrive as maps keyed 0, 1, 2…: make them JSON arrays again.
fn arrays_from_numeric_maps(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let numeric = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if numeric {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), arrays_from_numeric_maps(v)))
                    .collect();
                items.sort_by_key(|(k, _)| *k);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(
                    map.into_iter()
                        .map(|(k, v)| (k, arrays_from_numeric_maps(v)))
                        .collect(),
                )
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(arrays_from_numeric_maps).collect())
        }
        other => other,
    }
}

/// A number that may be a JSON number or a numeric string.
pub fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn four_encodings_agree() {
        let want = json!({"currentPage": 2, "itemsPerPage": 10});
        let top = normalise(
            Some("application/json"),
            br#"{"currentPage":2,"itemsPerPage":10}"#,
        )
        .expect("json");
        let wrapped = normalise(
            Some("application/json"),
            br#"{"data":{"currentPage":2,"itemsPerPage":10}}"#,
        )
        .expect("data");
        let form = normalise(
            Some("application/x-www-form-urlencoded"),
            b"data%5BcurrentPage%5D=2&data%5BitemsPerPage%5D=10",
        )
        .expect("form");
        let bare = normalise(
            Some("application/x-www-form-urlencoded"),
            b"currentPage=2&itemsPerPage=10",
        )
        .expect("bare");
        for v in [&top, &wrapped, &form, &bare] {
            assert_eq!(num(v.get("currentPage")), num(want.get("currentPage")));
            assert_eq!(num(v.get("itemsPerPage")), Some(10));
        }
        let list = normalise(
            Some("application/x-www-form-urlencoded"),
            b"data[0][id]=5&data[0][stock][0][value]=3&data[1][id]=6",
        )
        .expect("list");
        assert_eq!(
            list,
            json!([{"id": "5", "stock": [{"value": "3"}]}, {"id": "6"}])
        );
    }
}
