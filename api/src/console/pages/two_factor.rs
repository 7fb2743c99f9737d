//! The second factor: `GET/POST /sign-in/code` after a right password, and
//! `GET/POST /me/two-factor`, enrolment (QR code, then a first code, then the recovery
//! codes, shown once). A session moves to the next stage under a new id each time.

use entity::console_session::Stage;
use jobs::{
    audit,
    users::{self, two_factor},
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
        render::{self, Frame},
        session::{self, Change, Signed},
    },
    state::AppState,
};

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// The request's session if it is at `stage`.
async fn at_stage(state: &AppState, req: &Request, stage: Stage) -> Option<Signed> {
    match session::current(state, req).await {
        Ok(Some(me)) if me.session.stage == stage => Some(me),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            None
        }
    }
}

/// Moves the request's session on to `stage` under a new cookie; where to go next.
pub async fn advance(
    state: &AppState,
    req: &Request,
    me: &Signed,
    stage: Stage,
    to: &str,
) -> Response {
    let Some(token) = session::token(req) else {
        return render::see_other("/sign-in");
    };
    let db = &state.ctx.db;
    let started = match users::sessions::advance(db, token, &me.session, stage).await {
        Ok(started) => started,
        Err(e) => {
            tracing::error!(error = %e, "could not move a session on");
            return render::see_other("/sign-in");
        }
    };
    if stage == Stage::Full {
        if let Err(e) = users::sign_in::succeeded(db, &me.user).await {
            tracing::warn!(error = %e, "could not clear sign-in failures");
        }
        let details = serde_json::json!({ "address": me.session.address, "second_factor": true });
        if let Err(e) = audit::record(
            db,
            &me.actor(),
            audit::Action::SessionSignIn,
            &format!("user:{}", me.user.id),
            Some(details),
        )
        .await
        {
            tracing::warn!(error = %e, "could not audit a sign-in");
        }
    }
    let mut resp = render::see_other(to);
    if let Ok(v) = session::set_cookie(&started.token, state.ctx.config.tls_cert.is_some()).parse()
    {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn code_page(me: &Signed, next: &str, error: Option<&str>, status: StatusCode) -> Response {
    let frame = Frame {
        locale: me.locale(),
        me: None,
        nav: "",
    };
    render::page(
        "code.html",
        &frame,
        context! { next => next, error => error },
        status,
    )
}

#[handler]
pub async fn code_form(req: &Request, state: Data<&AppState>, Query(q): Query<Next>) -> Response {
    match at_stage(&state, req, Stage::SecondFactor).await {
        Some(me) => code_page(&me, local_path(q.next.as_deref()), None, StatusCode::OK),
        None => render::see_other("/sign-in"),
    }
}

#[handler]
pub async fn code_submit(
    req: &Request,
    state: Data<&AppState>,
    Form(f): Form<CodeForm>,
) -> Response {
    let Some(me) = at_stage(&state, req, Stage::SecondFactor).await else {
        return render::see_other("/sign-in");
    };
    let next = local_path(f.next.as_deref()).to_owned();
    let ctx = &state.ctx;
    if me.user.locked_until.is_some_and(|t| t > chrono::Utc::now()) {
        return code_page(
            &me,
            &next,
            Some("sign_in_locked"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match two_factor::verify(&ctx.db, ctx.sealer.as_ref(), &me.user, &f.code).await {
        Ok(true) => advance(&state, req, &me, Stage::Full, &next).await,
        Ok(false) => {
            if let Err(e) = users::sign_in::failed(&ctx.db, &me.user).await {
                tracing::warn!(error = %e, "could not count a failure");
            }
            let details = serde_json::json!({ "reason": "wrong second-factor code" });
            if let Err(e) = audit::record(
                &ctx.db,
                &me.actor(),
                audit::Action::SessionSignInFailed,
                &format!("user:{}", me.user.id),
                Some(details),
            )
            .await
            {
                tracing::warn!(error = %e, "could not audit a failed sign-in");
            }
            code_page(&me, &next, Some("code_refused"), StatusCode::UNAUTHORIZED)
        }
        Err(e) => {
            tracing::error!(error = %e, "second factor check failed");
            code_page(
                &me,
                &next,
                Some("code_unreadable"),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

/// Enrolment needs a session that is signed in, or that must enrol before anything else.
async fn enrolling(state: &AppState, req: &Request) -> Option<Signed> {
    match at_stage(state, req, Stage::Enrol).await {
        Some(me) => Some(me),
        None => at_stage(state, req, Stage::Full).await,
    }
}

fn qr_data_url(url: &str) -> Option<String> {
    use base64::Engine;
    let svg = qrcode::QrCode::new(url.as_bytes())
        .ok()?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

fn enrol_page(me: &Signed, data: minijinja::Value, status: StatusCode) -> Response {
    let frame = Frame::of(me, "");
    render::page("two_factor.html", &frame, data, status)
}

#[handler]
pub async fn enrol_form(req: &Request, state: Data<&AppState>) -> Response {
    let Some(me) = enrolling(&state, req).await else {
        return render::see_other("/sign-in");
    };
    if me.user.totp_enabled_at.is_some() {
        let left = two_factor::recovery_codes_left(&me.user);
        return enrol_page(
            &me,
            context! { enrolled => true, left => left },
            StatusCode::OK,
        );
    }
    let ctx = &state.ctx;
    match two_factor::enrolment(&ctx.db, ctx.sealer.as_ref(), &me.user).await {
        Ok(e) => enrol_page(
            &me,
            context! { enrolled => false, qr => qr_data_url(&e.url), secret => e.secret, required => me.session.stage == Stage::Enrol },
            StatusCode::OK,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "enrolment unavailable");
            enrol_page(
                &me,
                context! { enrolled => false, unavailable => true },
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    code: String,
}

#[handler]
pub async fn enrol_submit(
    req: &Request,
    state: Data<&AppState>,
    change: Change<EnrolForm>,
) -> Response {
    let Change { me, form } = change;
    let ctx = &state.ctx;
    match two_factor::confirm(&ctx.db, ctx.sealer.as_ref(), &me.user, &form.code).await {
        Ok(Some(codes)) => {
            let details = serde_json::json!({ "second_factor": "totp" });
            if let Err(e) = audit::record(
                &ctx.db,
                &me.actor(),
                audit::Action::UserUpdate,
                &format!("user:{}", me.user.id),
                Some(details),
            )
            .await
            {
                tracing::warn!(error = %e, "could not audit an enrolment");
            }
            // The codes are shown on this answer only; the session moves on with it.
            let mut page = enrol_page(
                &me,
                context! { enrolled => true, codes => codes },
                StatusCode::OK,
            );
            if me.session.stage == Stage::Enrol {
                let moved = advance(&state, req, &me, Stage::Full, "/").await;
                if let Some(cookie) = moved.headers().get(header::SET_COOKIE) {
                    page.headers_mut()
                        .insert(header::SET_COOKIE, cookie.clone());
                }
            }
            page
        }
        Ok(None) => {
            let enrolment = two_factor::enrolment(&ctx.db, ctx.sealer.as_ref(), &me.user)
                .await
                .ok();
            let data = context! {
                enrolled => false,
                qr => enrolment.as_ref().and_then(|e| qr_data_url(&e.url)),
                secret => enrolment.map(|e| e.secret),
                required => me.session.stage == Stage::Enrol,
                error => "code_refused",
            };
            enrol_page(&me, data, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => {
            tracing::warn!(error = %e, "enrolment failed");
            enrol_page(
                &me,
                context! { enrolled => false, unavailable => true },
                StatusCode::CONFLICT,
            )
        }
    }
}
