//! Pages: the minijinja templates (compiled into the binary), the parts every page shares
//! (language, theme, user, CSRF token, asset URLs, navigation) and the headers every
//! page is sent with.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, State, Value, context};
use poem::{Response, http::StatusCode};

use super::{assets, i18n::Locale, session::Signed};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(environment);

/// `(name.html, source)` for each template name, the sources compiled into the binary.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$((concat!($name, ".html"), include_str!(concat!("templates/", $name, ".html")))),*]
    };
}

/// Every template (`templates/*.html`).
const SOURCES: &[(&str, &str)] = templates![
    "base",
    "sign_in",
    "code",
    "two_factor",
    "password",
    "message",
    "fields",
    "progress",
    "runs_table",
    "queues_table",
    "overview",
    "runs",
    "run",
    "dead_letters",
    "queues",
    "schedules",
    "schedule_form",
    "schedule_preview",
    "accounts",
    "account_form",
    "bulk",
    "exports",
    "analytics",
    "offers",
    "orders",
    "order",
    "notifications",
    "admin_tabs",
    "admin_users",
    "admin_keys",
    "admin_audit",
];

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Printing a misspelt variable is an error (a test renders every page), while an
    // absent optional field (the API's views leave out what is none) is simply false.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for &(name, source) in SOURCES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a console template does not parse");
        }
    }
    env.add_filter("num", |state: &State, n: i64| locale_of(state).number(n));
    env.add_filter("when", |state: &State, at: String| {
        parse_time(&at).map_or(at, |t| locale_of(state).datetime(t, tz_of(state)))
    });
    // An instant in a named zone (a schedule's), not the user's.
    env.add_filter("when_in", |state: &State, at: String, zone: String| {
        let tz = zone.parse().unwrap_or_else(|_| tz_of(state));
        parse_time(&at).map_or(at, |t| locale_of(state).datetime(t, tz))
    });
    env.add_filter("ago", |state: &State, at: String| {
        parse_time(&at).map_or(at, |t| locale_of(state).ago(t, Utc::now()))
    });
    env.add_filter(
        "money",
        |state: &State, amount: String, currency: String| {
            locale_of(state).money(&amount, &currency)
        },
    );
    // A message from the domain (English, as the API answers) in the page's language.
    env.add_filter("msg", |state: &State, message: String| {
        super::messages::translate(locale_of(state), &message).into_owned()
    });
    env.add_filter("pct", |ratio: f64| format!("{:.1}%", ratio * 100.0));
    env.add_filter("dur", |state: &State, secs: f64| {
        locale_of(state).duration(secs)
    });
    env
}

fn locale_of(state: &State) -> Locale {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Locale::parse))
        .unwrap_or_default()
}

fn tz_of(state: &State) -> Tz {
    state
        .lookup("tz")
        .and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(chrono_tz::Europe::Bucharest)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What every page shows around its content.
pub struct Frame<'a> {
    pub locale: Locale,
    pub me: Option<&'a Signed>,
    /// The navigation entry to mark as current.
    pub nav: &'static str,
}

impl<'a> Frame<'a> {
    pub fn of(me: &'a Signed, nav: &'static str) -> Frame<'a> {
        Frame {
            locale: me.locale(),
            me: Some(me),
            nav,
        }
    }

    fn context(&self) -> Value {
        let me = self.me.map(|m| {
            context! {
                name => m.user.name,
                role => m.user.role.as_str(),
                admin => m.is_admin(),
            }
        });
        context! {
            t => Value::from_serialize(self.locale.strings()),
            lang => self.locale.code(),
            theme => self.me.map_or("system", |m| m.user.theme.as_str()),
            tz => self.me.map_or(jobs::users::DEFAULT_TIME_ZONE, |m| m.user.time_zone.as_str()),
            me => me,
            csrf => self.me.map(|m| m.session.csrf_token.clone()),
            nav => self.nav,
            style_url => assets::style_url(),
            script_url => assets::script_url(),
        }
    }
}

/// Renders `template` with the page's own `data`.
pub fn page(template: &str, frame: &Frame, data: Value, status: StatusCode) -> Response {
    let ctx = context! { ..frame.context(), ..data };
    match TEMPLATES.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(template, error = %e, "a console page failed to render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>magflow</title><p>Internal error; see the server log.</p>"
                    .to_owned(),
            )
        }
    }
}

/// A short page with a title and a sentence (errors, confirmations).
pub fn message(frame: &Frame, title_key: &str, text_key: &str, status: StatusCode) -> Response {
    page(
        "message.html",
        frame,
        context! { title_key => title_key, text_key => text_key },
        status,
    )
}

fn html_response(status: StatusCode, html: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        .header("x-frame-options", "DENY")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .body(html)
}

/// `303 See Other` to `to` (after a form, and to the sign-in page).
pub fn see_other(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("location", to)
        .header("cache-control", "no-store")
        .finish()
}

/// A bare refusal page, for answers given before a page's frame is known.
pub fn refusal(status: StatusCode, text: &str) -> Response {
    let text = minijinja::HtmlEscape(text).to_string();
    html_response(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><title>magflow</title><main><h1>{}</h1><p>{text}</p></main></html>",
            status.as_u16()
        ),
    )
}

#[cfg(test)]
#[path = "render_fixtures.rs"]
mod fixtures;
#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
