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

/// Every template, by name (the unit tests render each).
pub const NAMES: &[&str] = &[
    "base.html",
    "sign_in.html",
    "overview.html",
    "runs.html",
    "run.html",
    "message.html",
    "runs_table.html",
    "progress.html",
    "code.html",
    "two_factor.html",
];

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Printing a misspelt variable is an error (a test renders every page), while an
    // absent optional field (the API's views leave out what is none) is simply false.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("overview.html", include_str!("templates/overview.html")),
        ("runs.html", include_str!("templates/runs.html")),
        ("run.html", include_str!("templates/run.html")),
        ("message.html", include_str!("templates/message.html")),
        ("runs_table.html", include_str!("templates/runs_table.html")),
        ("progress.html", include_str!("templates/progress.html")),
        ("code.html", include_str!("templates/code.html")),
        ("two_factor.html", include_str!("templates/two_factor.html")),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a console template does not parse");
        }
    }
    env.add_filter("num", |state: &State, n: i64| locale_of(state).number(n));
    env.add_filter("when", |state: &State, at: String| {
        parse_time(&at).map_or(at, |t| locale_of(state).datetime(t, tz_of(state)))
    });
    env.add_filter("ago", |state: &State, at: String| {
        parse_time(&at).map_or(at, |t| locale_of(state).ago(t, Utc::now()))
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
mod tests {
    use serde_json::json;

    use super::*;

    fn run() -> serde_json::Value {
        json!({
            "id": "01a238a8-7bac-702a-8cd5-5abcb5c03e04", "kind": "sync", "status": "running",
            "account": "main", "params": {"accounts": ["main"]}, "attempt": 1, "max_attempts": 5,
            "progress": {"total": 1000, "processed": 250, "created": 250, "updated": 0,
                "unchanged": 0, "failed": 0, "pages_done": 3, "emag_requests": 4,
                "rate_limit_waits": 0, "emag_errors": 0, "rate_limited": 0,
                "throughput": 120.5, "eta_seconds": 6.2},
            "checkpoint": null, "error": null, "cancel_requested": false,
            "created_at": "2026-12-02T12:30:00Z", "updated_at": "2026-12-02T12:30:05Z",
            "links": {"self": "/api/v1/runs/x", "events": "/e", "cancel": "/c"}
        })
    }

    fn render(template: &str, data: Value) -> String {
        let frame = Frame {
            locale: Locale::En,
            me: None,
            nav: "",
        };
        let ctx = context! { ..frame.context(), ..data };
        TEMPLATES
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|e| panic!("{template}: {e:#}"))
    }

    /// Every page renders in both languages with what its handler passes (a misspelt
    /// string key fails here), and stays far below 100 KB.
    #[test]
    fn every_page_renders() {
        let account = json!({
            "name": "main", "kind": "main", "needs_password": false,
            "offers": {"total": 1234, "by_status": {"1": 1200, "0": 34}},
            "orders": {"total": 0, "by_status": {}},
            "last_sync": {"offers": {"at": "2026-12-02T12:00:00Z", "age_seconds": 60, "run_id": "x"}},
            "active_runs": [], "recent_runs": [], "runs_24h": {"finished": 0, "succeeded": 0},
            "runs_7d": {"finished": 0, "succeeded": 0}, "emag": {"requests": 0, "errors": 0, "rate_limited": 0},
            "health": {"score": 80, "level": "degraded", "reasons": [{"component": "stale", "penalty": 20, "detail": "orders never synced"}]}
        });
        let pages = [
            (
                "sign_in.html",
                context! { next => "/", name => "", error => Some("sign_in_refused") },
            ),
            (
                "message.html",
                context! { title_key => "not_found", text_key => "not_found_text" },
            ),
            (
                "overview.html",
                context! {
                    accounts => Value::from_serialize(vec![account]),
                    active => Value::from_serialize(vec![run()]),
                    queues => vec![context! { kind => "sync", paused => true, depth => 3, running => 1, oldest_waiting_s => 12.0 }],
                    failures => Value::from_serialize(Vec::<serde_json::Value>::new()),
                    live => "overview",
                },
            ),
            (
                "runs.html",
                context! {
                    runs => Value::from_serialize(vec![run()]), next_cursor => "x", next_url => "/runs?cursor=x",
                    kinds => vec!["sync"], statuses => vec!["running"], accounts => vec!["main"],
                    filter => context! { kind => "sync", status => (), account => (), schedule => "" },
                    errors => context! { schedule => "Not a valid id." }, live => "runs",
                },
            ),
            (
                "run.html",
                context! {
                    r => Value::from_serialize(run()), params_json => "{}", checkpoint_json => (),
                    children => Value::from_serialize(vec![run()]), actions => vec!["cancel"],
                    events => vec![context! { at => "2026-12-02T12:30:00Z", level => "info", message => "page 1" }],
                    live => "run",
                },
            ),
        ];
        for (template, data) in pages {
            let html = render(template, data);
            assert!(html.len() < 100 * 1024, "{template}: {} bytes", html.len());
            assert!(!html.contains("undefined"), "{template}");
        }
    }

    #[test]
    fn script_stays_small() {
        assert!(
            assets::script_bytes() <= 30 * 1024,
            "{} bytes",
            assets::script_bytes()
        );
        assert!(
            assets::style_url().starts_with("/assets/style.")
                && assets::style_url().ends_with(".css")
        );
    }
}
