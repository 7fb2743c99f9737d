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
    params::{self, ParamError},
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

pub fn validate(kind: JobKind, raw: &Value) -> Result<Validated, ParamError> {
    fn normalised<T: serde::Serialize>(p: &T) -> Result<Value, ParamError> {
        serde_json::to_value(p).map_err(|e| ParamError::new("params", e.to_string()))
    }
    match kind {
        JobKind::Ping => {
            let p: ping::PingParams = params::parse(raw)?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
        JobKind::Sync => {
            let p: sync::SyncParams = params::parse(raw)?;
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
        JobKind::BulkUpdate => {
            let p: bulk_update::BulkUpdateParams = params::parse(raw)?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
        JobKind::Export => {
            let p: export::ExportParams = params::parse(raw)?;
            p.validate()?;
            Ok(Validated {
                params: normalised(&p)?,
                account: None,
            })
        }
        JobKind::Notification => {
            let p: notification::NotificationParams = params::parse(raw)?;
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
