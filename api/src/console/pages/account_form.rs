//! Adding (`/accounts/new`) and editing (`/accounts/{name}/edit`) an eMAG account. The
//! password is write-only: never shown, left empty to keep it, and required (by the same
//! check as the API's) when the URL or the user name changes.

use std::collections::BTreeMap;

use entity::emag_account;
use jobs::accounts::{self, AccountChange, AccountError, AccountKind, NewAccount, Platform};
use serde::Deserialize;

use super::prelude::*;
use super::{not_found, unavailable};

/// The form's fields, as text.
#[derive(Deserialize, Default)]
pub struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    /// `ro`, `bg`, `hu`, or `url` for the base URL below.
    #[serde(default)]
    platform: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// A ticked box: present, whatever its value.
    #[serde(default)]
    auto_acknowledge: Option<String>,
}

type Errors = BTreeMap<String, String>;

impl Fields {
    fn of(a: &emag_account::Model) -> Fields {
        Fields {
            name: a.name.clone(),
            kind: a.kind.as_str().into(),
            platform: a.platform.map_or("url", |p| p.as_str()).into(),
            base_url: a.base_url.clone(),
            username: a.username.clone(),
            password: String::new(),
            auto_acknowledge: a.auto_acknowledge.then(|| "on".into()),
        }
    }

    fn kind(&self) -> Result<AccountKind, Errors> {
        AccountKind::parse(&self.kind)
            .ok_or_else(|| Errors::from([("kind".into(), "choose main or fbe".into())]))
    }

    /// The platform, or the base URL when "another URL" is chosen.
    fn place(&self) -> (Option<Platform>, Option<String>) {
        match Platform::parse(&self.platform) {
            Some(p) => (Some(p), None),
            None => (None, Some(self.base_url.trim().to_owned())),
        }
    }
}

/// A refusal from `jobs::accounts`, beside its field.
fn field_error(e: AccountError) -> Result<Errors, AccountError> {
    let (field, message) = match e {
        AccountError::Invalid { field, message } => (field.to_owned(), message),
        AccountError::Duplicate(_) => ("name".to_owned(), e.to_string()),
        AccountError::NeedsPassword(_) => ("password".to_owned(), e.to_string()),
        AccountError::NoKey => ("password".to_owned(), e.to_string()),
        e => return Err(e),
    };
    Ok(Errors::from([(field, message)]))
}

fn form_page(frame: &Frame, editing: bool, fields: &Fields, errors: &Errors) -> Response {
    let data = context! {
        editing => editing,
        action => if editing { format!("/accounts/{}/edit", fields.name) } else { "/accounts/new".into() },
        v => context! {
            name => fields.name, kind => fields.kind, platform => fields.platform,
            base_url => fields.base_url, username => fields.username,
            auto_acknowledge => fields.auto_acknowledge.is_some(),
        },
        kinds => AccountKind::names(),
        platforms => ["ro", "bg", "hu", "url"],
        errors => errors,
    };
    render::page("account_form.html", frame, data, super::form_status(errors))
}

#[handler]
pub async fn new_form(me: Signed) -> Response {
    let fields = Fields {
        kind: "main".into(),
        platform: "ro".into(),
        ..Fields::default()
    };
    form_page(&Frame::of(&me, "accounts"), false, &fields, &Errors::new())
}

#[handler]
pub async fn edit_form(state: Data<&AppState>, me: Signed, Path(name): Path<String>) -> Response {
    let frame = Frame::of(&me, "accounts");
    match accounts::find(&state.ctx.db, &name).await {
        Ok(Some(a)) => form_page(&frame, true, &Fields::of(&a), &Errors::new()),
        Ok(None) => not_found(&frame),
        Err(e) => unavailable(&frame, "account", &e),
    }
}

/// Shows the form again with `e` beside its field, or the page for a store that failed.
fn refused(frame: &Frame, editing: bool, fields: &Fields, e: AccountError) -> Response {
    match field_error(e) {
        Ok(errors) => form_page(frame, editing, fields, &errors),
        Err(AccountError::NotFound(_)) => not_found(frame),
        Err(e) => unavailable(frame, "account save", &e),
    }
}

#[handler]
pub async fn create(state: Data<&AppState>, change: Change<Fields>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "accounts");
    let kind = match form.kind() {
        Ok(kind) => kind,
        Err(errors) => return form_page(&frame, false, &form, &errors),
    };
    let (platform, base_url) = form.place();
    let new = NewAccount {
        name: form.name.trim().to_owned(),
        kind,
        platform,
        base_url,
        username: form.username.trim().to_owned(),
        password: form.password.clone(),
        auto_acknowledge: form.auto_acknowledge.is_some(),
    };
    match jobs::actions::accounts::create(&state.ctx, new, &me.actor()).await {
        Ok(_) => render::see_other("/accounts"),
        Err(e) => refused(&frame, false, &form, e),
    }
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    Path(name): Path<String>,
    change: Change<Fields>,
) -> Response {
    let Change { me, mut form } = change;
    let frame = Frame::of(&me, "accounts");
    form.name = name;
    let current = match accounts::find(&state.ctx.db, &form.name).await {
        Ok(Some(a)) => a,
        Ok(None) => return not_found(&frame),
        Err(e) => return unavailable(&frame, "account", &e),
    };
    let kind = match form.kind() {
        Ok(kind) => kind,
        Err(errors) => return form_page(&frame, true, &form, &errors),
    };
    // Only what differs is a change: an unchanged URL does not ask for the password.
    let (platform, base_url) = form.place();
    let moved = platform != current.platform
        || (platform.is_none() && base_url.as_deref() != Some(current.base_url.as_str()));
    let username = form.username.trim();
    let change = AccountChange {
        kind: (kind != current.kind).then_some(kind),
        platform: platform.filter(|_| moved),
        base_url: base_url.filter(|_| moved),
        username: (username != current.username).then(|| username.to_owned()),
        password: (!form.password.is_empty()).then(|| form.password.clone()),
        auto_acknowledge: (form.auto_acknowledge.is_some() != current.auto_acknowledge)
            .then_some(form.auto_acknowledge.is_some()),
    };
    match jobs::actions::accounts::update(&state.ctx, &form.name, change, &me.actor()).await {
        Ok(_) => render::see_other("/accounts"),
        Err(e) => refused(&frame, true, &form, e),
    }
}
