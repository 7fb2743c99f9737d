//! `GET /notifications`: who gets an e-mail when runs end (subscribe, unsubscribe) and,
//! for admins, the addresses the mail server refused for good (let one be tried again).

use std::collections::BTreeMap;

use jobs::{
    JobKind,
    actions::notifications::{self, SubscribeError},
    notification::{Locale as MailLocale, NewSubscription, NotifyOn, subscriptions},
};
use serde::Deserialize;

use super::{Empty, action_failed, form_status, prelude::*, unavailable};

/// The kinds a subscription can name (a notification's own end notifies nobody).
fn kinds() -> Vec<&'static str> {
    JobKind::ALL
        .iter()
        .filter(|k| **k != JobKind::Notification)
        .map(|k| k.as_str())
        .collect()
}

#[derive(Deserialize, Default)]
pub struct Fields {
    #[serde(default)]
    recipients: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    locale: String,
    /// The kind boxes arrive as `kind_sync=on`, …; none ticked means every kind.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

type Errors = BTreeMap<String, String>;

async fn page(state: &AppState, frame: &Frame<'_>, fields: &Fields, errors: &Errors) -> Response {
    let db = &state.ctx.db;
    let admin = frame.me.is_some_and(|m| m.is_admin());
    let loaded = async {
        let subs = subscriptions::list(db).await?;
        // Addresses are personal: admins only, as in the API.
        let suppressed = if admin {
            subscriptions::suppressions(db).await?
        } else {
            vec![]
        };
        Ok::<_, sea_orm::DbErr>((subs, suppressed))
    };
    let (subs, suppressed) = match loaded.await {
        Ok(found) => found,
        Err(e) => return unavailable(frame, "notifications", &e),
    };
    let subs: Vec<Value> = subs
        .iter()
        .map(|s| {
            context! {
                id => s.id.to_string(),
                recipients => Value::from_serialize(&s.recipients),
                kinds => Value::from_serialize(&s.kinds),
                on => s.on.as_str(),
                locale => s.locale.as_str(),
            }
        })
        .collect();
    let suppressed: Vec<Value> = suppressed
        .iter()
        .map(|s| context! { address => s.address, reason => s.reason, at => s.at.to_rfc3339() })
        .collect();
    let ticked: Vec<&str> = kinds()
        .into_iter()
        .filter(|k| fields.rest.contains_key(&format!("kind_{k}")))
        .collect();
    let data = context! {
        subscriptions => subs,
        suppressed => suppressed,
        kinds => kinds(),
        ons => NotifyOn::names(),
        locales => MailLocale::names(),
        v => context! { recipients => fields.recipients, on => fields.on, locale => fields.locale, ticked => ticked },
        errors => errors,
    };
    render::page("notifications.html", frame, data, form_status(errors))
}

#[handler]
pub async fn list(state: Data<&AppState>, me: Signed) -> Response {
    let fields = Fields {
        on: "both".into(),
        locale: me.locale().code().into(),
        ..Fields::default()
    };
    page(
        &state,
        &Frame::of(&me, "notifications"),
        &fields,
        &Errors::new(),
    )
    .await
}

#[handler]
pub async fn subscribe(state: Data<&AppState>, change: Change<Fields>) -> Response {
    let Change { me, form } = change;
    let frame = Frame::of(&me, "notifications");
    let mut errors = Errors::new();
    let on = NotifyOn::parse(&form.on).unwrap_or_else(|| {
        errors.insert("on".into(), "choose when".into());
        NotifyOn::Both
    });
    let locale = MailLocale::parse(&form.locale).unwrap_or_else(|| {
        errors.insert("locale".into(), "choose a language".into());
        MailLocale::Ro
    });
    if !errors.is_empty() {
        return page(&state, &frame, &form, &errors).await;
    }
    let ticked: Vec<String> = kinds()
        .into_iter()
        .filter(|k| form.rest.contains_key(&format!("kind_{k}")))
        .map(str::to_owned)
        .collect();
    let new = NewSubscription {
        recipients: form
            .recipients
            .split([',', ' ', '\n', ';'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        kinds: (!ticked.is_empty()).then_some(ticked),
        on,
        locale,
    };
    match notifications::subscribe(&state.ctx, new, &me.actor()).await {
        Ok(_) => render::see_other("/notifications"),
        Err(SubscribeError::Invalid(p)) => {
            // `recipients[2]` is shown beside the recipients.
            let field = p.field.split('[').next().unwrap_or("recipients").to_owned();
            errors.insert(field, p.message);
            page(&state, &frame, &form, &errors).await
        }
        Err(SubscribeError::Db(e)) => unavailable(&frame, "subscribe", &e),
    }
}

/// `POST /notifications/{id}/delete`.
#[handler]
pub async fn unsubscribe(
    state: Data<&AppState>,
    Path(id): Path<String>,
    change: Change<Empty>,
) -> Response {
    let frame = Frame::of(&change.me, "notifications");
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return super::not_found(&frame);
    };
    match notifications::unsubscribe(&state.ctx, id, &change.me.actor()).await {
        Ok(()) => render::see_other("/notifications"),
        Err(e) => action_failed(&frame, e),
    }
}

#[derive(Deserialize)]
pub struct Address {
    address: String,
}

/// `POST /notifications/unsuppress` with the address in the form (not the path: an
/// address is personal and paths are logged).
#[handler]
pub async fn unsuppress(state: Data<&AppState>, change: Change<Address>) -> Response {
    let frame = Frame::of(&change.me, "notifications");
    let address = change.form.address.trim();
    match notifications::unsuppress(&state.ctx, address, &change.me.actor()).await {
        Ok(()) => render::see_other("/notifications"),
        Err(e) => action_failed(&frame, e),
    }
}
