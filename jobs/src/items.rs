//! A bulk request's items as checked, in words for the person who wrote them: the
//! problems that refuse a request, and the changes a good one plans.

use serde::Serialize;
use serde_json::{Map, Value};

/// One bad item of a bulk update: where it is and what is wrong, worded for the person
/// who wrote it. Every one is reported at once, unlike a [`ParamError`](crate::params::ParamError).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The CSV line (the header is line 1) or the item's position in `items`, from 1.
    pub row: u32,
    pub field: String,
    pub reason: String,
}

/// A checked change to one offer.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedItem {
    pub row: u32,
    pub account: String,
    pub emag_id: i64,
    pub part_number: Option<String>,
    /// The fields to send: money as strings with 4 decimals, stock and handling time as
    /// whole numbers, status as a number.
    pub change: Map<String, Value>,
    /// The same fields as the database holds them now (null when unknown).
    pub previous: Map<String, Value>,
}

/// What a change does to one field, for the dry run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

impl PlannedItem {
    pub fn diff(&self) -> Vec<FieldDiff> {
        self.change
            .iter()
            .map(|(field, to)| FieldDiff {
                field: field.clone(),
                from: self.previous.get(field).cloned().unwrap_or(Value::Null),
                to: to.clone(),
            })
            .collect()
    }
}
