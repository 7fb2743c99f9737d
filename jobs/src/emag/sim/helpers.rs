//! eMAG's read-only helpers: `handling_time/read`, and `documentation/find_by_eans` (a GET
//! with `eans[]=` in the query, results keyed by EAN) over every login's catalogue, as
//! eMAG's catalogue is shared by its sellers.

use std::{collections::BTreeMap, sync::Arc};

use poem::Response;
use serde_json::{Value, json};

use super::{
    server::envelope,
    state::{SimState, lock},
};

pub(super) fn handling_times() -> Response {
    envelope(json!(
        [0, 1, 2, 3, 5, 7, 10, 14, 30].map(|d| json!({ "value": d }))
    ))
}

pub(super) fn find_by_eans(state: &Arc<SimState>, login: &str, query: Option<&str>) -> Response {
    let eans: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "eans[]" || k == "eans")
        .map(|(_, v)| v.into_owned())
        .collect();
    let logins = lock(&state.logins);
    let mut results = BTreeMap::new();
    for ean in eans {
        let mut products = Vec::new();
        for (name, data) in logins.iter() {
            for offer in data.offers.values().filter(|o| has_ean(o, &ean)) {
                products.push(json!({
                    "ean": ean,
                    "part_number_key": offer["part_number_key"],
                    "product_name": offer["name"],
                    "brand_name": offer["brand"],
                    "doc_category_id": offer["category_id"],
                    "category_name": "Categorie",
                    // The documentation's table spells it `allow_to_add_offer`.
                    "allow_to_add_offer": 1,
                    "vendor_has_offer": u8::from(name == login),
                }));
            }
        }
        results.insert(ean, json!({ "products": products }));
    }
    envelope(json!(results))
}

fn has_ean(offer: &Value, ean: &str) -> bool {
    offer["ean"]
        .as_array()
        .is_some_and(|list| list.iter().any(|e| e.as_str() == Some(ean)))
}
