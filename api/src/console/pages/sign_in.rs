//! `GET/POST /sign-in`: a name and a password. Failures are throttled per address (the
//! API's throttle, shared with keys) and per user (`jobs::users::sign_in`), and audited.

use entity::console_session::Stage;
use jobs::{
    audit,
    users::{self, sign_in::SignInError},
};
use minijinja::context;
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Query},
};
use serde::Deserialize;

use super::local_path;
use crate::{
    console::{
        i18n::Locale,
        render::{self, Frame},
        session,
    },
    state::AppState,
};

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
    /// Set after one's own password change, which ended every session.
    changed: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn locale(req: &Request) -> Locale {
    Locale::from_accept(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn form(
    req: &Request,
    next: &str,
    name: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let data = context! { next => next, name => name, error => error };
    sign_in_page(req, data, status)
}

fn sign_in_page(req: &Request, data: minijinja::Value, status: StatusCode) -> Response {
    let frame = Frame {
        locale: locale(req),
        me: None,
        nav: "",
    };
    render::page("sign_in.html", &frame, data, status)
}

#[handler]
pub async fn page(req: &Request, state: Data<&AppState>, Query(q): Query<Next>) -> Response {
    let next = local_path(q.next.as_deref());
    if let Ok(Some(me)) = session::current(&state, req).await
        && me.session.stage == Stage::Full
    {
        return render::see_other(next);
    }
    let notice = q.changed.is_some().then_some("password_changed_sign_in");
    let data = context! { next => next, name => "", error => (), notice => notice };
    sign_in_page(req, data, StatusCode::OK)
}

#[handler]
pub async fn submit(req: &Request, state: Data<&AppState>, Form(f): Form<SignInForm>) -> Response {
    let next = local_path(f.next.as_deref()).to_owned();
    let client = req
        .remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip);
    if state.auth_throttle.blocked(client).is_some() {
        return form(
            req,
            &next,
            &f.name,
            Some("sign_in_throttled"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let db = &state.ctx.db;
    let name: String = f.name.trim().chars().take(64).collect();
    let user = match users::sign_in::check_password(db, &name, &f.password).await {
        Ok(user) => user,
        Err(SignInError::Db(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            return form(
                req,
                &next,
                &name,
                Some("try_again"),
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
        Err(e) => {
            state.auth_throttle.failed(client);
            let locked = matches!(e, SignInError::Locked(_));
            audit_failure(db, &name, client, locked).await;
            let (key, status) = if locked {
                ("sign_in_locked", StatusCode::TOO_MANY_REQUESTS)
            } else {
                ("sign_in_refused", StatusCode::UNAUTHORIZED)
            };
            return form(req, &next, &name, Some(key), status);
        }
    };
    let ctx = &state.ctx;
    let stage = stage_after_password(&state, &user);
    let to = match stage {
        Stage::SecondFactor => format!("/sign-in/code?next={}", session::url_escape(&next)),
        Stage::Enrol => "/me/two-factor".to_owned(),
        Stage::Full => next.clone(),
    };
    match start(&state, req, &user, stage).await {
        Ok(token) => {
            let mut resp = render::see_other(&to);
            if let Ok(v) = session::set_cookie(&token, ctx.config.tls_cert.is_some()).parse() {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start a session");
            form(
                req,
                &next,
                &name,
                Some("try_again"),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

/// Where a right password leads: a password is the whole sign-in only for users without
/// a second factor, and for admins only where none is required (or none could be kept:
/// no sealing key).
fn stage_after_password(state: &AppState, user: &entity::user::Model) -> Stage {
    let ctx = &state.ctx;
    if user.totp_enabled_at.is_some() {
        Stage::SecondFactor
    } else if user.role == entity::user::Role::Admin
        && ctx.config.console_require_2fa
        && ctx.sealer.is_some()
    {
        Stage::Enrol
    } else {
        Stage::Full
    }
}

async fn audit_failure(
    db: &sea_orm::DatabaseConnection,
    name: &str,
    client: Option<std::net::IpAddr>,
    locked: bool,
) {
    let details = serde_json::json!({
        "address": client.map(|a| a.to_string()),
        "reason": if locked { "locked" } else { "wrong name or password" },
    });
    let who = format!("user:{name}");
    if let Err(e) = audit::record(
        db,
        &who,
        audit::Action::SessionSignInFailed,
        &who,
        Some(details),
    )
    .await
    {
        tracing::warn!(error = %e, "could not audit a failed sign-in");
    }
}

/// Starts the session at `stage`; a complete sign-in is audited (a partial one is when
/// its second factor completes it). The cookie's value.
async fn start(
    state: &AppState,
    req: &Request,
    user: &entity::user::Model,
    stage: Stage,
) -> Result<String, sea_orm::DbErr> {
    let db = &state.ctx.db;
    let address = req
        .remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string());
    let started = users::sessions::start(db, user.id, stage, address.clone()).await?;
    if stage != Stage::Full {
        return Ok(started.token);
    }
    users::sign_in::succeeded(db, user).await?;
    audit::record(
        db,
        &format!("user:{}", user.name),
        audit::Action::SessionSignIn,
        &format!("user:{}", user.id),
        Some(serde_json::json!({ "address": address })),
    )
    .await?;
    Ok(started.token)
}
