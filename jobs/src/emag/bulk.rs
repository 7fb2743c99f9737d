//! Bulk saves in requests eMAG accepts: at most 50 entities and 4,000 leaf values
//! ("input vars") per request (docs/emag.md §3.2, §1.4).

use serde_json::Value;

/// Entities per bulk request.
pub const MAX_BULK: usize = 50;
/// Leaf values per request.
pub const MAX_ELEMENTS: usize = 4000;

/// Splits a bulk save into requests of at most [`MAX_BULK`] items and [`MAX_ELEMENTS`]
/// leaf values.
pub fn chunks(items: &[Value]) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current = Vec::new();
    let mut elements = 0;
    for item in items {
        let n = leaf_count(item);
        if !current.is_empty() && (current.len() == MAX_BULK || elements + n > MAX_ELEMENTS) {
            out.push(std::mem::take(&mut current));
            elements = 0;
        }
        elements += n;
        current.push(item.clone());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Leaf values, as eMAG counts "input vars".
pub fn leaf_count(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.iter().map(leaf_count).sum(),
        Value::Object(map) => map.values().map(leaf_count).sum(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chunking_respects_both_caps() {
        let small: Vec<Value> = (0..120)
            .map(|i| json!({"id": i, "sale_price": "1.0000"}))
            .collect();
        let sizes: Vec<usize> = chunks(&small).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![50, 50, 20]);
        let wide: Vec<Value> = (0..30).map(|i| json!({"id": i, "stock": (0..199).map(|w| json!({"warehouse_id": w, "value": 1})).collect::<Vec<_>>() })).collect();
        for chunk in chunks(&wide) {
            assert!(chunk.iter().map(leaf_count).sum::<usize>() <= MAX_ELEMENTS);
        }
    }
}
