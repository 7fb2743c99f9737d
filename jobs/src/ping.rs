//! `ping`: a no-op job that reports progress each step. Tests and benchmarks use it to
//! exercise the queue, retries, cancellation, shutdown and streaming without eMAG.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    context::JobContext,
    error::{ErrorCategory, JobError},
    job::Job,
    kind::{JobKind, RetryPolicy},
    params::ParamError,
    progress::{Level, Progress},
};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingParams {
    /// Steps to take (1 to 1,000,000).
    #[serde(default = "one")]
    pub steps: u64,
    /// Milliseconds each step sleeps (at most 60,000).
    #[serde(default)]
    pub step_ms: u64,
    /// Fail when this step (1-based) is reached.
    #[serde(default)]
    pub fail_at: Option<u64>,
    /// Fail only in the first N attempts (default: every attempt).
    #[serde(default)]
    pub fail_times: Option<u32>,
    /// Make the failure permanent (not retried) instead of transient.
    #[serde(default)]
    pub fail_permanent: bool,
    /// Panic when this step is reached: proves a panicking handler fails its run only.
    #[serde(default)]
    pub panic_at: Option<u64>,
    /// Abort the whole worker process when this step is reached: a run that kills its
    /// worker. Only on a worker started with `MAGFLOW_TEST_FAULTS=true`; elsewhere the
    /// run fails instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_at: Option<u64>,
}

fn one() -> u64 {
    1
}

pub struct PingJob;

impl Job for PingJob {
    const KIND: JobKind = JobKind::Ping;
    const RETRY: RetryPolicy =
        RetryPolicy::new(3, Duration::from_millis(500), Duration::from_secs(5));
    const TIMEOUT: Duration = Duration::from_secs(600);
    const SHORT: bool = true;
    const PLAIN: bool = true;
    type Params = PingParams;
    type Stored = PingParams;

    fn validate(params: &PingParams) -> Result<(), ParamError> {
        params.validate()
    }

    async fn run(
        ctx: &JobContext,
        progress: &mut Progress,
        params: PingParams,
        attempt: u32,
    ) -> Result<(), JobError> {
        run(ctx, progress, params, attempt).await
    }
}

impl PingParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if !(1..=1_000_000).contains(&self.steps) {
            return Err(ParamError::new(
                "params.steps",
                "must be between 1 and 1000000",
            ));
        }
        if self.step_ms > 60_000 {
            return Err(ParamError::new("params.step_ms", "must be at most 60000"));
        }
        if let Some(at) = self.fail_at
            && (at == 0 || at > self.steps)
        {
            return Err(ParamError::new(
                "params.fail_at",
                "must be a step between 1 and steps",
            ));
        }
        Ok(())
    }
}

pub async fn run(
    ctx: &JobContext,
    progress: &mut Progress,
    params: PingParams,
    attempt: u32,
) -> Result<(), JobError> {
    let resume_from = progress
        .checkpoint()
        .and_then(|c| c.get("step"))
        .and_then(|s| s.as_u64())
        .unwrap_or(0);
    progress.set_total(params.steps);
    if resume_from > 0 {
        progress.log(Level::Info, format!("resuming after step {resume_from}"));
    }
    for step in resume_from + 1..=params.steps {
        if params.fail_at == Some(step) && params.fail_times.is_none_or(|n| attempt <= n) {
            let message = format!("ping failed at step {step} as asked");
            progress.log(Level::Error, &message);
            return Err(if params.fail_permanent {
                JobError::permanent(ErrorCategory::Permanent, message)
            } else {
                JobError::transient(message)
            });
        }
        if params.panic_at == Some(step) {
            panic!("ping panicked at step {step} as asked");
        }
        if params.abort_at == Some(step) {
            if !ctx.config.test_faults {
                return Err(JobError::permanent(
                    ErrorCategory::InvalidInput,
                    "abort_at works only on workers started with MAGFLOW_TEST_FAULTS=true",
                ));
            }
            progress.log(
                Level::Error,
                format!("ping aborts its worker at step {step}"),
            );
            let _ = progress.tick().await;
            std::process::abort();
        }
        if params.step_ms > 0 {
            progress
                .sleep(Duration::from_millis(params.step_ms))
                .await?;
        }
        progress.processed(1);
        progress.set_checkpoint(json!({ "step": step }));
        progress.tick().await?;
    }
    progress.log(Level::Info, format!("ping finished {} steps", params.steps));
    Ok(())
}
