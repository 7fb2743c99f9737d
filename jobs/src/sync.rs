//! `sync`: pull offers and orders of eMAG accounts. Parameters are accepted now; the
//! handler lands with the sync issue.

use serde::{Deserialize, Serialize};

use crate::{context::JobContext, error::JobError, params::ParamError, progress::Progress};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// Account names, or `"all"`.
    pub accounts: AccountSelection,
    #[serde(default = "all")]
    pub resource: String,
    #[serde(default = "full")]
    pub mode: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AccountSelection {
    Named(Vec<String>),
    All(String),
}

fn all() -> String {
    "all".into()
}

fn full() -> String {
    "full".into()
}

impl SyncParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        match &self.accounts {
            AccountSelection::All(s) if s != "all" => {
                return Err(ParamError::new(
                    "params.accounts",
                    "must be a list of account names or \"all\"",
                ));
            }
            AccountSelection::Named(names) if names.is_empty() => {
                return Err(ParamError::new(
                    "params.accounts",
                    "must name at least one account",
                ));
            }
            _ => {}
        }
        if !["offers", "orders", "all"].contains(&self.resource.as_str()) {
            return Err(ParamError::new(
                "params.resource",
                "must be offers, orders or all",
            ));
        }
        if !["full", "incremental"].contains(&self.mode.as_str()) {
            return Err(ParamError::new(
                "params.mode",
                "must be full or incremental",
            ));
        }
        Ok(())
    }
}

pub async fn run(
    _ctx: &JobContext,
    _progress: &mut Progress,
    _params: SyncParams,
) -> Result<(), JobError> {
    Err(JobError::not_implemented("sync"))
}
