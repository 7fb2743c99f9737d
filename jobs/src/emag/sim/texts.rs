//! Items' JSON texts as a page sends them, kept while the items do not change: a page is
//! then copied, not serialized. A real eMAG serializes on its own servers; the simulator
//! runs beside the worker it answers, and serializing every page was a tenth of all the
//! CPU in `bench sync` (100,000 offers, two cores).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, value::RawValue};

use super::state::Tracked;

/// The texts of one collection's items, by id, as of one count of its changes.
#[derive(Default)]
pub struct Texts {
    changes: u64,
    by_id: HashMap<u64, Box<RawValue>>,
}

impl Texts {
    /// Every item's text, made now (when the items are created, before anyone reads).
    pub fn of_all(items: &Tracked<BTreeMap<u64, Value>>) -> Texts {
        let by_id = items
            .iter()
            .filter_map(|(id, v)| serde_json::value::to_raw_value(v).ok().map(|t| (*id, t)))
            .collect();
        Texts {
            changes: items.changes(),
            by_id,
        }
    }

    /// The texts of the items `ids` (in that order), made for those not kept. Any change
    /// to the items since the texts were made drops them all.
    pub fn page(&mut self, items: &Tracked<BTreeMap<u64, Value>>, ids: &[u64]) -> Vec<&RawValue> {
        if self.changes != items.changes() {
            self.by_id.clear();
            self.changes = items.changes();
        }
        for id in ids {
            if !self.by_id.contains_key(id)
                && let Some(text) = items
                    .get(id)
                    .and_then(|v| serde_json::value::to_raw_value(v).ok())
            {
                self.by_id.insert(*id, text);
            }
        }
        ids.iter()
            .filter_map(|id| self.by_id.get(id).map(AsRef::as_ref))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::{Texts, Tracked};

    fn texts(page: &[&serde_json::value::RawValue]) -> Vec<String> {
        page.iter().map(|t| t.get().to_owned()).collect()
    }

    #[test]
    fn a_change_is_read_at_once() {
        let mut items: Tracked<BTreeMap<u64, Value>> = Tracked::new(BTreeMap::from([
            (1, json!({ "id": 1, "name": "one" })),
            (2, json!({ "id": 2, "name": "two" })),
        ]));
        let mut kept = Texts::of_all(&items);
        assert_eq!(
            texts(&kept.page(&items, &[2, 1])),
            [r#"{"id":2,"name":"two"}"#, r#"{"id":1,"name":"one"}"#]
        );
        if let Some(one) = items.get_mut(&1) {
            one["name"] = json!("uno");
        }
        items.insert(3, json!({ "id": 3 }));
        assert_eq!(
            texts(&kept.page(&items, &[1, 3, 4])),
            [r#"{"id":1,"name":"uno"}"#, r#"{"id":3}"#]
        );
    }
}
