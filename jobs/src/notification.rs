//! `notification`: e-mail when a run ends. The handler lands with the notification issue.

use serde::{Deserialize, Serialize};

use crate::{context::JobContext, error::JobError, params::ParamError, progress::Progress};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationParams {
    pub recipients: Vec<String>,
    #[serde(default)]
    pub run_id: Option<uuid::Uuid>,
}

impl NotificationParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.recipients.is_empty() {
            return Err(ParamError::new(
                "params.recipients",
                "must name at least one address",
            ));
        }
        if let Some(bad) = self.recipients.iter().position(|r| !r.contains('@')) {
            return Err(ParamError::new(
                format!("params.recipients[{bad}]"),
                "is not an e-mail address",
            ));
        }
        Ok(())
    }
}

pub async fn run(
    _ctx: &JobContext,
    _progress: &mut Progress,
    _params: NotificationParams,
) -> Result<(), JobError> {
    Err(JobError::not_implemented("notification"))
}
