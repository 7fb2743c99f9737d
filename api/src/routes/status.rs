//! `/api/v1/status`: per-account health for dashboards and people.

use poem_openapi::{OpenApi, param::Query};

use crate::{
    auth::ApiKey, error::ApiError, routes::ApiTags, serialized::Serialized, state::AppState,
    status::StatusReport,
};

pub struct StatusApi {
    pub state: AppState,
}

#[OpenApi(tag = "ApiTags::Ops")]
impl StatusApi {
    /// Status of eMAG accounts
    ///
    /// Per account: synced offers and orders by status, last successful sync per resource
    /// and its age, active runs, success rates over 24 h and 7 d, recent runs, eMAG error
    /// rate and latency, rate-limit usage, and a health score (0–100) with the reasons it
    /// is lower. Cached for 2 seconds.
    #[oai(path = "/api/v1/status", method = "get", operation_id = "status")]
    async fn status(
        &self,
        _auth: ApiKey,
        /// An account name, or `all` (the default).
        account: Query<Option<String>>,
    ) -> Result<Serialized<StatusReport>, ApiError> {
        let account = account.0.filter(|a| a != "all");
        let db = &self.state.ctx.db;
        if let Some(name) = &account
            && jobs::accounts::find(db, name).await?.is_none()
        {
            return Err(ApiError::not_found(&format!("account {name:?}")));
        }
        let cached = self
            .state
            .status
            .get(db, self.state.ctx.sealer.as_ref(), account.as_deref())
            .await?;
        Ok(cached.json.clone())
    }
}
