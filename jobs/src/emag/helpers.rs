//! eMAG's read-only helpers the predecessor used beside offers and orders:
//! `handling_time/read` (the handling times an offer may have) and
//! `documentation/find_by_eans` (which eMAG products carry an EAN, and whether the seller
//! may offer them). Both shapes are partly UNCERTAIN (docs/emag.md §4.7): the reader
//! takes numbers as numbers or strings, and either spelling of `allowed_to_add_offer`.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use serde_with::{DisplayFromStr, PickFirst, serde_as};

use super::{EmagClient, EmagError};

/// EANs per `find_by_eans` request (eMAG states no limit; URLs stay short).
pub const EANS_PER_REQUEST: usize = 50;

/// An eMAG product that carries an EAN.
#[serde_as]
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct EanProduct {
    #[serde(default)]
    pub ean: Option<String>,
    #[serde(default)]
    pub part_number_key: Option<String>,
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default)]
    pub brand_name: Option<String>,
    #[serde(default)]
    pub category_name: Option<String>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    pub doc_category_id: Option<i64>,
    /// The table in eMAG's documentation says `allow_to_add_offer`, its example
    /// `allowed_to_add_offer`.
    #[serde(default, alias = "allow_to_add_offer", deserialize_with = "flag")]
    pub allowed_to_add_offer: bool,
    #[serde(default, deserialize_with = "flag")]
    pub vendor_has_offer: bool,
    #[serde(default)]
    pub site_url: Option<String>,
}

/// 1/0, "1"/"0", true/false.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => matches!(s.trim(), "1" | "true"),
        _ => false,
    })
}

impl EmagClient {
    /// The handling times (days) eMAG accepts on offers.
    pub async fn handling_times(&self) -> Result<Vec<u32>, EmagError> {
        let results = self
            .call(
                Method::POST,
                "handling_time/read",
                Some(&serde_json::json!({})),
            )
            .await?;
        Ok(handling_times_of(&results))
    }

    /// The eMAG products carrying each EAN (an EAN eMAG does not know maps to none).
    pub async fn find_by_eans(
        &self,
        eans: &[String],
    ) -> Result<BTreeMap<String, Vec<EanProduct>>, EmagError> {
        let mut found = BTreeMap::new();
        for chunk in eans.chunks(EANS_PER_REQUEST) {
            let query: Vec<String> = chunk
                .iter()
                .map(|e| {
                    format!(
                        "eans[]={}",
                        url::form_urlencoded::byte_serialize(e.as_bytes()).collect::<String>()
                    )
                })
                .collect();
            let route = format!("documentation/find_by_eans?{}", query.join("&"));
            let results = self.call(Method::GET, &route, None).await?;
            for ean in chunk {
                let products = results
                    .get(ean.as_str())
                    .and_then(|r| r.get("products"))
                    .and_then(|p| serde_json::from_value::<Vec<EanProduct>>(p.clone()).ok())
                    .unwrap_or_default();
                found.insert(ean.clone(), products);
            }
        }
        Ok(found)
    }
}

/// Days from each item: a number, or an object's `value`, `id` or `handling_time`.
fn handling_times_of(results: &Value) -> Vec<u32> {
    let day = |v: &Value| -> Option<u32> {
        match v {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let mut days: Vec<u32> = results
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(o) => ["value", "id", "handling_time"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(day)),
                    other => day(other),
                })
                .collect()
        })
        .unwrap_or_default();
    days.sort_unstable();
    days.dedup();
    days
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_shape_of_the_helpers_is_read() {
        let days = handling_times_of(&json!([{ "value": 3 }, { "id": "1" }, 0, "7", { "x": 1 }]));
        assert_eq!(days, vec![0, 1, 3, 7]);
        let products: Vec<EanProduct> = serde_json::from_value(json!([
            { "part_number_key": "D1", "allow_to_add_offer": "1", "vendor_has_offer": 0, "doc_category_id": "12" },
            { "part_number_key": "D2", "allowed_to_add_offer": true },
        ]))
        .expect("products");
        assert!(products[0].allowed_to_add_offer && !products[0].vendor_has_offer);
        assert_eq!(products[0].doc_category_id, Some(12));
        assert!(products[1].allowed_to_add_offer);
    }
}
