//! Bulk price and stock updates from a CSV file: `GET /bulk` the upload form and the
//! latest bulk runs; `POST /bulk` keeps the file for this session and shows its dry run
//! at `GET /bulk/{upload}` (every bad line by row and field, or the diff from → to);
//! `POST /bulk/{upload}/send` checks it again, queues it and follows the run.

use entity::console_upload;
use entity::job_run::JobKind;
use jobs::{
    bulk_update::{self, PlannedItem, Problem, RawItem},
    runs::{self, RunFilter},
    submit::SubmitError,
    users::uploads,
};
use poem::web::Multipart;
use uuid::Uuid;

use super::{Empty, not_found, prelude::*, run_json, unavailable};

/// The most diff lines one page shows (the page stays small); the count says the rest.
const SHOWN: usize = 300;

/// What the page shows under the upload form.
enum Outcome {
    Nothing,
    Problems(Vec<Problem>),
    Diff(Uuid, Vec<PlannedItem>),
}

async fn page(
    state: &AppState,
    frame: &Frame<'_>,
    file: Option<&str>,
    outcome: Outcome,
) -> Response {
    let filter = RunFilter {
        kind: Some(JobKind::BulkUpdate),
        ..RunFilter::default()
    };
    let recent = match runs::list(&state.ctx.db, &filter, None, 10).await {
        Ok(rows) => rows.iter().map(run_json).collect::<Vec<_>>(),
        Err(e) => return unavailable(frame, "bulk runs", &e),
    };
    let (problems, diff, upload, items) = match &outcome {
        Outcome::Nothing => (vec![], vec![], None, 0),
        Outcome::Problems(p) => (p.iter().take(SHOWN).map(problem).collect(), vec![], None, 0),
        Outcome::Diff(id, planned) => {
            let currencies: std::collections::HashMap<String, &str> =
                match jobs::accounts::list(&state.ctx.db).await {
                    Ok(rows) => rows
                        .into_iter()
                        .map(|a| (a.name, jobs::emag::platform_currency(a.platform)))
                        .collect(),
                    Err(e) => return unavailable(frame, "accounts", &e),
                };
            let currency = |account: &str| currencies.get(account).copied().unwrap_or("RON");
            let lines = planned
                .iter()
                .flat_map(|p| diff_lines(p, currency(&p.account)))
                .take(SHOWN)
                .collect();
            (vec![], lines, Some(id.to_string()), planned.len())
        }
    };
    let problem_count = match &outcome {
        Outcome::Problems(p) => p.len(),
        _ => 0,
    };
    let data = context! {
        file => file,
        problems => problems,
        problem_count => problem_count,
        diff => diff,
        items => items,
        upload => upload,
        shown => SHOWN,
        recent => Value::from_serialize(&recent),
    };
    let status = if problem_count > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render::page("bulk.html", frame, data, status)
}

fn problem(p: &Problem) -> Value {
    context! { row => p.row, field => p.field, reason => p.reason }
}

fn diff_lines(item: &PlannedItem, currency: &str) -> Vec<Value> {
    item.diff()
        .into_iter()
        .map(|d| {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::Null => "–".to_owned(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            context! {
                row => item.row, account => item.account, id => item.emag_id,
                part_number => item.part_number, field => d.field,
                currency => d.field.ends_with("price").then_some(currency),
                from => text(&d.from), to => text(&d.to),
            }
        })
        .collect()
}

#[handler]
pub async fn index(state: Data<&AppState>, me: Signed) -> Response {
    page(&state, &Frame::of(&me, "bulk"), None, Outcome::Nothing).await
}

/// `POST /bulk` (multipart: `csrf` and `file`): keeps the file for this session, then
/// shows its dry run.
#[handler]
pub async fn receive(state: Data<&AppState>, me: Signed, mut form: Multipart) -> Response {
    let frame = Frame::of(&me, "bulk");
    let refused = || {
        render::refusal(
            StatusCode::FORBIDDEN,
            "forbidden: the form's security token is missing or old; reload the page",
        )
    };
    let (mut csrf, mut file) = (None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.ok(),
                Some("file") => {
                    let name = field.file_name().unwrap_or("upload.csv").to_owned();
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes)),
                        Err(_) => {
                            return render::message(
                                &frame,
                                "error",
                                "upload_failed",
                                StatusCode::BAD_REQUEST,
                            );
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                return render::message(&frame, "error", "upload_failed", StatusCode::BAD_REQUEST);
            }
        }
    }
    // The gate checked origin, session and role before the body; the token is in it.
    if !csrf.is_some_and(|t| jobs::users::sessions::csrf_matches(&me.session, &t)) {
        return refused();
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return render::message(
            &frame,
            "error",
            "upload_empty",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    match uploads::stage(&state.ctx.db, &me.session.id, &name, bytes).await {
        Ok(id) => render::see_other(&format!("/bulk/{id}")),
        Err(e) => unavailable(&frame, "upload", &e),
    }
}

/// Upload `id` of this session and its items, or the page to answer with: 404 for an
/// upload that is not there, the problems of a file that does not read.
async fn read(
    state: &AppState,
    me: &Signed,
    frame: &Frame<'_>,
    id: &str,
) -> Result<(console_upload::Model, Vec<RawItem>), Response> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found(frame));
    };
    let upload = match uploads::find(&state.ctx.db, &me.session.id, id).await {
        Ok(Some(u)) => u,
        Ok(None) => return Err(not_found(frame)),
        Err(e) => return Err(unavailable(frame, "upload", &e)),
    };
    match bulk_update::input::from_csv(&upload.content) {
        Ok(items) => Ok((upload, items)),
        Err(problems) => {
            let name = Some(upload.file_name.as_str());
            Err(page(state, frame, name, Outcome::Problems(problems)).await)
        }
    }
}

/// Problems that are the input's (shown by row and field), or the error page.
fn problems_of(e: SubmitError) -> Result<Vec<Problem>, SubmitError> {
    match e {
        SubmitError::Items(problems) => Ok(problems),
        SubmitError::Invalid(p) => Ok(vec![Problem {
            row: 0,
            field: p.field,
            reason: p.message,
        }]),
        e => Err(e),
    }
}

#[handler]
pub async fn dry_run(state: Data<&AppState>, me: Signed, Path(id): Path<String>) -> Response {
    let frame = Frame::of(&me, "bulk");
    let (upload, items) = match read(&state, &me, &frame, &id).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let name = Some(upload.file_name.as_str());
    match bulk_update::preview(&state.ctx.db, &items)
        .await
        .map_err(problems_of)
    {
        Ok(planned) => page(&state, &frame, name, Outcome::Diff(upload.id, planned)).await,
        Err(Ok(problems)) => page(&state, &frame, name, Outcome::Problems(problems)).await,
        Err(Err(e)) => unavailable(&frame, "bulk check", &e),
    }
}

/// `POST /bulk/{upload}/send`: checked again (the offers may have changed since the dry
/// run), stored with its run and queued; the browser follows the run.
#[handler]
pub async fn send(
    state: Data<&AppState>,
    Path(id): Path<String>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "bulk");
    let (upload, items) = match read(&state, &me, &frame, &id).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let name = Some(upload.file_name.as_str());
    let accepted =
        jobs::actions::bulk::accept(&state.ctx, &items, "console", None, &me.actor()).await;
    match accepted.map_err(problems_of) {
        Ok(run) => {
            if let Err(e) = uploads::remove(&state.ctx.db, &me.session.id, upload.id).await {
                tracing::warn!(error = %e, "could not remove a sent upload; it goes with its session");
            }
            render::see_other(&format!("/runs/{}", run.id))
        }
        Err(Ok(problems)) => page(&state, &frame, name, Outcome::Problems(problems)).await,
        Err(Err(e)) => unavailable(&frame, "bulk send", &e),
    }
}
