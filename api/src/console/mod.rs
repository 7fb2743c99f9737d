//! The console: server-rendered pages at `/` for the people who run magflow, in the API
//! process and on its port. Templates, stylesheet and script are compiled into the
//! binary; no front-end build. It is a client of the same `jobs` functions as the API
//! (`jobs::actions`, `jobs::registry::submit`, the status report) with its own answers:
//! pages and redirects rather than JSON.
//!
//! - [`session`]: the session cookie, the checks every change passes (origin, role,
//!   CSRF token).
//! - [`render`]: templates and the headers of every page; [`i18n`]: Romanian and English.
//! - [`assets`]: the stylesheet and script, under content-hashed URLs.
//! - [`pages`]: one file per area.

pub mod assets;
mod charts;
pub mod i18n;
pub mod messages;
pub mod pages;
pub mod render;
pub mod session;

use poem::{Route, get, post};

/// Adds the console's routes to `route` (beside the API's).
pub fn mount(route: Route) -> Route {
    use pages::{
        account_form, accounts, admin, analytics, bulk, data, dead_letters, exports, live,
        notifications, overview, queues, runs, schedule_form, schedules,
    };
    let route = route
        .at("/", get(overview::page))
        .at("/sync", post(overview::sync))
        .at("/runs", get(runs::list))
        .at("/runs/:id", get(runs::detail))
        .at("/runs/:id/result", get(runs::result))
        .at("/runs/:id/:action", post(runs::act))
        .at("/dead-letters", get(dead_letters::list))
        .at("/dead-letters/selected", post(dead_letters::selected))
        .at("/dead-letters/all", post(dead_letters::all))
        .at("/queues", get(queues::list))
        .at("/queues/:name/:action", post(queues::act))
        .at("/accounts", get(accounts::list))
        .at(
            "/accounts/new",
            get(account_form::new_form).post(account_form::create),
        )
        .at(
            "/accounts/:name/edit",
            get(account_form::edit_form).post(account_form::update),
        )
        .at("/accounts/:name/:action", post(accounts::act))
        .at("/bulk", get(bulk::index).post(bulk::receive))
        .at("/bulk/:upload", get(bulk::dry_run))
        .at("/bulk/:upload/send", post(bulk::send))
        .at("/exports", get(exports::list).post(exports::create))
        .at("/analytics", get(analytics::page))
        .at("/analytics/report", post(analytics::report))
        .at("/offers", get(data::offers))
        .at("/orders", get(data::orders))
        .at("/orders/:account/:id", get(data::order))
        .at(
            "/notifications",
            get(notifications::list).post(notifications::subscribe),
        )
        .at("/notifications/unsuppress", post(notifications::unsuppress))
        .at(
            "/notifications/:id/delete",
            post(notifications::unsubscribe),
        )
        .at(
            "/admin/users",
            get(admin::users_list).post(admin::users_create),
        )
        .at("/admin/users/:id/:action", post(admin::users_act))
        .at(
            "/admin/keys",
            get(admin::keys_list).post(admin::keys_create),
        )
        .at("/admin/keys/:id/:action", post(admin::keys_act))
        .at("/admin/audit", get(admin::audit_log))
        .at("/schedules", get(schedules::list))
        .at(
            "/schedules/new",
            get(schedule_form::new_form).post(schedule_form::create),
        )
        .at("/schedules/preview", get(schedule_form::preview))
        .at(
            "/schedules/:id",
            get(schedule_form::edit_form).post(schedule_form::update),
        )
        .at("/schedules/:id/:action", post(schedules::act))
        .at("/live", get(live::live))
        .at("/assets/:name", get(assets::serve));
    mount_own(route)
}

/// Signing in and out, and one's own settings.
fn mount_own(route: Route) -> Route {
    use pages::{me, sign_in, two_factor};
    route
        .at("/sign-in", get(sign_in::page).post(sign_in::submit))
        .at(
            "/sign-in/code",
            get(two_factor::code_form).post(two_factor::code_submit),
        )
        .at(
            "/me/two-factor",
            get(two_factor::enrol_form).post(two_factor::enrol_submit),
        )
        .at("/sign-out", post(me::sign_out))
        .at("/me/preferences", post(me::preferences))
        .at(
            "/me/password",
            get(me::password_form).post(me::password_change),
        )
        .at("/me/sign-out-everywhere", post(me::sign_out_everywhere))
}
