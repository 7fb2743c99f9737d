//! `POST /api/v1/runs/batch`: up to 1,000 runs in one request, each answered on its own.

use jobs::{
    JobKind,
    actions::batch::{self, BatchItem},
    params::RawParams,
};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde_json::Value;

use crate::{
    auth::ApiKey,
    body::Body,
    error::{ApiError, ErrorBody},
    routes::{
        ApiTags,
        runs::{CreateRunRequest, check_max_attempts},
    },
    state::AppState,
    views::RunView,
};

pub struct RunsBatchApi {
    pub state: AppState,
}

#[derive(Object, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRunsRequest {
    /// 1 to 1,000 runs, each as `POST /api/v1/runs` takes it (no `bulk_update`: its items
    /// go in a request of their own).
    pub runs: Vec<CreateRunRequest>,
}

/// What became of one run of the batch.
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct BatchItemResult {
    /// The run's position in `runs`, from 0.
    pub index: u32,
    /// What `POST /api/v1/runs` would have answered for it alone: 202, or the error's.
    pub status: u16,
    /// The run, when accepted.
    pub run: Option<RunView>,
    /// Why it was refused; `field` is a path into the request (`runs[2].params.steps`).
    pub error: Option<ErrorBody>,
}

#[derive(Object, Debug)]
pub struct BatchResult {
    pub accepted: u32,
    pub refused: u32,
    /// One per run asked for, in the same order.
    pub items: Vec<BatchItemResult>,
}

#[derive(ApiResponse)]
pub enum BatchAnswer {
    /// Each run's own result: the accepted ones are stored and queued, the refused ones
    /// changed nothing.
    #[oai(status = 207)]
    MultiStatus(Json<BatchResult>),
}

#[OpenApi(tag = "ApiTags::Runs")]
impl RunsBatchApi {
    /// Start many runs
    ///
    /// Checks each run as `POST /api/v1/runs` does, stores the accepted ones in one
    /// transaction and queues them with one push per kind. One refused run does not stop
    /// the others.
    #[oai(
        path = "/api/v1/runs/batch",
        method = "post",
        operation_id = "create_runs"
    )]
    async fn create_many(
        &self,
        auth: ApiKey,
        body: Body<CreateRunsRequest>,
    ) -> Result<BatchAnswer, ApiError> {
        let principal = auth.admin()?;
        let runs = &body.runs;
        if runs.is_empty() || runs.len() > batch::MAX_RUNS {
            return Err(ApiError::invalid(
                "runs",
                format!(
                    "must hold 1 to {} runs, not {}",
                    batch::MAX_RUNS,
                    runs.len()
                ),
            ));
        }
        let mut early: Vec<Option<ApiError>> = Vec::with_capacity(runs.len());
        let mut items = Vec::new();
        for run in runs {
            match check_max_attempts(run.max_attempts) {
                Err(e) => early.push(Some(e)),
                Ok(()) => {
                    early.push(None);
                    items.push(BatchItem {
                        kind: JobKind::from(run.kind),
                        params: match &run.params {
                            Some(p) => RawParams::Text(p.0.get()),
                            None => RawParams::Value(&Value::Null),
                        },
                        max_attempts: run.max_attempts,
                    });
                }
            }
        }
        let mut outcome = batch::submit_batch(&self.state.ctx, items, &principal.actor())
            .await?
            .into_iter();
        let mut results = Vec::with_capacity(runs.len());
        for (index, refused) in early.into_iter().enumerate() {
            let answer = match refused {
                Some(e) => Err(e),
                None => match outcome.next() {
                    Some(result) => result.map_err(ApiError::from),
                    None => Err(ApiError::internal(&std::io::Error::other(
                        "a batch item without a result",
                    ))),
                },
            };
            results.push(item_result(index, answer));
        }
        let accepted = results.iter().filter(|r| r.run.is_some()).count() as u32;
        Ok(BatchAnswer::MultiStatus(Json(BatchResult {
            accepted,
            refused: results.len() as u32 - accepted,
            items: results,
        })))
    }
}

fn item_result(index: usize, answer: Result<entity::job_run::Model, ApiError>) -> BatchItemResult {
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    match answer {
        Ok(run) => BatchItemResult {
            index,
            status: 202,
            run: Some(RunView::from(&run)),
            error: None,
        },
        Err(e) => {
            let (status, mut body) = e.into_parts();
            if let Some(field) = body.field.take() {
                body.field = Some(format!("runs[{index}].{field}"));
            }
            BatchItemResult {
                index,
                status,
                run: None,
                error: Some(body),
            }
        }
    }
}
