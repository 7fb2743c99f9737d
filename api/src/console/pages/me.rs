//! The signed-in user's own changes: language, theme, time zone, password, signing out.

use entity::user::{Locale, Theme};
use std::collections::BTreeMap;

use jobs::{
    actions::users::{UserActionError, change_own_password},
    audit,
    users::{self, UserError},
};
use minijinja::context;
use poem::{Request, Response, handler, http::header, web::Data};
use serde::Deserialize;

use super::{Empty, form_status, local_path, unavailable};
use crate::{
    console::{
        render::{self, Frame},
        session::{self, Change, Signed},
    },
    state::AppState,
};

#[derive(Deserialize)]
pub struct PrefsForm {
    locale: Option<String>,
    theme: Option<String>,
    time_zone: Option<String>,
    back: Option<String>,
}

#[handler]
pub async fn preferences(state: Data<&AppState>, change: Change<PrefsForm>) -> Response {
    let Change { me, form } = change;
    let prefs = users::Preferences {
        locale: form.locale.as_deref().and_then(Locale::parse),
        theme: form.theme.as_deref().and_then(Theme::parse),
        time_zone: form.time_zone.as_deref().and_then(|z| z.parse().ok()),
    };
    if let Err(e) = users::set_preferences(&state.ctx.db, me.user.id, &prefs).await {
        tracing::error!(error = %e, "could not store preferences");
    }
    render::see_other(local_path(form.back.as_deref()))
}

fn signed_out(state: &AppState) -> Response {
    let mut resp = render::see_other("/sign-in");
    if let Ok(v) = session::clear_cookie(state.ctx.config.tls_cert.is_some()).parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[handler]
pub async fn sign_out(req: &Request, state: Data<&AppState>, change: Change<Empty>) -> Response {
    let db = &state.ctx.db;
    if let Some(token) = session::token(req)
        && let Err(e) = users::sessions::end(db, token).await
    {
        tracing::error!(error = %e, "could not end a session");
    }
    let me = change.me;
    if let Err(e) = audit::record(
        db,
        &me.actor(),
        audit::Action::SessionSignOut,
        &format!("user:{}", me.user.id),
        None,
    )
    .await
    {
        tracing::warn!(error = %e, "could not audit a sign-out");
    }
    signed_out(&state)
}

#[handler]
pub async fn sign_out_everywhere(state: Data<&AppState>, change: Change<Empty>) -> Response {
    let db = &state.ctx.db;
    let me = change.me;
    let ended = users::sessions::end_all(db, me.user.id)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not end sessions");
            0
        });
    let details = serde_json::json!({ "sessions": ended });
    if let Err(e) = audit::record(
        db,
        &me.actor(),
        audit::Action::SessionSignOutAll,
        &format!("user:{}", me.user.id),
        Some(details),
    )
    .await
    {
        tracing::warn!(error = %e, "could not audit a sign-out");
    }
    signed_out(&state)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

fn password_page(me: &Signed, errors: &BTreeMap<&str, &str>) -> Response {
    let frame = Frame::of(me, "");
    let data = context! { errors => errors };
    render::page("password.html", &frame, data, form_status(errors))
}

/// `GET /me/password`.
#[handler]
pub async fn password_form(me: Signed) -> Response {
    password_page(&me, &BTreeMap::new())
}

/// `POST /me/password`: with the current password; every session ends, this one too,
/// and the sign-in page says so.
#[handler]
pub async fn password_change(state: Data<&AppState>, change: Change<PasswordForm>) -> Response {
    let Change { me, form } = change;
    let refused = |field, code| password_page(&me, &BTreeMap::from([(field, code)]));
    match change_own_password(&state.ctx, &me.user, &form.current, &form.new).await {
        Ok(()) => {
            let mut resp = signed_out(&state);
            if let Ok(to) = "/sign-in?changed=1".parse() {
                resp.headers_mut().insert(header::LOCATION, to);
            }
            resp
        }
        Err(UserActionError::WrongPassword) => refused("current", "password_wrong"),
        Err(UserActionError::Locked) => refused("current", "password_locked"),
        Err(UserActionError::User(UserError::Password(p))) => refused("new", p.code()),
        Err(e) => unavailable(&Frame::of(&me, ""), "password change", &e),
    }
}
