//! `offer_validation_status`: an object per real clients, a list of them per the doc;
//! kept as its text, with the one code magflow uses read out of it.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `offer_validation_status` as eMAG sent it, its text kept: a tree of it was a fifth of
/// an offer's parse, for the one code read out of it ([`OfferValidation::value`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfferValidation(Box<RawValue>);

impl PartialEq for OfferValidation {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl OfferValidation {
    /// The JSON text as it came.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The code: the `value` of the object, or of a list's first object, or the value
    /// itself; a number or a numeric string.
    pub fn value(&self) -> Option<i64> {
        #[derive(Deserialize)]
        struct Coded<'a> {
            #[serde(borrow, default)]
            value: Option<&'a RawValue>,
        }
        let text = self.text();
        let code = match text.trim_start().as_bytes().first() {
            Some(b'[') => {
                let list = serde_json::from_str::<Vec<&RawValue>>(text).ok()?;
                serde_json::from_str::<Coded>(list.first()?.get())
                    .ok()?
                    .value?
            }
            Some(b'{') => serde_json::from_str::<Coded>(text).ok()?.value?,
            _ => self.0.as_ref(),
        };
        serde_json::from_str::<i64>(code.get()).ok().or_else(|| {
            serde_json::from_str::<String>(code.get())
                .ok()?
                .parse()
                .ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Offer;

    /// The code read out of every shape `offer_validation_status` comes in, as a tree of
    /// it gave it.
    #[test]
    fn offer_validation_code_of_every_shape() {
        for (sent, code) in [
            (json!({ "value": 1, "description": "Valid" }), Some(1)),
            (
                json!([{ "value": "2", "description": "x" }, { "value": 3 }]),
                Some(2),
            ),
            (json!([]), None),
            (json!([{ "value": 6 }, 7]), Some(6)),
            (json!([7, { "value": 6 }]), None),
            (json!({ "description": "no code" }), None),
            (json!({ "value": null }), None),
            (json!({ "value": 1.5 }), None),
            (json!(4), Some(4)),
            (json!("5"), Some(5)),
            (json!("five"), None),
        ] {
            let offer: Offer =
                serde_json::from_value(json!({ "id": 1, "offer_validation_status": sent }))
                    .expect("offer");
            let status = offer.offer_validation_status.expect("kept");
            assert_eq!(status.value(), code, "{sent}");
            assert_eq!(status.text(), sent.to_string());
        }
    }
}
