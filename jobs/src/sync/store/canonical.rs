//! An item's canonical JSON text straight from the text eMAG sent: the same bytes as
//! parsing it into a [`serde_json::Value`] and printing that (keys sorted, the last of a
//! repeated key kept, strings and numbers as serde_json writes them), so stored content
//! hashes do not change, but without building the tree: a page's items were a fifth of a
//! syncing worker's time as trees made and dropped.

use std::{borrow::Cow, fmt, ops::Range};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The canonical text of the JSON document `raw`.
pub(super) fn canonical(raw: &str) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(raw.len());
    let mut de = serde_json::Deserializer::from_str(raw);
    Canon { out: &mut out }.deserialize(&mut de)?;
    de.end()?;
    // Only serde_json's own output of valid UTF-8 input went in.
    String::from_utf8(out).map_err(|e| de::Error::custom(e.to_string()))
}

/// Writes the value it is given, canonically, at the end of `out`.
struct Canon<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for Canon<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Canon<'_> {
    /// Writes `value` as serde_json's compact printer does.
    fn write<T: serde::Serialize + ?Sized, E: de::Error>(self, value: &T) -> Result<(), E> {
        serde_json::to_writer(&mut *self.out, value).map_err(E::custom)
    }
}

impl<'de> Visitor<'de> for Canon<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.write(&v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.write(&v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.write(&v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // As a tree stores it: a float that is not finite has no number.
        match serde_json::Number::from_f64(v) {
            Some(n) => self.write(&n),
            None => self.visit_unit(),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.write(v)
    }

    /// A string that had no escape in the text: serde_json writes it back unchanged (it
    /// escapes only quotes, backslashes and control characters, none of which such a
    /// string can hold), so it is copied without the escaping scan.
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        quoted(self.out, v);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            let at = self.out.len();
            if !first {
                self.out.push(b',');
            }
            if seq.next_element_seed(Canon { out: self.out })?.is_none() {
                self.out.truncate(at);
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Each value is written to `values` as it comes; the keys then decide the order.
        let mut values = Vec::new();
        let mut entries: Vec<(Cow<'de, str>, Range<usize>)> = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let start = values.len();
            map.next_value_seed(Canon { out: &mut values })?;
            entries.push((key, start..values.len()));
        }
        // Stable: of a repeated key, the last stays last, and is the one kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.out.push(b'{');
        let mut first = true;
        for (i, (key, range)) in entries.iter().enumerate() {
            if entries.get(i + 1).is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            match key {
                Cow::Borrowed(key) => quoted(self.out, key),
                Cow::Owned(key) => {
                    serde_json::to_writer(&mut *self.out, key).map_err(de::Error::custom)?;
                }
            }
            self.out.push(b':');
            self.out.extend_from_slice(&values[range.clone()]);
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// Writes a string that came without escapes, as it came.
fn quoted(out: &mut Vec<u8>, v: &str) {
    out.reserve(v.len() + 2);
    out.push(b'"');
    out.extend_from_slice(v.as_bytes());
    out.push(b'"');
}

/// A map key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::canonical;

    /// What the content hash was always taken from: the text of the parsed tree.
    fn through_tree(raw: &str) -> String {
        serde_json::from_str::<Value>(raw).unwrap().to_string()
    }

    #[test]
    fn the_same_text_as_through_a_tree() {
        let cases = [
            r#"{"b":1,"a":{"d":[1,2,{"z":null,"y":true}],"c":"x"}}"#,
            r#"{"id":"7","sale_price":"12.5000","name":"Cafea \u0103\u00e2\u00ee\u0219\u021b","url":"https:\/\/e.ro\/a"}"#,
            r#"{ "a" : [ ] , "b" : { } , "c" : [ [ ] , { } ] }"#,
            r#"{"f":1.50,"g":1e2,"h":-0.0,"i":-12,"j":18446744073709551615,"k":18446744073709551616,"l":0.1e-3}"#,
            r#"{"dup":1,"x":0,"dup":{"b":2,"a":1},"dup":"last"}"#,
            r#"{"esc":"tab\there \"q\" back\\slash \u0001 \ud83d\ude00","k\u00e9y":1,"ké":2}"#,
            r#"[{"b":1,"a":2},"s",3,null,false]"#,
            r#""just a string""#,
            r#"42"#,
            r#"{"": "", "a": -9223372036854775808, "b": 9223372036854775807}"#,
        ];
        for raw in cases {
            assert_eq!(canonical(raw).unwrap(), through_tree(raw), "{raw}");
        }
    }

    #[test]
    fn not_json_is_an_error_as_through_a_tree() {
        for raw in [
            r#"{"a":1"#,
            r#"{"a":1} x"#,
            r#"{"a":1e400}"#,
            "",
            r#"{"a":}"#,
        ] {
            assert!(canonical(raw).is_err(), "{raw}");
            assert!(serde_json::from_str::<Value>(raw).is_err(), "{raw}");
        }
    }

    #[cfg(feature = "simulator")]
    #[test]
    fn the_simulators_offers_the_same_as_through_a_tree() {
        let login = crate::emag::sim::SimLogin {
            username: "u".into(),
            password: "p".into(),
            fbe: false,
        };
        for offer in crate::emag::sim::data::offers(&login, 200, 7) {
            let raw = offer.to_string();
            assert_eq!(canonical(&raw).unwrap(), through_tree(&raw));
        }
    }
}
