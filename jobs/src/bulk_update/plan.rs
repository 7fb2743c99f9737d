//! Checking a bulk update against the database before anything is queued: every bad item
//! is reported at once (row, field, reason), and a good request becomes one planned change
//! per offer or order (`order_plan`), with what the database holds now for the dry run's
//! diff.

use std::collections::{BTreeMap, HashMap};

use entity::{
    emag_account::{self, AccountKind},
    offer,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    fields::{Key, ParsedItem, parse_item},
    order_plan::{is_order_item, plan_orders},
};

/// The offer fields a bulk update may change, in the order of the CSV and the result.
pub const FIELDS: [&str; 7] = [
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
    "stock",
    "handling_time",
    "status",
];

/// Offers looked up per query.
const LOOKUP_BATCH: usize = 500;

pub use crate::items::{FieldDiff, PlannedItem, Problem};

/// One item as given: from a JSON object or a CSV line (empty cells left out), each value
/// kept as the text it was written in until it is checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RawItem {
    pub row: u32,
    /// In the order given; a name given twice is kept twice, and refused.
    pub fields: Vec<(String, Cell)>,
}

impl RawItem {
    pub fn get(&self, name: &str) -> Option<&Cell> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// One value of an item. JSON strings and numbers keep their text (a number's exact
/// digits); anything else is only named, for the problem that refuses it, so an array or
/// object inside an item costs no memory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Cell {
    Text(String),
    Number(String),
    Other(&'static str),
}

/// Checks every item; returns the planned changes, or every problem found.
pub async fn plan<C: ConnectionTrait>(
    db: &C,
    items: &[RawItem],
) -> Result<Result<Vec<PlannedItem>, Vec<Problem>>, DbErr> {
    let mut problems = Vec::new();
    let (order_items, offer_items): (Vec<&RawItem>, Vec<&RawItem>) =
        items.iter().partition(|i| is_order_item(i));
    let mut parsed = Vec::with_capacity(offer_items.len());
    for item in offer_items {
        if let Some(p) = parse_item(item, &mut problems) {
            parsed.push(p);
        }
    }
    let accounts: HashMap<String, emag_account::Model> = emag_account::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect();
    let offers = load_offers(db, &parsed).await?;
    let mut seen: HashMap<(String, i64), u32> = HashMap::new();
    let mut planned = Vec::with_capacity(parsed.len());
    for item in parsed {
        let problem = |field: &str, reason: String| Problem {
            row: item.row,
            field: field.to_owned(),
            reason,
        };
        let Some(account) = accounts.get(&item.account) else {
            problems.push(problem(
                "account",
                format!("there is no eMAG account named {:?}", item.account),
            ));
            continue;
        };
        let offer = match offers.find(&item) {
            Ok(offer) => offer,
            Err(missing) => {
                problems.push(missing);
                continue;
            }
        };
        if let Some(first) = seen.insert((item.account.clone(), offer.emag_id), item.row) {
            problems.push(problem(
                "id",
                format!("offer {} is already changed in row {first}", offer.emag_id),
            ));
            continue;
        }
        let before = problems.len();
        check_against(
            &item,
            offer,
            account.kind == AccountKind::Fbe,
            &mut problems,
        );
        if problems.len() > before {
            continue;
        }
        planned.push(PlannedItem {
            row: item.row,
            account: item.account.clone(),
            emag_id: offer.emag_id,
            part_number: offer.part_number.clone(),
            previous: previous_values(offer, item.fields.keys()),
            change: item.normalised(),
        });
    }
    planned.extend(plan_orders(db, &order_items, &accounts, &mut problems).await?);
    planned.sort_by_key(|p| p.row);
    problems.sort_by_key(|p| p.row);
    Ok(if problems.is_empty() {
        Ok(planned)
    } else {
        Err(problems)
    })
}

/// The rules that need the offer: eMAG's price bounds and who manages FBE stock.
fn check_against(item: &ParsedItem, offer: &offer::Model, fbe: bool, problems: &mut Vec<Problem>) {
    let mut problem = |field: &str, reason: String| {
        problems.push(Problem {
            row: item.row,
            field: field.to_owned(),
            reason,
        })
    };
    if fbe {
        for field in ["stock", "handling_time"] {
            if item.fields.contains_key(field) {
                problem(
                    field,
                    format!(
                        "account {:?} is fulfilled by eMAG (FBE): eMAG manages its {field}",
                        item.account
                    ),
                );
            }
        }
    }
    let value = |field: &str, stored: Option<Decimal>| item.money(field).or(stored);
    let sale = value("sale_price", offer.sale_price);
    let min = value("min_sale_price", offer.min_sale_price);
    let max = value("max_sale_price", offer.max_sale_price);
    let recommended = value("recommended_price", offer.recommended_price);
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        problem(
            "min_sale_price",
            format!("{min} is above max_sale_price {max}"),
        );
    } else if let Some(sale) = sale {
        if let Some(min) = min.filter(|m| sale < *m) {
            problem(
                "sale_price",
                format!("{sale} is below min_sale_price {min}"),
            );
        }
        if let Some(max) = max.filter(|m| sale > *m) {
            problem(
                "sale_price",
                format!("{sale} is above max_sale_price {max}"),
            );
        }
    }
    if item.fields.contains_key("recommended_price")
        && let (Some(rec), Some(sale)) = (recommended, sale)
        && rec <= sale
    {
        problem(
            "recommended_price",
            format!("{rec} must be above the sale_price {sale}"),
        );
    }
}

fn previous_values<'a>(
    offer: &offer::Model,
    fields: impl Iterator<Item = &'a String>,
) -> Map<String, Value> {
    let money = |d: Option<Decimal>| d.map_or(Value::Null, |d| json!(format!("{:.4}", d)));
    fields
        .filter(|f| FIELDS.contains(&f.as_str()))
        .map(|f| {
            let v = match f.as_str() {
                "sale_price" => money(offer.sale_price),
                "recommended_price" => money(offer.recommended_price),
                "min_sale_price" => money(offer.min_sale_price),
                "max_sale_price" => money(offer.max_sale_price),
                "stock" => offer.general_stock.map_or(Value::Null, |n| json!(n)),
                "status" => offer.status.map_or(Value::Null, |n| json!(n)),
                // Not kept in its own column: read from what eMAG last sent.
                _ => offer
                    .raw
                    .get(f)
                    .and_then(|h| h.get(0))
                    .and_then(|h| h.get("value"))
                    .cloned()
                    .unwrap_or(Value::Null),
            };
            (f.clone(), v)
        })
        .collect()
}

struct Offers {
    by_id: HashMap<(String, i64), offer::Model>,
    by_part_number: HashMap<(String, String), offer::Model>,
}

impl Offers {
    /// The stored offer an item names, or the problem that it names none (or one eMAG
    /// no longer lists).
    fn find(&self, item: &ParsedItem) -> Result<&offer::Model, Problem> {
        let (found, field, what) = match &item.key {
            Key::Id(id) => (
                self.by_id.get(&(item.account.clone(), *id)),
                "id",
                format!("id {id}"),
            ),
            Key::PartNumber(pn) => (
                self.by_part_number.get(&(item.account.clone(), pn.clone())),
                "part_number",
                format!("part_number {pn:?}"),
            ),
        };
        let refused = |reason: String| Problem {
            row: item.row,
            field: field.to_owned(),
            reason,
        };
        match found {
            Some(offer) => match offer.removed_at {
                None => Ok(offer),
                Some(gone) => Err(refused(format!(
                    "offer {} is no longer on eMAG: a full sync found it removed on {}",
                    offer.emag_id,
                    gone.format("%Y-%m-%d %H:%M UTC")
                ))),
            },
            None => Err(refused(format!(
                "account {:?} has no offer with {what} in the database (a new offer appears after a sync of the account's offers)",
                item.account
            ))),
        }
    }
}

async fn load_offers<C: ConnectionTrait>(db: &C, items: &[ParsedItem]) -> Result<Offers, DbErr> {
    let mut ids: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut part_numbers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for item in items {
        match &item.key {
            Key::Id(id) => ids.entry(&item.account).or_default().push(*id),
            Key::PartNumber(pn) => part_numbers
                .entry(&item.account)
                .or_default()
                .push(pn.clone()),
        }
    }
    let mut out = Offers {
        by_id: HashMap::new(),
        by_part_number: HashMap::new(),
    };
    for (account, ids) in ids {
        for batch in ids.chunks(LOOKUP_BATCH) {
            for o in offer::Entity::find()
                .filter(offer::Column::Account.eq(account))
                .filter(offer::Column::EmagId.is_in(batch.iter().copied()))
                .all(db)
                .await?
            {
                out.by_id.insert((o.account.clone(), o.emag_id), o);
            }
        }
    }
    for (account, pns) in part_numbers {
        for batch in pns.chunks(LOOKUP_BATCH) {
            for o in offer::Entity::find()
                .filter(offer::Column::Account.eq(account))
                .filter(offer::Column::PartNumber.is_in(batch.iter().cloned()))
                .all(db)
                .await?
            {
                if let Some(pn) = o.part_number.clone() {
                    out.by_part_number.insert((o.account.clone(), pn), o);
                }
            }
        }
    }
    Ok(out)
}
