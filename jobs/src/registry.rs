//! One place that knows every job family: validating parameters at enqueue time and
//! dispatching a claimed run to its handler. Adding a job is a file plus two match arms.

use serde_json::Value;

use crate::{
    bulk_update,
    context::JobContext,
    error::JobError,
    export,
    kind::JobKind,
    notification,
    params::{self, ParamError, RawParams},
    ping,
    progress::Progress,
    sync,
};

/// Parameters that passed validation, normalised (defaults filled in).
#[derive(Clone, Debug)]
pub struct Validated {
    pub params: Value,
    /// The eMAG account the run works on, when there is exactly one.
    pub account: Option<String>,
}

/// Validates parameters already in memory (a schedule's template, the command line).
pub fn validate(kind: JobKind, raw: &Value) -> Result<Validated, ParamError> {
    validate_raw(kind, RawParams::Value(raw))
}

/// Validates a request's parameters. A bulk update is not validated here: its items go
/// straight to its own table (`submit::submit_request`).
pub fn validate_raw(kind: JobKind, raw: RawParams<'_>) -> Result<Validated, ParamError> {
    fn normalised<T: serde::Serialize>(p: &T) -> Result<Value, ParamError> {
        serde_json::to_value(p).map_err(|e| ParamError::new("params", e.to_string()))
    }
    match kind {
        JobKind::Ping => {
            let p: ping::PingParams = raw.parse()?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
        JobKind::Sync => {
            let p: sync::SyncParams = raw.parse()?;
            p.validate()?;
            let account = match &p.accounts {
                sync::AccountSelection::Named(names) if names.len() == 1 => Some(names[0].clone()),
                _ => None,
            };
            Ok(Validated {
                params: normalised(&p)?,
                account,
            })
        }
        JobKind::BulkUpdate => Err(ParamError::new(
            "kind",
            "a bulk update is sent with its items to POST /api/v1/runs",
        )),
        JobKind::Export => {
            let p: export::ExportParams = raw.parse()?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
        JobKind::Notification => {
            let p: notification::NotificationParams = raw.parse()?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
    }
}

/// Runs one attempt of a claimed run. Parameters are decoded here, inside the attempt, so a
/// row written by an older version fails its own run and never the worker.
pub async fn execute(
    kind: JobKind,
    ctx: &JobContext,
    progress: &mut Progress,
    raw: &Value,
    attempt: u32,
) -> Result<(), JobError> {
    let invalid = |e: ParamError| {
        JobError::permanent(crate::error::ErrorCategory::InvalidInput, e.to_string())
    };
    match kind {
        JobKind::Ping => {
            ping::run(ctx, progress, params::parse(raw).map_err(invalid)?, attempt).await
        }
        JobKind::Sync => sync::run(ctx, progress, params::parse(raw).map_err(invalid)?).await,
        JobKind::BulkUpdate => {
            bulk_update::run(ctx, progress, params::parse(raw).map_err(invalid)?).await
        }
        JobKind::Export => export::run(ctx, progress, params::parse(raw).map_err(invalid)?).await,
        JobKind::Notification => {
            notification::run(ctx, progress, params::parse(raw).map_err(invalid)?).await
        }
    }
}
