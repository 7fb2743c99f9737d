//! `export`: offers, orders or runs as CSV or XLSX. The handler lands with the export issue.

use serde::{Deserialize, Serialize};

use crate::{context::JobContext, error::JobError, params::ParamError, progress::Progress};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportParams {
    pub resource: String,
    #[serde(default = "csv")]
    pub format: String,
}

fn csv() -> String {
    "csv".into()
}

impl ExportParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if !["offers", "orders", "runs"].contains(&self.resource.as_str()) {
            return Err(ParamError::new(
                "params.resource",
                "must be offers, orders or runs",
            ));
        }
        if !["csv", "xlsx"].contains(&self.format.as_str()) {
            return Err(ParamError::new("params.format", "must be csv or xlsx"));
        }
        Ok(())
    }
}

pub async fn run(
    _ctx: &JobContext,
    _progress: &mut Progress,
    _params: ExportParams,
) -> Result<(), JobError> {
    Err(JobError::not_implemented("export"))
}
