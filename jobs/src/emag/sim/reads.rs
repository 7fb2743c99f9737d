//! `product_offer/read|count` and `order/read|count`: filters, paging and their rules.

use std::collections::VecDeque;

use poem::{Response, http::StatusCode};
use serde_json::{Value, json};

use super::{
    body::num,
    server::{envelope, error_envelope},
    state::{LoginData, SimState},
};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    Offers,
    Orders,
}

/// Why the simulator refuses a read, in eMAG's words (its `isError` message).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("{before} requires {after}")]
    Unpaired {
        before: &'static str,
        after: &'static str,
    },
    #[error("The interval between {after} and {before} must be at most one month")]
    Interval {
        before: &'static str,
        after: &'static str,
    },
    #[error("{after}/{before} must be YYYY-mm-dd HH:ii:ss")]
    DateFormat {
        before: &'static str,
        after: &'static str,
    },
    #[error("currentPage must be between 1 and 65535")]
    Page,
    #[error("itemsPerPage must be between 1 and 100")]
    PageSize,
}

/// Where the page after one already read starts, while nothing changed: a page is found
/// from the nearest such position before it, not by walking every item before it (what
/// a sync of 100,000 offers made the simulator do 1,000 times).
pub(super) struct Cursor {
    resource: Resource,
    /// The read's filter and page size, without the page.
    read: String,
    page: usize,
    /// The id the page starts from.
    from: u64,
    /// [`super::state::Tracked::changes`] of the items when it was taken.
    changes: u64,
}

/// The positions of the pages after the last ones read. More than one: a reader with
/// pages in flight (a sync asks for up to 16 ahead) has them answered in whatever order
/// they arrive, and one position was lost at the first page out of order, so most pages
/// after it were found by walking from the first item (in `bench sync`, a twentieth of
/// all the CPU of the two cores went there).
#[derive(Default)]
pub(super) struct Cursors(VecDeque<Cursor>);

/// Positions kept; the oldest goes first.
const CURSORS: usize = 64;

impl Cursors {
    /// Where `page` of the read `key` (made at `changes`) starts: the id to start from
    /// and the items to skip from there.
    fn start(
        &self,
        resource: Resource,
        (key, changes): (&str, u64),
        page: usize,
        per: usize,
    ) -> (u64, usize) {
        self.0
            .iter()
            .filter(|c| {
                c.resource == resource && c.changes == changes && c.page <= page && c.read == key
            })
            .max_by_key(|c| c.page)
            .map_or((0, (page - 1) * per), |c| (c.from, (page - c.page) * per))
    }

    fn keep(&mut self, cursor: Cursor) {
        self.0.retain(|c| {
            !(c.resource == cursor.resource && c.page == cursor.page && c.read == cursor.read)
                && c.changes == cursor.changes
        });
        if self.0.len() == CURSORS {
            self.0.pop_front();
        }
        self.0.push_back(cursor);
    }
}

/// The items matching a read/count filter from id `from` on, in id order, lazily: a page
/// is found without collecting every match before it.
fn filtered<'a>(
    state: &SimState,
    data: &'a LoginData,
    input: &Value,
    (resource, from): (Resource, u64),
    is_count: bool,
) -> Result<impl Iterator<Item = &'a Value> + 'a, Refusal> {
    let items: Box<dyn Iterator<Item = &Value>> = match resource {
        Resource::Offers => Box::new(data.offers.range(from..).map(|(_, v)| v)),
        Resource::Orders => Box::new(data.orders.range(from..).map(|(_, v)| v)),
    };
    let id = num(input.get("id"));
    let statuses: Option<Vec<i64>> = match input.get("status") {
        Some(Value::Array(list)) => Some(list.iter().filter_map(|v| num(Some(v))).collect()),
        Some(v) => num(Some(v)).map(|s| vec![s]),
        None => None,
    };
    let text = |key: &str| input.get(key).and_then(|v| v.as_str().map(str::to_owned));
    let (part_number, pnk) = (text("part_number"), text("part_number_key"));
    let mut order_type = num(input.get("type"));
    let payment_mode = num(input.get("payment_mode_id"));
    let mut windows = Vec::new();
    if resource == Resource::Orders {
        if order_type.is_none() && !is_count && state.config.default_order_type_3 {
            order_type = Some(3);
        }
        for (after, before, field) in [
            ("createdAfter", "createdBefore", "date"),
            ("modifiedAfter", "modifiedBefore", "modified"),
        ] {
            let a = text(after);
            let b = text(before);
            if b.is_some() && a.is_none() {
                return Err(Refusal::Unpaired { before, after });
            }
            if let (Some(a), Some(b)) = (&a, &b) {
                let parse = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S");
                match (parse(a), parse(b)) {
                    (Ok(x), Ok(y)) if y - x > chrono::Duration::days(31) => {
                        return Err(Refusal::Interval { before, after });
                    }
                    (Ok(_), Ok(_)) => {}
                    _ => return Err(Refusal::DateFormat { before, after }),
                }
            }
            if a.is_some() {
                windows.push((field, a, b));
            }
        }
    }
    Ok(items
        .filter(move |v| id.is_none_or(|id| num(v.get("id")) == Some(id)))
        .filter(move |v| {
            statuses
                .as_ref()
                .is_none_or(|s| num(v.get("status")).is_some_and(|st| s.contains(&st)))
        })
        .filter(move |v| {
            part_number
                .as_ref()
                .is_none_or(|p| v.get("part_number").and_then(Value::as_str) == Some(p))
        })
        .filter(move |v| {
            pnk.as_ref()
                .is_none_or(|p| v.get("part_number_key").and_then(Value::as_str) == Some(p))
        })
        .filter(move |v| order_type.is_none_or(|t| num(v.get("type")) == Some(t)))
        .filter(move |v| payment_mode.is_none_or(|p| num(v.get("payment_mode_id")) == Some(p)))
        .filter(move |v| {
            windows.iter().all(|(field, after, before)| {
                let t = v.get(*field).and_then(Value::as_str).unwrap_or_default();
                after.as_deref().is_none_or(|a| t >= a) && before.as_deref().is_none_or(|b| t <= b)
            })
        }))
}

fn page_size(state: &SimState, input: &Value) -> Result<(usize, usize), Refusal> {
    let page = num(input.get("currentPage")).unwrap_or(1);
    let per = num(input.get("itemsPerPage")).unwrap_or(100);
    if !(1..=65_535).contains(&page) {
        return Err(Refusal::Page);
    }
    let per = if (1..=100).contains(&per) {
        per
    } else if state.config.reject_page_size {
        return Err(Refusal::PageSize);
    } else {
        per.clamp(1, 100)
    };
    Ok((page as usize, per as usize))
}

/// The read without its page, and how many changes its items have seen: what a
/// [`Cursor`] must match.
fn read_key(data: &LoginData, input: &Value, resource: Resource) -> (String, u64) {
    let mut read = input.clone();
    if let Value::Object(map) = &mut read {
        map.remove("currentPage");
    }
    let changes = match resource {
        Resource::Offers => data.offers.changes(),
        Resource::Orders => data.orders.changes(),
    };
    (read.to_string(), changes)
}

pub(super) fn read(
    state: &SimState,
    data: &mut LoginData,
    input: &Value,
    resource: Resource,
) -> Response {
    let (page, per) = match page_size(state, input) {
        Ok(p) => p,
        Err(e) => return error_envelope(StatusCode::OK, &[&e.to_string()]),
    };
    let (key, changes) = read_key(data, input, resource);
    let (from, skip) = data.cursors.start(resource, (&key, changes), page, per);
    let found = filtered(state, data, input, (resource, from), false).map(|items| {
        let ids: Vec<u64> = items
            .skip(skip)
            .take(per)
            .filter_map(|v| num(v.get("id")).and_then(|id| u64::try_from(id).ok()))
            .collect();
        let next = ids.last().copied();
        (ids, next)
    });
    match found {
        Ok((ids, next)) => {
            let full = ids.len() == per;
            let response = page_response(data, &ids, input, resource);
            if let Some(last) = next.filter(|_| full) {
                data.cursors.keep(Cursor {
                    resource,
                    read: key,
                    page: page + 1,
                    from: last + 1,
                    changes,
                });
            }
            response
        }
        Err(e) => error_envelope(StatusCode::OK, &[&e.to_string()]),
    }
}

/// A page's answer: the items `ids`, as kept texts.
fn page_response(data: &mut LoginData, ids: &[u64], input: &Value, resource: Resource) -> Response {
    let (items, texts) = match resource {
        Resource::Offers => (&data.offers, &mut data.offer_texts),
        Resource::Orders => (&data.orders, &mut data.order_texts),
    };
    // GPSR details are lists when one product is asked for by id.
    if input.get("id").is_some() && resource == Resource::Offers {
        let gpsr = |v: &Value| {
            let mut v = v.clone();
            v["manufacturer"] =
                json!([{ "name": "ACME SRL", "address": "Bucuresti", "email": "gpsr@acme.ro" }]);
            v["eu_representative"] = json!([]);
            v
        };
        envelope(
            ids.iter()
                .filter_map(|id| items.get(id))
                .map(gpsr)
                .collect::<Vec<_>>(),
        )
    } else {
        envelope(texts.page(items, ids))
    }
}

pub(super) fn count(
    state: &SimState,
    data: &LoginData,
    input: &Value,
    resource: Resource,
    is_orders: bool,
) -> Response {
    let per = num(input.get("itemsPerPage")).unwrap_or(100).clamp(1, 100) as usize;
    match filtered(state, data, input, (resource, 0), is_orders) {
        Ok(items) => {
            let n = items.count();
            // Numeric strings, as eMAG sends them.
            envelope(
                json!({ "noOfItems": n.to_string(), "noOfPages": n.div_ceil(per).to_string(), "itemsPerPage": per.to_string() }),
            )
        }
        Err(e) => error_envelope(StatusCode::OK, &[&e.to_string()]),
    }
}
