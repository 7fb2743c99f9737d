//! `/hooks/emag/…`: the URLs eMAG calls when an order of the seller is created or
//! cancelled. eMAG sends no key, so the account's callback secret in the path is the
//! credential; a wrong one, or an unknown account, is the same 404 after the same work.
//! A call answers at once: the order is read by a queued sync run.

use std::time::Duration;

use jobs::actions::callback;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::{error::ApiError, routes::ApiTags, state::AppState};

pub struct HooksApi {
    pub state: AppState,
}

/// What became of a call.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum HookOutcome {
    /// A run was queued to read the order.
    Queued,
    /// A read of the order queued moments ago, not started yet, covers this call.
    Repeated,
    /// The order was read moments ago: it is read once more when 10 s have passed
    /// since the first call, which covers every call until then.
    Deferred,
}

#[derive(Object, Debug)]
pub struct HookAnswer {
    pub outcome: HookOutcome,
    /// The run that reads the order.
    pub run_id: Uuid,
}

#[OpenApi(tag = "ApiTags::Hooks")]
impl HooksApi {
    /// eMAG calls: an order was created or cancelled
    ///
    /// The URL to paste into eMAG's seller settings (new order and cancelled order), as
    /// `POST /api/v1/accounts/{name}/callback-secret` prints it. Needs no API key.
    /// Calls beyond `MAGFLOW_HOOK_CALLS_PER_MINUTE` per account get 429. Calls about one
    /// order within 10 s share a read: the pending one, or one more when the 10 s are
    /// over, so a quick cancellation is not lost.
    #[oai(
        path = "/hooks/emag/:account/:secret/order",
        method = "get",
        operation_id = "emag_order_callback"
    )]
    async fn order(
        &self,
        account: Path<String>,
        secret: Path<String>,
        order_id: Query<Option<String>>,
    ) -> Result<Json<HookAnswer>, ApiError> {
        let state = &self.state;
        if let Err(wait) = state.hooks.admit(&account) {
            return Err(ApiError::too_many_requests(
                "too many callbacks for this account; polling catches up",
                wait,
            ));
        }
        let ctx = &state.ctx;
        let found = jobs::accounts::find(&ctx.db, &account).await?;
        if !jobs::accounts::verify_callback(found.as_ref(), &secret) {
            return Err(ApiError::not_found("callback URL"));
        }
        let Some(found) = found else {
            return Err(ApiError::not_found("callback URL"));
        };
        let order_id = order_id
            .0
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|id| (1..=jobs::sync::params::MAX_ORDER_ID).contains(id))
            .ok_or_else(|| ApiError::bad_field("order_id", "must be an eMAG order id"))?;
        let _turn = state.hooks.turn.lock().await;
        let (delay, outcome) = match state.hooks.window(&found.name, order_id) {
            Some((_, run_id)) if callback::not_started(&ctx.db, run_id).await? => {
                return Ok(Json(HookAnswer {
                    outcome: HookOutcome::Repeated,
                    run_id,
                }));
            }
            // The read of this window has begun and may miss this change: one more read,
            // when the window ends.
            Some((left, _)) => (left, HookOutcome::Deferred),
            None => (Duration::ZERO, HookOutcome::Queued),
        };
        let run_id = callback::order_called(ctx, &found, order_id, delay).await?;
        state.hooks.queued(&found.name, order_id, run_id);
        let answer = HookAnswer { outcome, run_id };
        Ok(Json(answer))
    }
}
