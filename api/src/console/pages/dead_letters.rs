//! `GET /dead-letters`: runs that died and wait for an operator, filtered by error
//! category, kind and account; retry or discard one, the selected ones, or every one
//! matching the filter (after a confirmation that states how many).

use std::collections::BTreeMap;

use entity::job_run::{ErrorCategory, JobKind, RunStatus};
use jobs::{
    actions,
    lifecycle::{self, DeadFilter},
    runs::{self, RunFilter},
};
use serde::Deserialize;
use uuid::Uuid;

use super::prelude::*;
use super::{action_failed, nonempty, run_json, unavailable};

const PAGE: u64 = 50;
/// The most runs one "all matching" click takes; the page says so when more match.
const AT_ONCE: u64 = 1000;

#[derive(Deserialize, Default)]
pub struct Filters {
    kind: Option<String>,
    account: Option<String>,
    category: Option<String>,
    /// `dead` (the default: out of attempts) or `failed` (not worth retrying).
    status: Option<String>,
}

impl Filters {
    /// The domain's filter, or the field that does not parse.
    fn parse(&self) -> Result<DeadFilter, &'static str> {
        let kind = match nonempty(&self.kind) {
            None => None,
            Some(k) => Some(JobKind::parse(k).ok_or("kind")?),
        };
        let error_category = match nonempty(&self.category) {
            None => None,
            Some(c) => Some(ErrorCategory::parse(c).ok_or("category")?),
        };
        let status = match nonempty(&self.status) {
            None | Some("dead") => None,
            Some("failed") => Some(RunStatus::Failed),
            Some(_) => return Err("status"),
        };
        Ok(DeadFilter {
            kind,
            account: nonempty(&self.account).map(str::to_owned),
            error_category,
            status,
        })
    }

    /// The filter as a query string (ending in `&` when not empty).
    fn query(&self) -> String {
        [
            ("kind", &self.kind),
            ("account", &self.account),
            ("category", &self.category),
            ("status", &self.status),
        ]
        .into_iter()
        .filter_map(|(name, v)| nonempty(v).map(|v| format!("{name}={}&", url_escape(v))))
        .collect()
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(flatten)]
    filters: Filters,
    cursor: Option<String>,
    /// What the last action did, for the notice at the top: `retried` or `discarded`.
    // Text, not numbers: a flattened struct reads every field as text.
    done: Option<String>,
    n: Option<String>,
    locked: Option<String>,
}

fn count_of(s: &Option<String>) -> u64 {
    nonempty(s).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed, Query(q): Query<ListQuery>) -> Response {
    let frame = Frame::of(&me, "dead_letters");
    let mut errors = BTreeMap::new();
    let filter = q.filters.parse().unwrap_or_else(|field| {
        errors.insert(field, frame.locale.text("invalid_choice").to_owned());
        DeadFilter::default()
    });
    let db = &state.ctx.db;
    let listing = RunFilter {
        kind: filter.kind,
        status: Some(filter.status.unwrap_or(RunStatus::Dead)),
        account: filter.account.clone(),
        error_category: filter.error_category,
        discarded: Some(false),
        ..RunFilter::default()
    };
    let before = nonempty(&q.cursor).and_then(|c| Uuid::parse_str(c).ok());
    let loaded = async {
        let rows = runs::list(db, &listing, before, PAGE + 1).await?;
        let count = lifecycle::count_dead(db, &filter).await?;
        let accounts = jobs::accounts::list(db).await?;
        Ok::<_, sea_orm::DbErr>((rows, count, accounts))
    };
    let (rows, count, accounts) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return unavailable(&frame, "dead letters", &e),
    };
    let more = rows.len() as u64 > PAGE;
    let page: Vec<serde_json::Value> = rows.iter().take(PAGE as usize).map(run_json).collect();
    let query = q.filters.query();
    let next_url =
        more.then(|| format!("/dead-letters?{query}cursor={}", rows[PAGE as usize - 1].id));
    let notice = match q.done.as_deref() {
        Some(done @ ("retried" | "discarded")) => Some(context! {
            key => format!("done_{done}"),
            n => count_of(&q.n),
            locked => count_of(&q.locked),
        }),
        _ => None,
    };
    let data = context! {
        runs => Value::from_serialize(&page),
        next_url => next_url,
        count => count,
        at_once => AT_ONCE,
        kinds => JobKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        statuses => ["dead", "failed"],
        categories => ErrorCategory::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        accounts => accounts.into_iter().map(|a| a.name).collect::<Vec<_>>(),
        filter => context! {
            kind => nonempty(&q.filters.kind),
            account => nonempty(&q.filters.account),
            category => nonempty(&q.filters.category),
            status => filter.status.map_or("dead", |s| s.as_str()),
        },
        back => format!("/dead-letters?{query}"),
        errors => errors,
        notice => notice,
    };
    render::page("dead_letters.html", &frame, data, StatusCode::OK)
}

/// Where a change goes back to: the list under the same filter, with what was done.
fn back(filters: &Filters, done: &str, n: usize, locked: usize) -> Response {
    render::see_other(&format!(
        "/dead-letters?{}done={done}&n={n}&locked={locked}",
        filters.query()
    ))
}

#[derive(Deserialize)]
pub struct Selected {
    #[serde(flatten)]
    filters: Filters,
    /// `retry` or `discard` (the ticked rows), or `retry:ID` / `discard:ID` (one row).
    #[serde(rename = "do")]
    action: String,
    /// The ticked rows arrive as `sel_ID=on`.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

/// `POST /dead-letters/selected`: retry or discard one run or the ticked ones.
#[handler]
pub async fn selected(state: Data<&AppState>, change: Change<Selected>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "dead_letters");
    let (action, one) = match form.action.split_once(':') {
        Some((action, id)) => (action, Some(id)),
        None => (form.action.as_str(), None),
    };
    let ids: Vec<Uuid> = match one {
        Some(id) => Uuid::parse_str(id).into_iter().collect(),
        None => form
            .rest
            .keys()
            .filter_map(|k| k.strip_prefix("sel_"))
            .filter_map(|id| Uuid::parse_str(id).ok())
            .take(AT_ONCE as usize)
            .collect(),
    };
    let actor = me.actor();
    let (mut done, mut locked) = (0, 0);
    for id in ids {
        let outcome = match action {
            "retry" => actions::retry(&state.ctx, id, &actor).await.map(drop),
            "discard" => actions::discard(&state.ctx, id, &actor).await.map(drop),
            _ => return action_failed(&frame, actions::ActionError::NotFound),
        };
        match outcome {
            Ok(()) => done += 1,
            // Taken care of meanwhile (retried, discarded) or held by an active sync.
            Err(actions::ActionError::Conflict(_) | actions::ActionError::NotFound) => locked += 1,
            Err(e) => return action_failed(&frame, e),
        }
    }
    let word = if action == "retry" {
        "retried"
    } else {
        "discarded"
    };
    back(&form.filters, word, done, locked)
}

#[derive(Deserialize)]
pub struct AllMatching {
    #[serde(flatten)]
    filters: Filters,
    #[serde(rename = "do")]
    action: String,
    /// The count the confirmation showed: no more than that many are taken, so runs
    /// that died after the page was read wait for the next click.
    expected: String,
}

/// `POST /dead-letters/all`: retry or discard every run matching the filter.
#[handler]
pub async fn all(state: Data<&AppState>, change: Change<AllMatching>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "dead_letters");
    let Ok(filter) = form.filters.parse() else {
        return render::message(
            &frame,
            "error",
            "invalid_choice",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let limit = form
        .expected
        .trim()
        .parse::<u64>()
        .unwrap_or(0)
        .min(AT_ONCE);
    let actor = me.actor();
    match form.action.as_str() {
        "retry" => match actions::retry_many(&state.ctx, &filter, limit, &actor).await {
            Ok(done) => back(
                &form.filters,
                "retried",
                done.retried.len(),
                done.locked.len(),
            ),
            Err(e) => action_failed(&frame, e),
        },
        "discard" => match actions::discard_many(&state.ctx, &filter, limit, &actor).await {
            Ok(done) => back(&form.filters, "discarded", done.len(), 0),
            Err(e) => action_failed(&frame, e),
        },
        _ => action_failed(&frame, actions::ActionError::NotFound),
    }
}
