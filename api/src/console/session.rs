//! Who is using the console: the session cookie, its server-side row, and the checks a
//! change must pass. Every change (any method but GET/HEAD) is checked by
//! [`check_change`] in the request gate, before a byte of its body is read: the request
//! must come from the console's own origin (the `Origin` header), and, but for signing
//! in, from a signed-in user, an admin unless the route is one of the user's own
//! (preferences, sign-out). The form's CSRF token is checked by [`Change`] as the body
//! is read.

use entity::{
    console_session::{self, Stage},
    user::{self, Role},
};
use jobs::users::sessions;
use poem::{
    FromRequest, Request, RequestBody, Response,
    http::{StatusCode, header},
    web::Form,
};
use serde::de::DeserializeOwned;

use super::{i18n::Locale, render};
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "mf_session";

/// A signed-in user and their session.
#[derive(Clone, Debug)]
pub struct Signed {
    pub user: user::Model,
    pub session: console_session::Model,
}

impl Signed {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// How the audit log names this user.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.name)
    }

    pub fn locale(&self) -> Locale {
        Locale::from(self.user.locale)
    }
}

/// The session cookie's value, if the request has one.
pub fn token(req: &Request) -> Option<&str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for a new session: script cannot read it, no other site's request carries
/// it, and under TLS it never travels in clear.
pub fn set_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The request's session at any stage, and its user.
pub async fn current(state: &AppState, req: &Request) -> Result<Option<Signed>, sea_orm::DbErr> {
    let Some(token) = token(req) else {
        return Ok(None);
    };
    let found = sessions::find(
        &state.ctx.db,
        token,
        sessions::Lifetime::of(&state.ctx.config),
    )
    .await?;
    Ok(found.map(|(session, user)| Signed { user, session }))
}

/// Whether the request's `Origin` names this server (`Host`). Browsers send `Origin` with
/// every POST; a request without one is not from the console's forms or script.
pub fn same_origin(req: &Request) -> bool {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let (Some(origin), Some(host)) = (header(header::ORIGIN), header(header::HOST)) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority == host)
}

/// Console routes a viewer may change: their own session and settings.
fn own(path: &str) -> bool {
    path.starts_with("/me/") || path == "/sign-out"
}

/// Routes a session that must enrol a second factor may use.
fn enrolment(path: &str) -> bool {
    path == "/me/two-factor" || path == "/sign-out"
}

/// Routes that change something before anyone is signed in.
fn before_sign_in(path: &str) -> bool {
    path.starts_with("/sign-in")
}

fn refused(status: StatusCode, text: &'static str) -> Response {
    render::refusal(status, text)
}

/// The gate's check of a console change; on success the signed-in user is attached to
/// the request for the handler.
pub async fn check_change(state: &AppState, req: &mut Request) -> Result<(), Response> {
    if !same_origin(req) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "forbidden: cross-origin request",
        ));
    }
    let path = req.uri().path().to_owned();
    if before_sign_in(&path) {
        return Ok(());
    }
    let me = match current(state, req).await {
        Ok(Some(me)) if me.session.stage == Stage::Full => me,
        // One who must enrol may do only that, or leave.
        Ok(Some(me)) if me.session.stage == Stage::Enrol && enrolment(&path) => me,
        Ok(_) => return Err(refused(StatusCode::FORBIDDEN, "forbidden: not signed in")),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "try again shortly",
            ));
        }
    };
    if !me.is_admin() && !own(&path) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "forbidden: viewers change nothing",
        ));
    }
    req.set_data(me);
    Ok(())
}

/// Every form that changes something carries this beside its own fields.
#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// A change from a signed-in user: the gate checked origin, session and role; this checks
/// the form's CSRF token and reads its fields (a form's fields are text).
pub struct Change<T> {
    pub me: Signed,
    pub form: T,
}

impl<'a, T: DeserializeOwned + Send> FromRequest<'a> for Change<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let forbidden = || poem::Error::from_response(refused(StatusCode::FORBIDDEN, "forbidden"));
        let me = req.data::<Signed>().cloned().ok_or_else(forbidden)?;
        let Form(with) = Form::<WithCsrf<T>>::from_request(req, body)
            .await
            .map_err(|_| forbidden())?;
        if !sessions::csrf_matches(&me.session, &with.csrf) {
            return Err(poem::Error::from_response(refused(
                StatusCode::FORBIDDEN,
                "forbidden: the form's security token is missing or old; reload the page",
            )));
        }
        Ok(Change {
            me,
            form: with.form,
        })
    }
}

/// A page for a signed-in user (fully signed in); anyone else is sent to sign in.
impl<'a> FromRequest<'a> for Signed {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        if let Some(me) = req.data::<Signed>() {
            return Ok(me.clone());
        }
        let state = req
            .data::<AppState>()
            .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
        match current(state, req).await {
            Ok(Some(me)) if me.session.stage == Stage::Full => Ok(me),
            Ok(Some(me)) if me.session.stage == Stage::Enrol => Err(poem::Error::from_response(
                render::see_other("/me/two-factor"),
            )),
            Ok(Some(_)) => Err(poem::Error::from_response(render::see_other(&format!(
                "/sign-in/code?next={}",
                percent_encode(req.uri().path())
            )))),
            Ok(None) => Err(poem::Error::from_response(render::see_other(&format!(
                "/sign-in?next={}",
                percent_encode(req.uri().path())
            )))),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(poem::Error::from_status(StatusCode::SERVICE_UNAVAILABLE))
            }
        }
    }
}

fn percent_encode(path: &str) -> String {
    url_escape(path)
}

/// Escapes everything but unreserved characters and `/`.
pub fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
