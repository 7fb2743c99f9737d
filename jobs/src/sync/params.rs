//! What a `sync` request may ask for, and its validation (422 naming the field).

use serde::{Deserialize, Serialize};

use super::clock;
use crate::params::ParamError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// Account names, or `"all"`.
    pub accounts: AccountSelection,
    #[serde(default = "all")]
    pub resource: Resource,
    #[serde(default)]
    pub mode: Mode,
    /// Order statuses to read (0..5); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<i64>,
    /// Offer status to read (0 inactive, 1 active, 2 end of life); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_status: Option<i64>,
    /// Orders created in this range (platform-local `YYYY-mm-dd[ HH:MM:SS]`). A full
    /// sync without a range reads the last 365 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
    /// Orders modified in this range; overrides the created range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_before: Option<String>,
    /// Read only these orders (at most 100; `resource` must be `orders`): what an eMAG
    /// callback asks for. Dates, statuses and mode do not apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_ids: Vec<u64>,
    /// Acknowledge new seller-fulfilled orders (status 1 → 2), then read them again.
    /// With `order_ids`, only those of them that are new.
    #[serde(default)]
    pub acknowledge: bool,
    /// Items per eMAG page (1 to 100).
    #[serde(default = "hundred")]
    pub per_page: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AccountSelection {
    Named(Vec<String>),
    All(String),
}

/// What a sync reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Offers,
    Orders,
    /// Offers, then orders: one run each.
    All,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Offers => "offers",
            Resource::Orders => "orders",
            Resource::All => "all",
        }
    }
}

/// How much a sync reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Everything (orders: in the requested range, or the last 365 days).
    #[default]
    Full,
    /// Orders changed since the last successful sync; offers are read whole either way,
    /// but unchanged ones are not rewritten.
    Incremental,
}

/// Orders one run may read by id.
pub const MAX_ORDER_IDS: usize = 100;

/// What an order id may be: positive, and stored as a signed 64-bit number.
pub const MAX_ORDER_ID: u64 = i64::MAX as u64;

fn all() -> Resource {
    Resource::All
}

fn hundred() -> u32 {
    100
}

impl SyncParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        match &self.accounts {
            AccountSelection::All(s) if s != "all" => {
                return Err(ParamError::new(
                    "params.accounts",
                    "must be a list of account names or \"all\"",
                ));
            }
            AccountSelection::Named(names) if names.is_empty() => {
                return Err(ParamError::new(
                    "params.accounts",
                    "must name at least one account",
                ));
            }
            _ => {}
        }
        if let Some(i) = self.statuses.iter().position(|s| !(0..=5).contains(s)) {
            return Err(ParamError::new(
                format!("params.statuses[{i}]"),
                "must be an order status from 0 to 5",
            ));
        }
        self.validate_order_ids()?;
        if self.offer_status.is_some_and(|s| !(0..=2).contains(&s)) {
            return Err(ParamError::new("params.offer_status", "must be 0, 1 or 2"));
        }
        if !(1..=100).contains(&self.per_page) {
            return Err(ParamError::new(
                "params.per_page",
                "must be between 1 and 100",
            ));
        }
        for (after, before, a, b) in [
            (
                "created_after",
                "created_before",
                &self.created_after,
                &self.created_before,
            ),
            (
                "modified_after",
                "modified_before",
                &self.modified_after,
                &self.modified_before,
            ),
        ] {
            let parse = |field: &str, v: &Option<String>| {
                v.as_deref()
                    .map(|s| {
                        clock::parse_local(s).ok_or_else(|| {
                            ParamError::new(
                                format!("params.{field}"),
                                "must be YYYY-mm-dd or YYYY-mm-dd HH:MM:SS",
                            )
                        })
                    })
                    .transpose()
            };
            let (a, b) = (parse(after, a)?, parse(before, b)?);
            if let (Some(a), Some(b)) = (a, b)
                && b <= a
            {
                return Err(ParamError::new(
                    format!("params.{before}"),
                    format!("must be after {after}"),
                ));
            }
        }
        Ok(())
    }

    fn validate_order_ids(&self) -> Result<(), ParamError> {
        if self.order_ids.is_empty() {
            return Ok(());
        }
        if self.resource != Resource::Orders {
            return Err(ParamError::new(
                "params.order_ids",
                "needs resource \"orders\"",
            ));
        }
        if self.order_ids.len() > MAX_ORDER_IDS {
            return Err(ParamError::new(
                "params.order_ids",
                format!("at most {MAX_ORDER_IDS} orders at a time"),
            ));
        }
        if let Some(i) = self
            .order_ids
            .iter()
            .position(|id| *id == 0 || *id > MAX_ORDER_ID)
        {
            return Err(ParamError::new(
                format!("params.order_ids[{i}]"),
                format!("must be an eMAG order id from 1 to {MAX_ORDER_ID}"),
            ));
        }
        Ok(())
    }

    /// The resources this request covers, in the order they run: `offers`, `orders`.
    pub fn resources(&self) -> Vec<Resource> {
        match self.resource {
            Resource::All => vec![Resource::Offers, Resource::Orders],
            one => vec![one],
        }
    }
}
