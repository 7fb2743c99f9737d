//! `GET /exports`: start an export (resource, format, filters) and the latest exports
//! with their files; `POST /exports` starts one, checked as `POST /api/v1/runs` checks it.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone};
use entity::job_run::JobKind;
use jobs::{
    params::RawParams,
    runs::{self, RunFilter},
    submit::SubmitError,
};
use serde::Deserialize;
use serde_json::{Map, json};

use super::{form_status, prelude::*, run_json, unavailable};

#[derive(Deserialize, Default)]
pub struct Fields {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// A ticked box sends `on`; an unticked one sends nothing.
    include_removed: Option<String>,
    /// Column names, separated by commas or spaces; empty for all.
    #[serde(default)]
    columns: String,
}

type Errors = BTreeMap<String, String>;

impl Fields {
    /// The export's parameters; a day is read in the user's time zone.
    fn params(&self, tz: chrono_tz::Tz, errors: &mut Errors) -> serde_json::Value {
        let mut p = Map::new();
        p.insert("resource".into(), json!(self.resource));
        p.insert("format".into(), json!(self.format));
        if !self.account.trim().is_empty() {
            p.insert("account".into(), json!(self.account.trim()));
        }
        let status = self.status.trim();
        if !status.is_empty() {
            // Offers and orders number their statuses; runs name them.
            let value = status
                .parse::<i64>()
                .map_or_else(|_| json!(status), |n| json!(n));
            p.insert("status".into(), value);
        }
        for (name, day) in [("from", &self.from), ("to", &self.to)] {
            let day = day.trim();
            if day.is_empty() {
                continue;
            }
            let start = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest());
            match start {
                Some(t) => {
                    p.insert(
                        name.into(),
                        json!(t.with_timezone(&chrono::Utc).to_rfc3339()),
                    );
                }
                None => {
                    errors.insert(name.into(), "a day as YYYY-MM-DD".into());
                }
            }
        }
        if self.include_removed.is_some() && self.resource == "offers" {
            p.insert("include_removed".into(), json!(true));
        }
        let columns: Vec<&str> = self
            .columns
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .collect();
        if !columns.is_empty() {
            p.insert("columns".into(), json!(columns));
        }
        serde_json::Value::Object(p)
    }
}

async fn page(state: &AppState, frame: &Frame<'_>, fields: &Fields, errors: &Errors) -> Response {
    let db = &state.ctx.db;
    let filter = RunFilter {
        kind: Some(JobKind::Export),
        ..RunFilter::default()
    };
    let loaded = async {
        let exports = runs::list(db, &filter, None, 20).await?;
        let accounts = jobs::accounts::list(db).await?;
        Ok::<_, sea_orm::DbErr>((exports, accounts))
    };
    let (exports, accounts) = match loaded.await {
        Ok(found) => found,
        Err(e) => return unavailable(frame, "exports", &e),
    };
    let data = context! {
        exports => Value::from_serialize(exports.iter().map(run_json).collect::<Vec<_>>()),
        accounts => accounts.into_iter().map(|a| a.name).collect::<Vec<_>>(),
        resources => jobs::export::Resource::ALL.map(|r| r.as_str()),
        column_names => {
            use jobs::export::{Resource, columns};
            Resource::ALL
                .iter()
                .map(|r| (r.as_str(), columns(*r)))
                .collect::<std::collections::BTreeMap<_, _>>()
        },
        formats => ["csv", "xlsx"],
        v => context! {
            resource => fields.resource, format => fields.format, account => fields.account,
            status => fields.status, from => fields.from, to => fields.to,
            include_removed => fields.include_removed.is_some(),
            columns => fields.columns,
        },
        errors => errors,
        live => "runs",
    };
    render::page("exports.html", frame, data, form_status(errors))
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed) -> Response {
    let fields = Fields {
        resource: "offers".into(),
        format: "csv".into(),
        ..Fields::default()
    };
    page(&state, &Frame::of(&me, "exports"), &fields, &Errors::new()).await
}

#[handler]
pub async fn create(state: Data<&AppState>, change: Change<Fields>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "exports");
    let tz = me
        .user
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Bucharest);
    let mut errors = Errors::new();
    let params = form.params(tz, &mut errors);
    if !errors.is_empty() {
        return page(&state, &frame, &form, &errors).await;
    }
    let raw = RawParams::Value(&params);
    match jobs::actions::submit(&state.ctx, JobKind::Export, raw, None, &me.actor()).await {
        Ok(_) => render::see_other("/exports"),
        Err(SubmitError::Invalid(p)) => {
            // `params.columns[2]` is the columns field's.
            let field = p.field.strip_prefix("params.").unwrap_or(&p.field);
            let field = field.split('[').next().unwrap_or(field).to_owned();
            let field = if field == "params" {
                "resource".to_owned()
            } else {
                field
            };
            errors.insert(field, p.message);
            page(&state, &frame, &form, &errors).await
        }
        Err(e) => unavailable(&frame, "export", &e),
    }
}
