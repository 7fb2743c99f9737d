//! The schedule form: new (`/schedules/new`) and edit (`/schedules/{id}`), with the cron
//! builder and its preview (the expression it writes and the next five fire times in the
//! chosen zone). `GET /schedules/preview` answers the preview alone, for the script to
//! update it as the fields change; without the script, the form's Preview button does.

use entity::schedule;
use jobs::{
    JobKind,
    schedules::{
        builder::{DAYS, Mode},
        manage,
        spec::{Misfire, Overlap},
        store,
    },
};
use uuid::Uuid;

use super::prelude::*;
use super::{
    schedule_fields::{Errors, Fields, form_field},
    unavailable,
};

/// The zones offered first; any IANA name is accepted.
const ZONES: [&str; 6] = [
    "Europe/Bucharest",
    "Europe/Sofia",
    "Europe/Budapest",
    "Europe/Chisinau",
    "Europe/London",
    "UTC",
];

fn preview_data(fields: &Fields) -> Value {
    let (expr, fires, errors) = fields.preview();
    context! { expression => expr, fires => fires, errors => errors, zone => fields.timezone.trim() }
}

/// Renders the form with `fields` and `errors` (422 when there are any).
fn form_page(frame: &Frame, id: Option<Uuid>, fields: &Fields, errors: &Errors) -> Response {
    let kinds: Vec<&str> = JobKind::ALL
        .iter()
        .filter(|k| jobs::registry::unschedulable(**k).is_none())
        .map(|k| k.as_str())
        .collect();
    let days: Vec<Value> = DAYS
        .iter()
        .map(|(name, _)| {
            context! { name => name, on => fields.rest.contains_key(&format!("day_{name}")) }
        })
        .collect();
    let data = context! {
        id => id.map(|i| i.to_string()),
        action => id.map_or("/schedules/new".to_owned(), |i| format!("/schedules/{i}")),
        v => context! {
            name => fields.name, kind => fields.kind, params => fields.params, mode => fields.mode,
            every => fields.every, minute => fields.minute, time => fields.time, day => fields.day,
            expression => fields.expression, timezone => fields.timezone, overlap => fields.overlap,
            misfire => fields.misfire, jitter_s => fields.jitter_s, notify => fields.notify,
        },
        days => days,
        kinds => kinds,
        modes => Mode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        zones => ZONES,
        overlaps => Overlap::names(),
        misfires => Misfire::names(),
        preview => preview_data(fields),
        errors => errors,
    };
    render::page(
        "schedule_form.html",
        frame,
        data,
        super::form_status(errors),
    )
}

#[handler]
pub async fn new_form(me: Signed) -> Response {
    let frame = Frame::of(&me, "schedules");
    form_page(
        &frame,
        None,
        &Fields::new_for(&me.user.time_zone),
        &Errors::new(),
    )
}

#[handler]
pub async fn edit_form(state: Data<&AppState>, me: Signed, Path(id): Path<String>) -> Response {
    let frame = Frame::of(&me, "schedules");
    match load(&state, &id).await {
        Ok(Some(s)) => form_page(&frame, Some(s.id), &Fields::of(&s), &Errors::new()),
        Ok(None) => super::not_found(&frame),
        Err(e) => unavailable(&frame, "schedule", &e),
    }
}

pub async fn load(state: &AppState, id: &str) -> Result<Option<schedule::Model>, sea_orm::DbErr> {
    match Uuid::parse_str(id) {
        Ok(id) => store::find(&state.ctx.db, id).await,
        Err(_) => Ok(None),
    }
}

/// `POST /schedules/new` and `POST /schedules/{id}`: preview, or check and save.
async fn save(state: &AppState, me: &Signed, id: Option<&str>, fields: Fields) -> Response {
    let frame = Frame::of(me, "schedules");
    let current = match id.map(|id| load(state, id)) {
        None => None,
        Some(found) => match found.await {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                return super::not_found(&frame);
            }
            Err(e) => return unavailable(&frame, "schedule", &e),
        },
    };
    let id = current.as_ref().map(|s| s.id);
    if fields.preview.is_some() {
        return form_page(&frame, id, &fields, &Errors::new());
    }
    let spec = match fields.spec() {
        Ok(spec) => spec,
        Err(errors) => return form_page(&frame, id, &fields, &errors),
    };
    let actor = me.actor();
    let saved = match current {
        None => manage::create(&state.ctx, &spec, &actor).await,
        Some(s) => manage::update(&state.ctx, s, &spec, &actor).await,
    };
    match saved {
        Ok(_) => render::see_other("/schedules"),
        Err(e) if e.name_taken() => {
            let taken = frame.locale.text("name_taken").to_owned();
            form_page(
                &frame,
                id,
                &fields,
                &Errors::from([("name".to_owned(), taken)]),
            )
        }
        Err(store::ScheduleError::Invalid(p)) => {
            let field = form_field(&p.field, &fields.mode);
            let message = if field == p.field {
                p.message
            } else {
                format!("{}: {}", p.field, p.message)
            };
            form_page(&frame, id, &fields, &Errors::from([(field, message)]))
        }
        Err(store::ScheduleError::Db(e)) => unavailable(&frame, "schedule save", &e),
    }
}

#[handler]
pub async fn create(state: Data<&AppState>, change: Change<Fields>) -> Response {
    save(&state, &change.me, None, change.form).await
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    Path(id): Path<String>,
    change: Change<Fields>,
) -> Response {
    save(&state, &change.me, Some(&id), change.form).await
}

/// `GET /schedules/preview?…the form's fields…`: the preview block alone.
#[handler]
pub async fn preview(me: Signed, Query(fields): Query<Fields>) -> Response {
    let frame = Frame::of(&me, "schedules");
    let data = context! { preview => preview_data(&fields) };
    render::page("schedule_preview.html", &frame, data, StatusCode::OK)
}
