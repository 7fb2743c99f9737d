//! Admin pages (admins only, like the API's): `GET /admin/users` (create, and reset a
//! password, with the password shown once; change a role; reset a second factor;
//! delete), `GET /admin/keys` (create and rotate with the key shown once,
//! revoke), `GET /admin/audit` (the audit log, filtered, in cursor pages).

use std::collections::BTreeMap;

use chrono::Duration;
use jobs::{
    actions::{
        ActionError, admin,
        users::{self as users_admin, UserActionError},
    },
    api_keys::{self, NewKey, RevokeError, Role},
    audit::{self, AuditFilter},
    users::{self, UserError},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Empty, action_failed, form_status, nonempty, not_found, prelude::*, refused, unavailable,
};

/// A rotated key's old value keeps working this long, as the API's default.
const ROTATE_GRACE_S: i64 = 3600;
const AUDIT_PAGE: u64 = 100;

type Errors = BTreeMap<String, String>;

fn forbidden(frame: &Frame) -> Option<Response> {
    (!frame.me.is_some_and(|m| m.is_admin()))
        .then(|| render::message(frame, "forbidden", "admins_only", StatusCode::FORBIDDEN))
}

#[derive(Deserialize, Default)]
pub struct NameRole {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

impl NameRole {
    fn role(&self, errors: &mut Errors) -> Role {
        Role::parse(&self.role).unwrap_or_else(|| {
            errors.insert("role".into(), "choose admin or viewer".into());
            Role::Viewer
        })
    }
}

/// An admin list (users or keys) as `template`'s `rows`: admins only (`load` runs only
/// for them); `shown` is a password or key to show once, `errors` the create form's.
async fn list_page<T>(
    frame: &Frame<'_>,
    template: &str,
    load: impl Future<Output = Result<Vec<T>, sea_orm::DbErr>>,
    row: impl Fn(&T) -> Value,
    shown: Option<Value>,
    errors: &Errors,
) -> Response {
    if let Some(no) = forbidden(frame) {
        return no;
    }
    let rows: Vec<Value> = match load.await {
        Ok(rows) => rows.iter().map(row).collect(),
        Err(e) => return unavailable(frame, template, &e),
    };
    let data =
        context! { rows => rows, shown => shown, roles => ["viewer", "admin"], errors => errors };
    render::page(template, frame, data, form_status(errors))
}

/// The users page, with a password to show once after a creation or a reset.
async fn users_page(
    state: &AppState,
    frame: &Frame<'_>,
    shown: Option<Value>,
    errors: &Errors,
) -> Response {
    let row = |u: &entity::user::Model| {
        context! {
            id => u.id.to_string(), name => u.name, role => u.role.as_str(),
            two_factor => u.totp_enabled_at.is_some(),
            last_sign_in_at => u.last_sign_in_at.map(|t| t.to_rfc3339()),
            me => frame.me.is_some_and(|m| m.user.id == u.id),
        }
    };
    let load = users::list(&state.ctx.db);
    list_page(frame, "admin_users.html", load, row, shown, errors).await
}

#[handler]
pub async fn users_list(state: Data<&AppState>, me: Signed) -> Response {
    users_page(&state, &Frame::of(&me, "admin"), None, &Errors::new()).await
}

#[handler]
pub async fn users_create(state: Data<&AppState>, change: Change<NameRole>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "admin");
    let mut errors = Errors::new();
    let role = form.role(&mut errors);
    if !errors.is_empty() {
        return users_page(&state, &frame, None, &errors).await;
    }
    match users_admin::create_user(&state.ctx, form.name.trim(), role, &me.actor()).await {
        Ok((password, user)) => {
            let shown = context! { name => user.name, secret => password };
            users_page(&state, &frame, Some(shown), &errors).await
        }
        Err(e @ (UserError::BadName | UserError::NameTaken(_))) => {
            errors.insert(
                "name".into(),
                e.to_string().trim_start_matches("name: ").to_owned(),
            );
            users_page(&state, &frame, None, &errors).await
        }
        Err(e) => unavailable(&frame, "user create", &e),
    }
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    role: Option<String>,
}

/// `POST /admin/users/{id}/{role|password|two-factor|delete}`.
#[handler]
pub async fn users_act(
    state: Data<&AppState>,
    Path((id, action)): Path<(String, String)>,
    change: Change<RoleForm>,
) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "admin");
    if let Some(no) = forbidden(&frame) {
        return no;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found(&frame);
    };
    let (ctx, actor, my_id) = (&state.ctx, me.actor(), me.user.id);
    let done = match action.as_str() {
        "role" => {
            let Some(role) = form.role.as_deref().and_then(Role::parse) else {
                return refused(&frame, "choose admin or viewer");
            };
            users_admin::change_role(ctx, id, role, my_id, &actor)
                .await
                .map(|_| None)
        }
        "password" => users_admin::reset_password(ctx, id, my_id, &actor)
            .await
            .map(|(secret, user)| Some(context! { name => user.name, secret => secret })),
        "two-factor" => users_admin::reset_two_factor(ctx, id, my_id, &actor)
            .await
            .map(|_| None),
        "delete" => users_admin::delete_user(ctx, id, my_id, &actor)
            .await
            .map(|()| None),
        _ => return not_found(&frame),
    };
    match done {
        Ok(None) => render::see_other("/admin/users"),
        Ok(shown) => users_page(&state, &frame, shown, &Errors::new()).await,
        Err(UserActionError::NotFound) => not_found(&frame),
        Err(UserActionError::Refused(why)) => refused(&frame, why),
        Err(e) => unavailable(&frame, "user change", &e),
    }
}

/// The keys page, with a key to show once after a creation or rotation.
async fn keys_page(
    state: &AppState,
    frame: &Frame<'_>,
    shown: Option<Value>,
    errors: &Errors,
) -> Response {
    let now = chrono::Utc::now();
    let row = |k: &entity::api_key::Model| {
        context! {
            id => k.id.to_string(), name => k.name, role => k.role.as_str(), prefix => k.prefix,
            working => api_keys::is_active(k, now),
            last_used_at => k.last_used_at.map(|t| t.to_rfc3339()),
            expires_at => k.expires_at.map(|t| t.to_rfc3339()),
            revoked_at => k.revoked_at.map(|t| t.to_rfc3339()),
        }
    };
    let load = api_keys::list(&state.ctx.db);
    list_page(frame, "admin_keys.html", load, row, shown, errors).await
}

#[handler]
pub async fn keys_list(state: Data<&AppState>, me: Signed) -> Response {
    keys_page(&state, &Frame::of(&me, "admin"), None, &Errors::new()).await
}

#[handler]
pub async fn keys_create(state: Data<&AppState>, change: Change<NameRole>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "admin");
    let mut errors = Errors::new();
    let role = form.role(&mut errors);
    let name = form.name.trim();
    if name.is_empty() || name.len() > 64 {
        errors.insert("name".into(), "1 to 64 characters".into());
    }
    if !errors.is_empty() {
        return keys_page(&state, &frame, None, &errors).await;
    }
    let new = NewKey {
        name: name.to_owned(),
        role,
        expires_at: None,
        allowed: vec![],
    };
    match admin::create_key(&state.ctx, &new, &me.actor()).await {
        Ok((key, model)) => {
            let shown = context! { name => model.name, secret => key };
            keys_page(&state, &frame, Some(shown), &errors).await
        }
        Err(e) => unavailable(&frame, "key create", &e),
    }
}

/// `POST /admin/keys/{id}/{rotate|revoke}`.
#[handler]
pub async fn keys_act(
    state: Data<&AppState>,
    Path((id, action)): Path<(String, String)>,
    change: Change<Empty>,
) -> Response {
    let me = change.me;
    let frame = Frame::of(&me, "admin");
    let found = match Uuid::parse_str(&id) {
        Ok(id) => api_keys::find(&state.ctx.db, id).await,
        Err(_) => Ok(None),
    };
    let key = match found {
        Ok(Some(k)) => k,
        Ok(None) => return not_found(&frame),
        Err(e) => return unavailable(&frame, "key", &e),
    };
    match action.as_str() {
        "rotate" => {
            let grace = Duration::seconds(ROTATE_GRACE_S);
            match admin::rotate_key(&state.ctx, &key, grace, &me.actor()).await {
                Ok((secret, model)) => {
                    state.keys.forget_key(key.id);
                    let shown = context! { name => model.name, secret => secret, rotated => true };
                    keys_page(&state, &frame, Some(shown), &Errors::new()).await
                }
                Err(e) => action_failed(&frame, e),
            }
        }
        "revoke" => match admin::revoke_key(&state.ctx, key.id, &me.actor()).await {
            Ok(()) => {
                state.keys.forget_key(key.id);
                render::see_other("/admin/keys")
            }
            Err(RevokeError::Db(e)) => unavailable(&frame, "key revoke", &e),
            Err(e) => action_failed(&frame, ActionError::Conflict(e.to_string())),
        },
        _ => not_found(&frame),
    }
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
}

#[handler]
pub async fn audit_log(
    state: Data<&AppState>,
    me: Signed,
    Query(q): Query<AuditQuery>,
) -> Response {
    let frame = Frame::of(&me, "admin");
    if let Some(no) = forbidden(&frame) {
        return no;
    }
    let mut errors = Errors::new();
    let actions = nonempty(&q.action).map(|a| {
        let found = audit::actions_named(a);
        if found.is_empty() {
            errors.insert(
                "action".into(),
                frame.locale.text("invalid_choice").to_owned(),
            );
        }
        found
    });
    let filter = AuditFilter {
        actor: nonempty(&q.actor).map(str::to_owned),
        actions: actions.filter(|a| !a.is_empty()),
        ..AuditFilter::default()
    };
    let before = nonempty(&q.cursor).and_then(|c| c.parse().ok());
    let rows = match audit::list(&state.ctx.db, &filter, before, AUDIT_PAGE + 1).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(&frame, "audit", &e),
    };
    let more = rows.len() as u64 > AUDIT_PAGE;
    let entries: Vec<Value> = rows
        .iter()
        .take(AUDIT_PAGE as usize)
        .map(|a| {
            context! {
                at => a.at.to_rfc3339(), actor => a.actor, action => a.action.as_str(), target => a.target,
                details => a.details.as_ref().map(|d| d.to_string()),
            }
        })
        .collect();
    let keep = |name: &str, v: &Option<String>| {
        nonempty(v)
            .map(|v| format!("{name}={}&", url_escape(v)))
            .unwrap_or_default()
    };
    let next_url = more.then(|| {
        let last = rows[AUDIT_PAGE as usize - 1].id;
        format!(
            "/admin/audit?{}{}cursor={last}",
            keep("actor", &q.actor),
            keep("action", &q.action)
        )
    });
    let data = context! {
        entries => entries, next_url => next_url, errors => errors,
        actions => audit::Action::names(),
        filter => context! { actor => nonempty(&q.actor).unwrap_or(""), action => nonempty(&q.action).unwrap_or("") },
    };
    render::page("admin_audit.html", &frame, data, StatusCode::OK)
}
