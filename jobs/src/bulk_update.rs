//! `bulk_update`: push price and stock changes to eMAG. The handler lands with the bulk
//! update issue.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{context::JobContext, error::JobError, params::ParamError, progress::Progress};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdateParams {
    pub items: Vec<Value>,
    #[serde(default)]
    pub dry_run: bool,
}

impl BulkUpdateParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.items.is_empty() {
            return Err(ParamError::new(
                "params.items",
                "must hold at least one item",
            ));
        }
        if self.items.len() > 100_000 {
            return Err(ParamError::new(
                "params.items",
                "must hold at most 100000 items",
            ));
        }
        Ok(())
    }
}

pub async fn run(
    _ctx: &JobContext,
    _progress: &mut Progress,
    _params: BulkUpdateParams,
) -> Result<(), JobError> {
    Err(JobError::not_implemented("bulk_update"))
}
