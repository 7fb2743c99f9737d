//! What travels through the queue: only a versioned pointer to the `job_runs` row.
//! Parameters stay in the row, so a task can never carry a payload that an upgraded
//! worker no longer understands (docs/stack-notes.md §5.6).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTask {
    /// Payload version; bump with a new variant of decoding, never reuse.
    pub v: u32,
    pub run_id: Uuid,
}

impl RunTask {
    pub const VERSION: u32 = 1;

    pub fn new(run_id: Uuid) -> RunTask {
        RunTask {
            v: Self::VERSION,
            run_id,
        }
    }

    /// Decodes a raw queue payload. Anything else is reported, never a panic.
    pub fn decode(value: &serde_json::Value) -> Result<RunTask, TaskError> {
        let task: RunTask = serde_json::from_value(value.clone()).map_err(TaskError::Shape)?;
        if task.v != Self::VERSION {
            return Err(TaskError::Version(task.v));
        }
        Ok(task)
    }
}

/// Why a queue payload is not a task this version runs.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("undecodable task payload: {0}")]
    Shape(serde_json::Error),
    #[error("unsupported task payload version {0}")]
    Version(u32),
}
