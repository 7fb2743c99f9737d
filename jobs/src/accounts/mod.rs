//! eMAG accounts: a name, a kind (`main`/`fbe`), a platform or base URL, and a login whose
//! password is sealed at rest. Runs refer to accounts by name.
//!
//! Here: the rows and their checks. `credentials`: the sealed password, bound to its
//! account. `callbacks`: the secret in the URLs eMAG calls back. `check`: one
//! authenticated call to eMAG. `delete`: an account with everything synced from it.

mod callbacks;
mod check;
mod credentials;
mod delete;

use chrono::Utc;
use entity::emag_account;
pub use entity::emag_account::{AccountKind, Platform};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

pub use callbacks::{disable_callbacks, order_hook_url, rotate_callback_secret, verify_callback};
pub use check::{CheckOutcome, CheckStatus, check};
use credentials::sealing_context;
pub use credentials::{login, needs_password, verify_key};
pub use delete::delete;

use crate::{emag::platform_base_url, secrets::Sealer};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("an account named {0:?} already exists")]
    Duplicate(String),
    #[error("no account named {0:?}")]
    NotFound(String),
    #[error("MAGFLOW_SECRET_KEY is not set, so eMAG passwords cannot be stored or read")]
    NoKey,
    #[error("the stored password of account {0:?} does not open with MAGFLOW_SECRET_KEY")]
    Sealed(String),
    /// The sealed password was sealed for another account, URL or username: it was copied
    /// from another row, or the row was changed outside magflow.
    #[error(
        "the stored password of account {0:?} does not belong to its current URL and username; set its password again"
    )]
    NeedsPassword(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// A new account, as the API receives it.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub name: String,
    pub kind: AccountKind,
    pub platform: Option<Platform>,
    pub base_url: Option<String>,
    pub username: String,
    pub password: String,
    /// Acknowledge new orders eMAG calls back about.
    pub auto_acknowledge: bool,
}

/// Changes to an account; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AccountChange {
    pub kind: Option<AccountKind>,
    pub platform: Option<Platform>,
    pub base_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auto_acknowledge: Option<bool>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field,
        message: message.into(),
    }
}

/// eMAG is only ever reached over HTTPS; plain HTTP only for a host named in
/// `http_hosts` (`MAGFLOW_EMAG_HTTP_HOSTS`: the compose file's `emag-sim`, or `127.0.0.1`
/// for a simulator on this machine, which `run --demo` and the tests list themselves).
/// A base URL carries no user info, query or fragment: credentials travel only in the
/// Authorization header, and routes are appended to the path. A missing env var once
/// sent the predecessor to the wrong host: validate on save and again on use.
pub fn validate_base_url(url: &str, http_hosts: &[String]) -> Result<(), BaseUrlError> {
    let parsed = url::Url::parse(url).map_err(BaseUrlError::NotAUrl)?;
    let host = parsed.host_str().ok_or(BaseUrlError::NoHost)?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(BaseUrlError::UserInfo);
    }
    if parsed.query().is_some() {
        return Err(BaseUrlError::Query);
    }
    if parsed.fragment().is_some() {
        return Err(BaseUrlError::Fragment);
    }
    let bare = |h: &str| h.trim_matches(['[', ']']).to_ascii_lowercase();
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if http_hosts.iter().any(|h| bare(h) == bare(host)) => Ok(()),
        "http" => Err(BaseUrlError::PlainHttp(host.to_owned())),
        other => Err(BaseUrlError::Scheme(other.to_owned())),
    }
}

/// What is wrong with an account's base URL, in words that follow the field's name.
#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    #[error("is not a URL: {0}")]
    NotAUrl(url::ParseError),
    #[error("has no host")]
    NoHost,
    #[error("must not contain a user name or password")]
    UserInfo,
    #[error("must not contain a query (?…)")]
    Query,
    #[error("must not contain a fragment (#…)")]
    Fragment,
    #[error(
        "must use https (plain http only for hosts listed in MAGFLOW_EMAG_HTTP_HOSTS, and {0} is not)"
    )]
    PlainHttp(String),
    #[error("must use https, not {0}")]
    Scheme(String),
}

fn validate_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok || name == "all" {
        return Err(invalid(
            "name",
            "use 1 to 64 lower-case letters, digits, '-' or '_' (and not \"all\")",
        ));
    }
    Ok(())
}

/// The base URL from exactly one of `platform` and `base_url`.
fn resolve(
    platform: Option<Platform>,
    base_url: Option<&str>,
    http_hosts: &[String],
) -> Result<(Option<Platform>, String), AccountError> {
    match (platform, base_url) {
        (Some(p), None) => Ok((Some(p), platform_base_url(p).to_owned())),
        (None, Some(u)) => {
            validate_base_url(u, http_hosts).map_err(|m| invalid("base_url", m.to_string()))?;
            Ok((None, u.trim_end_matches('/').to_owned()))
        }
        (Some(_), Some(_)) => Err(invalid(
            "platform",
            "give either platform or base_url, not both",
        )),
        (None, None) => Err(invalid(
            "platform",
            "give a platform (ro, bg, hu) or a base_url",
        )),
    }
}

fn require_text(field: &'static str, value: &str) -> Result<(), AccountError> {
    if value.trim().is_empty() || value.len() > 255 {
        Err(invalid(field, "must be 1 to 255 characters"))
    } else {
        Ok(())
    }
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<emag_account::Model>, DbErr> {
    emag_account::Entity::find()
        .order_by_asc(emag_account::Column::Name)
        .all(db)
        .await
}

pub async fn find(
    db: &DatabaseConnection,
    name: &str,
) -> Result<Option<emag_account::Model>, DbErr> {
    emag_account::Entity::find()
        .filter(emag_account::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn create(
    db: &DatabaseConnection,
    sealer: Option<&Sealer>,
    new: NewAccount,
    http_hosts: &[String],
) -> Result<emag_account::Model, AccountError> {
    validate_name(&new.name)?;
    require_text("username", &new.username)?;
    require_text("password", &new.password)?;
    let (platform, base_url) = resolve(new.platform, new.base_url.as_deref(), http_hosts)?;
    let sealer = sealer.ok_or(AccountError::NoKey)?;
    if find(db, &new.name).await?.is_some() {
        return Err(AccountError::Duplicate(new.name));
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    let sealed = sealer.seal(
        &new.password,
        &sealing_context(id, &base_url, &new.username),
    );
    let model = emag_account::ActiveModel {
        id: Set(id),
        name: Set(new.name.clone()),
        kind: Set(new.kind),
        platform: Set(platform),
        base_url: Set(base_url),
        username: Set(new.username),
        password_sealed: Set(sealed),
        degraded_until: Set(None),
        degraded_reason: Set(None),
        unreachable_since: Set(None),
        callback_secret_hash: Set(None),
        callback_secret_set_at: Set(None),
        auto_acknowledge: Set(new.auto_acknowledge),
        created_at: Set(now),
        updated_at: Set(now),
    };
    model.insert(db).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AccountError::Duplicate(new.name),
        _ => AccountError::Db(e),
    })
}

pub async fn update(
    db: &DatabaseConnection,
    sealer: Option<&Sealer>,
    name: &str,
    change: AccountChange,
    http_hosts: &[String],
) -> Result<emag_account::Model, AccountError> {
    let current = find(db, name)
        .await?
        .ok_or_else(|| AccountError::NotFound(name.to_owned()))?;
    let mut model: emag_account::ActiveModel = current.clone().into();
    if let Some(kind) = change.kind {
        model.kind = Set(kind);
    }
    if let Some(auto) = change.auto_acknowledge {
        model.auto_acknowledge = Set(auto);
    }
    let (mut base_url, mut username) = (current.base_url.clone(), current.username.clone());
    if change.platform.is_some() || change.base_url.is_some() {
        let (platform, url) = resolve(change.platform, change.base_url.as_deref(), http_hosts)?;
        if platform != current.platform {
            model.platform = Set(platform);
        }
        base_url = url;
    }
    if let Some(name) = change.username {
        require_text("username", &name)?;
        username = name;
    }
    let moved =
        base_url != current.base_url || username != current.username || model.platform.is_set();
    let password = match change.password {
        Some(password) => {
            require_text("password", &password)?;
            Some(password)
        }
        // The stored password was given for the current host and login; it is not sent
        // anywhere else on an admin's word alone.
        None if moved => {
            return Err(invalid(
                "password",
                "is required when base_url, platform or username changes",
            ));
        }
        None => None,
    };
    if let Some(password) = password {
        let sealer = sealer.ok_or(AccountError::NoKey)?;
        model.password_sealed = Set(sealer.seal(
            &password,
            &sealing_context(current.id, &base_url, &username),
        ));
    }
    model.base_url = Set(base_url);
    model.username = Set(username);
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}
