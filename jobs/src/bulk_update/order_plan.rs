//! Order items of a bulk update: `account`, `order_id`, `action` (acknowledge, prepared,
//! finalised, cancel), with `invoice_url` (a PDF, for finalised) and `reason` (one of
//! eMAG's cancellation reasons). Each is checked against the stored order and eMAG's
//! status table (docs/emag.md §4.5) before anything is queued.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, Utc};
use entity::{emag_account, order};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::{Map, Value, json};

use super::plan::{Cell, PlannedItem, Problem, RawItem};

/// The columns of an order item.
pub const ORDER_FIELDS: [&str; 5] = ["account", "order_id", "action", "invoice_url", "reason"];

/// eMAG's cancellation reasons run from 1 to this (v4.4.9).
const MAX_REASON: i64 = 43;

/// A finalised order may still be cancelled this long after it was finalised.
const WINDOW: Duration = Duration::hours(48);

/// Whether an item is about an order (it names one, or an action).
pub fn is_order_item(item: &RawItem) -> bool {
    item.get("order_id").is_some() || item.get("action").is_some()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Prepared,
    Finalised,
    Cancel,
}

impl Action {
    /// An action's name as a person writes it (either spelling).
    pub fn from_name(text: &str) -> Option<Action> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "acknowledge" | "acknowledged" => Action::Acknowledge,
            "prepare" | "prepared" => Action::Prepared,
            "finalise" | "finalised" | "finalize" | "finalized" => Action::Finalised,
            "cancel" | "cancelled" | "canceled" => Action::Cancel,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Prepared => "prepared",
            Action::Finalised => "finalised",
            Action::Cancel => "cancel",
        }
    }

    /// The status the order ends in.
    pub fn target(self) -> i64 {
        match self {
            Action::Acknowledge => 2,
            Action::Prepared => 3,
            Action::Finalised => 4,
            Action::Cancel => 0,
        }
    }

    /// Whether eMAG's table lets an order in `stored` take this action; why not, if not.
    fn check(self, stored: &order::Model) -> Result<(), String> {
        let status = stored.status;
        let ok = match self {
            Action::Acknowledge => status == 1,
            Action::Prepared => status == 2,
            Action::Finalised => matches!(status, 2 | 3),
            Action::Cancel => match status {
                2 | 3 => true,
                4 => stored
                    .modified_at
                    .is_some_and(|at| Utc::now() - at < WINDOW),
                _ => false,
            },
        };
        if ok {
            return Ok(());
        }
        let id = stored.emag_id;
        Err(match (self, status) {
            (Action::Cancel, 4) => format!(
                "order {id} was finalised more than 48 hours ago: eMAG no longer allows cancelling it"
            ),
            (Action::Cancel, 1) => format!(
                "order {id} is new (1): acknowledge it first; eMAG cancels only acknowledged orders"
            ),
            (Action::Acknowledge, s) => {
                format!("order {id} cannot be acknowledged: its stored status is {s}, not new (1)")
            }
            (Action::Prepared, s) => format!(
                "order {id} cannot be marked prepared: its stored status is {s}, not in progress (2)"
            ),
            (Action::Finalised, s) => {
                format!("order {id} cannot be finalised: its stored status is {s}, not 2 or 3")
            }
            (Action::Cancel, s) => {
                format!("order {id} cannot be cancelled: its stored status is {s}")
            }
        })
    }
}

/// One order item, read.
struct ParsedOrder {
    row: u32,
    account: String,
    order_id: i64,
    action: Action,
    invoice_url: Option<String>,
    reason: Option<i64>,
}

fn text(cell: Option<&Cell>) -> Option<String> {
    match cell {
        Some(Cell::Text(s) | Cell::Number(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn parse(item: &RawItem, problems: &mut Vec<Problem>) -> Option<ParsedOrder> {
    let before = problems.len();
    let mut problem = |field: &str, reason: String| {
        problems.push(Problem {
            row: item.row,
            field: field.to_owned(),
            reason,
        })
    };
    for (i, (name, _)) in item.fields.iter().enumerate() {
        if !ORDER_FIELDS.contains(&name.as_str()) {
            problem(
                name,
                format!(
                    "is not a field of an order item ({})",
                    ORDER_FIELDS.join(", ")
                ),
            );
        } else if item.fields[..i].iter().any(|(n, _)| n == name) {
            problem(name, "is given twice".into());
        }
    }
    let account = text(item.get("account")).unwrap_or_else(|| {
        problem("account", "is required (the eMAG account's name)".into());
        String::new()
    });
    let order_id = text(item.get("order_id")).and_then(|t| t.parse::<i64>().ok());
    if order_id.is_none_or(|id| id <= 0) {
        problem(
            "order_id",
            "must be a positive whole number (eMAG's order id)".into(),
        );
    }
    let action = text(item.get("action")).and_then(|a| Action::from_name(&a));
    if action.is_none() {
        problem(
            "action",
            "must be acknowledge, prepared, finalised or cancel".into(),
        );
    }
    let invoice_url = text(item.get("invoice_url"));
    match (action, &invoice_url) {
        (Some(Action::Finalised), None) => problem(
            "invoice_url",
            "is required to finalise: the invoice PDF eMAG attaches to the order".into(),
        ),
        (Some(Action::Finalised), Some(url)) => {
            if let Err(reason) = check_invoice_url(url) {
                problem("invoice_url", reason);
            }
        }
        (Some(_), Some(_)) => problem("invoice_url", "is only for finalised".into()),
        _ => {}
    }
    let reason = text(item.get("reason")).map(|r| r.parse::<i64>().ok());
    match (action, reason) {
        (Some(Action::Cancel), None) => problem(
            "reason",
            format!("is required to cancel: one of eMAG's reasons, 1 to {MAX_REASON}"),
        ),
        (Some(Action::Cancel), Some(r)) if !r.is_some_and(|r| (1..=MAX_REASON).contains(&r)) => {
            problem(
                "reason",
                format!("must be one of eMAG's reasons, 1 to {MAX_REASON}"),
            );
        }
        (Some(a), Some(_)) if a != Action::Cancel => problem("reason", "is only for cancel".into()),
        _ => {}
    }
    (problems.len() == before).then(|| ParsedOrder {
        row: item.row,
        account,
        order_id: order_id.unwrap_or_default(),
        action: action.unwrap_or(Action::Acknowledge),
        invoice_url,
        reason: reason.flatten(),
    })
}

/// What is wrong with an order item on its own, before the database is asked.
pub fn item_problems(item: &RawItem) -> Vec<Problem> {
    let mut problems = Vec::new();
    parse(item, &mut problems);
    problems
}

/// eMAG fetches the invoice itself: an absolute http(s) URL of a PDF.
fn check_invoice_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("must be an http or https URL".into());
    }
    if url.len() > 1024 {
        return Err("is longer than 1,024 characters".into());
    }
    if !parsed.path().to_ascii_lowercase().ends_with(".pdf") {
        return Err("must point to a PDF (eMAG takes only PDF invoices)".into());
    }
    Ok(())
}

/// Checks the order items against the stored orders: the planned changes; problems go
/// to `problems`.
pub(super) async fn plan_orders<C: ConnectionTrait>(
    db: &C,
    items: &[&RawItem],
    accounts: &HashMap<String, emag_account::Model>,
    problems: &mut Vec<Problem>,
) -> Result<Vec<PlannedItem>, DbErr> {
    let parsed: Vec<ParsedOrder> = items.iter().filter_map(|i| parse(i, problems)).collect();
    let stored = load(db, &parsed).await?;
    let mut seen: HashMap<(String, i64), u32> = HashMap::new();
    let mut planned = Vec::new();
    for item in parsed {
        let mut problem = |field: &str, reason: String| {
            problems.push(Problem {
                row: item.row,
                field: field.to_owned(),
                reason,
            })
        };
        let Some(account) = accounts.get(&item.account) else {
            problem(
                "account",
                format!("there is no eMAG account named {:?}", item.account),
            );
            continue;
        };
        let Some(order) = stored.get(&(item.account.clone(), item.order_id)) else {
            problem(
                "order_id",
                format!(
                    "account {:?} has no order {} in the database (an order appears after a sync or an eMAG callback)",
                    account.name, item.order_id
                ),
            );
            continue;
        };
        if order.order_type != 3 {
            problem(
                "order_id",
                format!(
                    "order {} is fulfilled by eMAG (FBE): eMAG moves it",
                    item.order_id
                ),
            );
            continue;
        }
        if let Some(first) = seen.insert((item.account.clone(), item.order_id), item.row) {
            problem(
                "order_id",
                format!("order {} is already changed in row {first}", item.order_id),
            );
            continue;
        }
        if let Err(reason) = item.action.check(order) {
            problem("action", reason);
            continue;
        }
        let mut change = Map::new();
        change.insert("action".into(), json!(item.action.as_str()));
        change.insert("order_status".into(), json!(item.action.target()));
        if let Some(url) = &item.invoice_url {
            change.insert("invoice_url".into(), json!(url));
        }
        if let Some(reason) = item.reason {
            change.insert("reason".into(), json!(reason));
        }
        let mut previous = Map::new();
        previous.insert("order_status".into(), json!(order.status));
        planned.push(PlannedItem {
            row: item.row,
            account: item.account,
            emag_id: item.order_id,
            part_number: None,
            change,
            previous,
        });
    }
    Ok(planned)
}

async fn load<C: ConnectionTrait>(
    db: &C,
    items: &[ParsedOrder],
) -> Result<HashMap<(String, i64), order::Model>, DbErr> {
    let mut ids: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for item in items {
        ids.entry(&item.account).or_default().push(item.order_id);
    }
    let mut out = HashMap::new();
    for (account, ids) in ids {
        for batch in ids.chunks(500) {
            for o in order::Entity::find()
                .filter(order::Column::Account.eq(account))
                .filter(order::Column::EmagId.is_in(batch.iter().copied()))
                .all(db)
                .await?
            {
                out.insert((o.account.clone(), o.emag_id), o);
            }
        }
    }
    Ok(out)
}

/// Whether a stored item is about an order.
pub fn is_order_change(change: &Value) -> bool {
    change.get("action").is_some()
}
