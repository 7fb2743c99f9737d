//! Bearer API keys on everything under `/api/v1`. `viewer` reads and streams; `admin`
//! also changes things. Unknown key → 401, wrong role → 403.

use jobs::api_keys::{self, Principal, Role};
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use crate::{error::ApiError, state::AppState};

/// An API key created with `magflow api-key create`, sent as `Authorization: Bearer <key>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "mf_<prefix>_<secret>",
    checker = "check_key"
)]
pub struct ApiKey(pub Principal);

async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from(ApiError::unauthorized()))?;
    Ok(principal(state, req, &bearer.token).await?)
}

/// The bearer token of `req`, if it sends one.
pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Who `token` is, if it is a working key that may be used from `req`'s address.
pub async fn principal(
    state: &AppState,
    req: &Request,
    token: &str,
) -> Result<Principal, ApiError> {
    let client = req
        .remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip);
    if let Some(wait) = state.auth_throttle.blocked(client) {
        return Err(ApiError::too_many_requests(
            "too many failed authentications from this address; try again later",
            wait,
        ));
    }
    let refused = || {
        state.auth_throttle.failed(client);
        ApiError::unauthorized()
    };
    // Only valid keys are cached: an unknown key is checked against the database each time.
    let key_hash = api_keys::hash(token);
    let principal = match state.keys.get(&key_hash) {
        Some(principal) => principal,
        None => match api_keys::authenticate(&state.ctx.db, token).await {
            Ok(Some(principal)) => {
                state.keys.put(key_hash, principal.clone());
                principal
            }
            Ok(None) => return Err(refused()),
            Err(e) => return Err(ApiError::from(e)),
        },
    };
    // Expiry and client networks are checked on every request, cached key or not. An
    // expired key or a foreign network gets the same 401 as an unknown key.
    if principal.admits(client, chrono::Utc::now()) {
        Ok(principal)
    } else {
        Err(refused())
    }
}

impl ApiKey {
    pub fn principal(&self) -> &Principal {
        &self.0
    }

    /// The caller, if it may change things.
    pub fn admin(&self) -> Result<&Principal, ApiError> {
        require_admin(&self.0)
    }
}

pub fn require_admin(principal: &Principal) -> Result<&Principal, ApiError> {
    match principal.role {
        Role::Admin => Ok(principal),
        Role::Viewer => Err(ApiError::forbidden()),
    }
}
