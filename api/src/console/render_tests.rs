//! Every template renders with what its handler passes, in both languages.

use serde_json::json;

use super::{
    fixtures::{analytics, data_pages},
    *,
};

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

fn preview() -> Value {
    context! {
        expression => "30 8 * * 1,4", zone => "Europe/Bucharest",
        fires => vec!["2026-12-07T06:30:00+00:00"], errors => context! {},
    }
}

fn schedule_form() -> Value {
    let days = vec![context! { name => "mon", on => true }];
    context! {
        id => "x", action => "/schedules/x", days => days, kinds => vec!["sync"],
        v => context! {
            name => "n", kind => "sync", params => "{}", mode => "weekly", every => "15",
            minute => "0", time => "08:30", day => "1", expression => "", timezone => "UTC",
            overlap => "skip", misfire => "skip", jitter_s => "0", notify => "",
        },
        modes => vec!["weekly", "raw"], zones => vec!["UTC"], overlaps => vec!["skip"],
        misfires => vec!["skip"], preview => preview(),
        errors => context! { time => "a time as HH:MM", days => "choose at least one day" },
    }
}

fn queues() -> Vec<Value> {
    vec![
        context! { kind => "sync", paused => true, depth => 3, scheduled => 1, running => 1, oldest_waiting_s => 12.0 },
    ]
}

/// `template` in `locale`, seen by an admin (every button) or by a viewer.
fn render(template: &str, data: &Value, locale: Locale, admin: bool) -> String {
    let frame = Frame {
        locale,
        me: None,
        nav: "",
    };
    let me =
        context! { name => "ana", role => if admin { "admin" } else { "viewer" }, admin => admin };
    // The first of each key wins: the user stands in for a session.
    let page = context! { ..data.clone(), ..frame.context() };
    let ctx = context! { me => me, csrf => "token", ..page };
    TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .unwrap_or_else(|e| panic!("{template} ({locale:?}, admin {admin}): {e:#}"))
}

#[test]
fn every_template_parses_and_none_is_forgotten() {
    for (name, _) in SOURCES {
        TEMPLATES.get_template(name).expect(name);
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/console/templates");
    for file in std::fs::read_dir(dir).expect("templates") {
        let name = file.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            SOURCES.iter().any(|(n, _)| *n == name),
            "{name} is not in SOURCES"
        );
    }
}

/// The sign-in, account and run pages with what their handlers pass.
fn run_pages() -> Vec<(&'static str, Value)> {
    let account = json!({
        "name": "main", "kind": "main", "needs_password": false,
        "offers": {"total": 1234, "by_status": {"1": 1200, "0": 34}},
        "orders": {"total": 0, "by_status": {}},
        "last_sync": {"offers": {"at": "2026-12-02T12:00:00Z", "age_seconds": 60, "run_id": "x"}},
        "active_runs": [], "recent_runs": [], "runs_24h": {"finished": 0, "succeeded": 0},
        "runs_7d": {"finished": 0, "succeeded": 0}, "emag": {"requests": 0, "errors": 0, "rate_limited": 0},
        "health": {"score": 80, "level": "degraded", "reasons": [{"component": "stale", "penalty": 20, "detail": "orders never synced"}]}
    });
    vec![
        (
            "sign_in.html",
            context! { next => "/", name => "", error => Some("sign_in_refused") },
        ),
        (
            "sign_in.html",
            context! { next => "/", name => "", error => (), notice => "password_changed_sign_in" },
        ),
        (
            "message.html",
            context! { title_key => "not_found", text_key => "not_found_text" },
        ),
        (
            "message.html",
            context! {
                title_key => "error", text_key => "action_conflict",
                detail => "the last admin cannot be deleted",
            },
        ),
        (
            "password.html",
            context! { errors => context! { current => "password_wrong", new => "password_common" } },
        ),
        (
            "overview.html",
            context! {
                accounts => Value::from_serialize(vec![account]),
                active => Value::from_serialize(vec![run()]),
                queues => queues(),
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
                attempts => attempts(),
                live => "run",
            },
        ),
        (
            "code.html",
            context! { next => "/", error => Some("code_refused") },
        ),
        (
            "two_factor.html",
            context! {
                required => true, enrolled => false, qr => "data:image/svg+xml;base64,AA", secret => "ABC",
                codes => (), left => 10, error => Some("code_refused"),
            },
        ),
        (
            "two_factor.html",
            context! { enrolled => true, codes => vec!["abcd-efgh"], left => 9 },
        ),
    ]
}

/// The operator's pages: queues, dead letters, schedules.
fn operation_pages() -> Vec<(&'static str, Value)> {
    vec![
        (
            "queues.html",
            context! { queues => queues(), live => "queues" },
        ),
        (
            "dead_letters.html",
            context! {
                runs => Value::from_serialize(vec![run()]), next_url => "/dead-letters?cursor=x",
                count => 1200, at_once => 1000, kinds => vec!["sync"], statuses => vec!["dead", "failed"],
                categories => vec!["transient"], accounts => vec!["main"],
                filter => context! { kind => (), account => (), category => "transient", status => "dead" },
                back => "/dead-letters?", errors => context! { kind => "Not one of the choices." },
                notice => context! { key => "done_retried", n => 3, locked => 1 },
            },
        ),
        (
            "schedules.html",
            context! { schedules => vec![context! {
                id => "x", name => "nightly", cron => "0 6 * * *", timezone => "Europe/Bucharest",
                kind => "sync", paused => true, next_fire_at => "2026-12-03T04:00:00+00:00",
                last_fire_at => (), last_run_id => "0193", last_run_status => "succeeded",
            }] },
        ),
        ("schedule_form.html", schedule_form()),
    ]
}

/// The admin's pages: users, API keys, the audit log.
fn admin_pages() -> Vec<(&'static str, Value)> {
    let shown = context! { name => "ci", secret => "mf_abc_def" };
    vec![
        (
            "admin_users.html",
            context! {
                rows => vec![context! { id => "u", name => "ana", role => "admin", two_factor => true, last_sign_in_at => (), me => false }],
                shown => shown.clone(), roles => vec!["viewer", "admin"], errors => context! { name => "taken" },
            },
        ),
        (
            "admin_keys.html",
            context! {
                rows => vec![context! {
                    id => "k", name => "ci", role => "admin", prefix => "abc", working => true,
                    last_used_at => (), expires_at => "2026-12-03T10:00:00Z", revoked_at => (),
                }],
                shown => shown, roles => vec!["viewer", "admin"], errors => context! {},
            },
        ),
        (
            "admin_audit.html",
            context! {
                entries => vec![context! { at => "2026-12-03T10:00:00Z", actor => "user:ana", action => "run.retry", target => "run:x", details => "{}" }],
                next_url => "/admin/audit?cursor=1", errors => context! {}, actions => vec!["run.retry"],
                filter => context! { actor => "", action => "run." },
            },
        ),
    ]
}

/// The pages that send work out: bulk updates, exports, notifications, accounts.
fn outward_pages() -> Vec<(&'static str, Value)> {
    vec![
        (
            "notifications.html",
            context! {
                subscriptions => vec![
                    context! { id => "s1", recipients => vec!["a@example.com"], kinds => "all", on => "both", locale => "ro" },
                    context! { id => "s2", recipients => vec!["b@example.com"], kinds => vec!["export"], on => "failure", locale => "en" },
                ],
                suppressed => vec![context! { address => "gone@example.com", reason => "550", at => "2026-12-02T12:00:00Z" }],
                kinds => vec!["sync", "export"], ons => vec!["both"], locales => vec!["ro"],
                v => context! { recipients => "x", on => "both", locale => "ro", ticked => vec!["export"] },
                errors => context! { recipients => "\"x\" is not an e-mail address" },
            },
        ),
        (
            "exports.html",
            context! {
                exports => Value::from_serialize(vec![run()]), accounts => vec!["main"],
                resources => vec!["offers"], formats => vec!["csv"], live => "runs",
                column_names => context! { offers => vec!["account", "id"] },
                v => context! { resource => "offers", format => "csv", account => "", status => "9", from => "", to => "", columns => "id, colour" },
                errors => context! { status => "must be 0, 1 or 2", columns => "\"colour\" is not a column of offers" },
            },
        ),
        (
            "bulk.html",
            context! {
                file => "prices.csv", problem_count => 1, shown => 300, items => 3, upload => "u1",
                problems => vec![context! { row => 5, field => "sale_price", reason => "must be above 0" }],
                diff => vec![context! {
                    row => 2, account => "main", id => 17, part_number => "PN-17", field => "stock", from => "3", to => "5",
                }],
                recent => Value::from_serialize(vec![run()]),
            },
        ),
        (
            "accounts.html",
            context! {
                accounts => vec![context! {
                    name => "main", kind => "main", platform => (), base_url => "http://127.0.0.1:1/api-3",
                    username => "u", needs_password => true,
                }],
                checked => context! { name => "main", status => "bad_credentials", message => "refused", latency_ms => 12 },
                can_seal => false,
            },
        ),
        (
            "account_form.html",
            context! {
                editing => true, action => "/accounts/main/edit", kinds => vec!["main", "fbe"],
                platforms => vec!["ro", "url"],
                v => context! { name => "main", kind => "main", platform => "url", base_url => "http://x", username => "u" },
                errors => context! { password => "is required when base_url, platform or username changes" },
            },
        ),
        ("schedule_preview.html", context! { preview => preview() }),
        ("analytics.html", analytics()),
    ]
}

/// Every page renders in both languages with what its handler passes (a misspelt
/// string key fails here), and stays far below 100 KB.
#[test]
fn every_page_renders() {
    let pages = [
        run_pages(),
        operation_pages(),
        outward_pages(),
        admin_pages(),
        data_pages(),
    ]
    .concat();
    // Every page (a template that extends the frame) is among them.
    for (name, source) in SOURCES {
        if source.contains("{% extends") {
            assert!(
                pages.iter().any(|(n, _)| n == name),
                "{name} is not rendered here"
            );
        }
    }
    for (template, data) in pages {
        for locale in [Locale::Ro, Locale::En] {
            for admin in [true, false] {
                let html = render(template, &data, locale, admin);
                assert!(html.len() < 100 * 1024, "{template}: {} bytes", html.len());
                assert!(!html.contains("undefined"), "{template}");
                // Admins get the buttons, viewers do not.
                if template == "dead_letters.html" {
                    assert_eq!(html.contains("data-action=\"retry-selected\""), admin);
                }
            }
        }
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
        assets::style_url().starts_with("/assets/style.") && assets::style_url().ends_with(".css")
    );
}

/// One attempt per way an attempt can end, and one still running.
fn attempts() -> Vec<Value> {
    let ended = entity::run_event::AttemptOutcome::ALL.iter().map(|o| {
        context! {
            number => 1, started_at => "2026-12-02T12:30:00Z", ended_at => "2026-12-02T12:31:00Z",
            outcome => o.as_str(), error_category => "transient", message => "page 3: eMAG 503",
        }
    });
    let running = context! {
        number => 2, started_at => "2026-12-02T12:32:00Z", ended_at => (), outcome => (),
        error_category => (), message => "attempt 2 of 3 started",
    };
    ended.chain([running]).collect()
}
