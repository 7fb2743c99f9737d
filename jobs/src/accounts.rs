//! eMAG accounts: a name, a kind (`main`/`fbe`), a platform or base URL, and a login whose
//! password is sealed at rest. Runs refer to accounts by name.

use std::time::Instant;

use chrono::Utc;
use entity::emag_account;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    context::JobContext,
    emag::{EmagClient, EmagError, Login, client::ClientOptions, platform_base_url},
    error::SetupError,
    secrets::{SealError, Sealer},
};

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
    pub kind: String,
    pub platform: Option<String>,
    pub base_url: Option<String>,
    pub username: String,
    pub password: String,
}

/// Changes to an account; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AccountChange {
    pub kind: Option<String>,
    pub platform: Option<String>,
    pub base_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
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
pub fn validate_base_url(url: &str, http_hosts: &[String]) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    let host = parsed.host_str().ok_or("has no host")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if parsed.query().is_some() {
        return Err("must not contain a query (?…)".into());
    }
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment (#…)".into());
    }
    let bare = |h: &str| h.trim_matches(['[', ']']).to_ascii_lowercase();
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if http_hosts.iter().any(|h| bare(h) == bare(host)) => Ok(()),
        "http" => Err(format!(
            "must use https (plain http only for hosts listed in MAGFLOW_EMAG_HTTP_HOSTS, and {host} is not)"
        )),
        other => Err(format!("must use https, not {other}")),
    }
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

fn validate_kind(kind: &str) -> Result<(), AccountError> {
    if kind == "main" || kind == "fbe" {
        Ok(())
    } else {
        Err(invalid("kind", "must be main or fbe"))
    }
}

/// The base URL from exactly one of `platform` and `base_url`.
fn resolve(
    platform: Option<&str>,
    base_url: Option<&str>,
    http_hosts: &[String],
) -> Result<(Option<String>, String), AccountError> {
    match (platform, base_url) {
        (Some(p), None) => platform_base_url(p)
            .map(|u| (Some(p.to_owned()), u.to_owned()))
            .ok_or_else(|| invalid("platform", "must be ro, bg or hu")),
        (None, Some(u)) => {
            validate_base_url(u, http_hosts).map_err(|m| invalid("base_url", m))?;
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

/// What a sealed password belongs to: it opens only for this account id, base URL and
/// username, so it never follows a changed URL to another host.
fn sealing_context(id: Uuid, base_url: &str, username: &str) -> Vec<u8> {
    format!("magflow emag account\0{id}\0{base_url}\0{username}").into_bytes()
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
    validate_kind(&new.kind)?;
    require_text("username", &new.username)?;
    require_text("password", &new.password)?;
    let (platform, base_url) =
        resolve(new.platform.as_deref(), new.base_url.as_deref(), http_hosts)?;
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
        validate_kind(&kind)?;
        model.kind = Set(kind);
    }
    let (mut base_url, mut username) = (current.base_url.clone(), current.username.clone());
    if change.platform.is_some() || change.base_url.is_some() {
        let (platform, url) = resolve(
            change.platform.as_deref(),
            change.base_url.as_deref(),
            http_hosts,
        )?;
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

/// Deletes the account with everything synced from it (offers, orders and their lines,
/// sync bookmarks), so an account created again under the same name starts empty; its
/// active syncs and bulk updates are cancelled (category `account_deleted`): queued ones
/// at once, running ones at their next checkpoint. False if there is no such account.
///
/// The account's row goes first: a sync page in flight holds it (`FOR SHARE`, or SQLite's
/// write lock), so the data is deleted only after that page committed, and a later page
/// finds the account gone and writes nothing.
pub async fn delete(db: &DatabaseConnection, name: &str) -> Result<bool, DbErr> {
    use entity::{bulk_item, job_run, offer, order, order_line, sync_state};
    use sea_orm::sea_query::{Expr, Query};
    let txn = crate::db::begin_write(db).await?;
    let removed = emag_account::Entity::delete_many()
        .filter(emag_account::Column::Name.eq(name))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Ok(false);
    }
    order_line::Entity::delete_many()
        .filter(order_line::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    order::Entity::delete_many()
        .filter(order::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    offer::Entity::delete_many()
        .filter(offer::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    sync_state::Entity::delete_many()
        .filter(sync_state::Column::Account.eq(name))
        .exec(&txn)
        .await?;
    let bulk_runs = Query::select()
        .column(bulk_item::Column::RunId)
        .from(bulk_item::Entity)
        .and_where(bulk_item::Column::Account.eq(name))
        .to_owned();
    let active: Vec<Uuid> = job_run::Entity::find()
        .select_only()
        .column(job_run::Column::Id)
        .filter(
            job_run::Column::Status
                .is_in([job_run::RunStatus::Queued, job_run::RunStatus::Running]),
        )
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(job_run::Column::Kind.eq("sync"))
                        .add(job_run::Column::Account.eq(name)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(job_run::Column::Kind.eq("bulk_update"))
                        .add(job_run::Column::Id.in_subquery(bulk_runs)),
                ),
        )
        .into_tuple()
        .all(&txn)
        .await?;
    // The reason first: a cancelled run keeps the category it was stopped for.
    job_run::Entity::update_many()
        .col_expr(
            job_run::Column::ErrorCategory,
            Expr::value(crate::ErrorCategory::AccountDeleted.as_str()),
        )
        .col_expr(
            job_run::Column::ErrorMessage,
            Expr::value(format!("the eMAG account {name:?} was deleted")),
        )
        .filter(job_run::Column::Id.is_in(active.clone()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    for id in active {
        crate::runs::cancel(db, id).await?;
    }
    Ok(true)
}

/// The login of an account, its password opened.
pub fn login(
    sealer: Option<&Sealer>,
    account: &emag_account::Model,
) -> Result<Login, AccountError> {
    let sealer = sealer.ok_or(AccountError::NoKey)?;
    let context = sealing_context(account.id, &account.base_url, &account.username);
    let password = sealer
        .open(&account.password_sealed, &context)
        .map_err(|e| match e {
            SealError::WrongKey => AccountError::Sealed(account.name.clone()),
            _ => AccountError::NeedsPassword(account.name.clone()),
        })?;
    Ok(Login {
        base_url: account.base_url.clone(),
        username: account.username.clone(),
        password,
    })
}

/// Whether the account's stored password cannot be used as it is (no key, or sealed for
/// another account, URL or username): an admin must set it again.
pub fn needs_password(sealer: Option<&Sealer>, account: &emag_account::Model) -> bool {
    login(sealer, account).is_err()
}

/// Start-up check: sealed passwords exist ⇒ the key must be set and must be the one they
/// were sealed with. Then passwords sealed by older versions (no account binding) are
/// sealed again, bound to their account.
pub async fn verify_key(
    db: &DatabaseConnection,
    sealer: Option<&Sealer>,
) -> Result<(), SetupError> {
    let setup = |e: DbErr| SetupError::Migrate(e.to_string());
    let all = emag_account::Entity::find().all(db).await.map_err(setup)?;
    if all.is_empty() {
        return Ok(());
    }
    let Some(sealer) = sealer else {
        return Err(SetupError::Config(format!(
            "MAGFLOW_SECRET_KEY: not set, but {} eMAG account password(s) are sealed with it; set the key they were saved with",
            all.len()
        )));
    };
    let ours = |a: &&emag_account::Model| {
        Sealer::sealed_key_id(&a.password_sealed) == Some(sealer.key_id())
            || (Sealer::is_legacy(&a.password_sealed)
                && sealer.open_legacy(&a.password_sealed).is_ok())
    };
    if !all.iter().any(|a| ours(&a)) {
        return Err(SetupError::Config(format!(
            "MAGFLOW_SECRET_KEY: does not open the sealed password of account {:?}; is it the key the accounts were saved with?",
            all[0].name
        )));
    }
    for account in all.iter().filter(|a| Sealer::is_legacy(&a.password_sealed)) {
        let Ok(password) = sealer.open_legacy(&account.password_sealed) else {
            continue; // reported as needing a password
        };
        let context = sealing_context(account.id, &account.base_url, &account.username);
        // Conditional on the old value: a password set meanwhile is not overwritten.
        emag_account::Entity::update_many()
            .col_expr(
                emag_account::Column::PasswordSealed,
                sea_orm::sea_query::Expr::value(sealer.seal(&password, &context)),
            )
            .filter(emag_account::Column::Id.eq(account.id))
            .filter(emag_account::Column::PasswordSealed.eq(account.password_sealed.clone()))
            .exec(db)
            .await
            .map_err(setup)?;
        tracing::info!(account = %account.name, "sealed password bound to its account");
    }
    Ok(())
}

/// What `POST /accounts/{name}/check` found.
#[derive(Clone, Debug, Serialize)]
pub struct CheckOutcome {
    /// `ok`, `bad_credentials`, `ip_not_whitelisted`, `unreachable`, `needs_password`
    /// or `error`.
    pub status: &'static str,
    pub message: String,
    pub latency_ms: u64,
}

/// One cheap authenticated call (`vat/read`) under the account's rate budget.
pub async fn check(
    ctx: &JobContext,
    account: &emag_account::Model,
) -> Result<CheckOutcome, AccountError> {
    if let Err(m) = validate_base_url(&account.base_url, &ctx.config.emag_http_hosts) {
        return Ok(CheckOutcome {
            status: "error",
            message: format!("base_url {m}; nothing was sent"),
            latency_ms: 0,
        });
    }
    let login = match login(ctx.sealer.as_ref(), account) {
        Ok(login) => login,
        Err(e @ AccountError::NeedsPassword(_)) => {
            return Ok(CheckOutcome {
                status: "needs_password",
                message: e.to_string(),
                latency_ms: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let options = ClientOptions {
        max_attempts: 2,
        timeout: std::time::Duration::from_secs(15),
        ..ClientOptions::default()
    };
    let started = Instant::now();
    let result = match EmagClient::new(&login, ctx.limiter.clone(), options) {
        Ok(client) => client
            .for_account(&account.name)
            .vat_read()
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status, message) = match result {
        Ok(()) => ("ok", "eMAG accepted the credentials".to_owned()),
        Err(e @ EmagError::BadCredentials { .. }) => ("bad_credentials", e.to_string()),
        Err(e @ EmagError::IpNotWhitelisted { .. }) => ("ip_not_whitelisted", e.to_string()),
        Err(e @ (EmagError::Timeout | EmagError::Transport(_))) => ("unreachable", e.to_string()),
        Err(e) => ("error", e.to_string()),
    };
    Ok(CheckOutcome {
        status,
        message,
        latency_ms,
    })
}
