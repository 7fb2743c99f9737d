//! `GET /accounts`: the eMAG logins magflow syncs (never a password); check one against
//! eMAG and see the result, or delete one with everything synced from it.

use jobs::accounts;

use super::prelude::*;
use super::{Empty, not_found, unavailable};

/// The page, with the outcome of a check when one was just made.
async fn page(state: &AppState, frame: &Frame<'_>, checked: Option<Value>) -> Response {
    let ctx = &state.ctx;
    let rows = match accounts::list(&ctx.db).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(frame, "accounts", &e),
    };
    let sealer = ctx.sealer.as_ref();
    let rows: Vec<Value> = rows
        .iter()
        .map(|a| {
            context! {
                name => a.name,
                kind => a.kind.as_str(),
                platform => a.platform.map(|p| p.as_str()),
                base_url => a.base_url,
                username => a.username,
                needs_password => accounts::needs_password(sealer, a),
            }
        })
        .collect();
    let data = context! { accounts => rows, checked => checked, can_seal => sealer.is_some() };
    render::page("accounts.html", frame, data, StatusCode::OK)
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed) -> Response {
    page(&state, &Frame::of(&me, "accounts"), None).await
}

/// `POST /accounts/{name}/{check|delete}`.
#[handler]
pub async fn act(
    state: Data<&AppState>,
    Path((name, action)): Path<(String, String)>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "accounts");
    let ctx = &state.ctx;
    match action.as_str() {
        "check" => {
            let account = match accounts::find(&ctx.db, &name).await {
                Ok(Some(a)) => a,
                Ok(None) => return not_found(&frame),
                Err(e) => return unavailable(&frame, "account", &e),
            };
            match jobs::actions::accounts::check(ctx, &account).await {
                Ok(outcome) => {
                    let checked = context! {
                        name => name,
                        status => outcome.status.as_str(),
                        message => outcome.message,
                        latency_ms => outcome.latency_ms,
                    };
                    page(&state, &frame, Some(checked)).await
                }
                Err(e) => unavailable(&frame, "account check", &e),
            }
        }
        "delete" => match jobs::actions::accounts::delete(ctx, &name, &me.actor()).await {
            Ok(true) => render::see_other("/accounts"),
            Ok(false) => not_found(&frame),
            Err(e) => unavailable(&frame, "account delete", &e),
        },
        _ => not_found(&frame),
    }
}
