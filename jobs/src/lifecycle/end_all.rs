//! PostgreSQL: the ends of a batch of attempts in one `UPDATE`, the rows passed as one
//! `jsonb` parameter. Each statement costs PostgreSQL far more around it (protocol,
//! planning) than the row it changes, so one statement for a batch instead of one per
//! end is most of the saving (BENCHMARKS.md, issue 17). It writes exactly what
//! [`super::end_attempt`] writes for each end, on the same conditions.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{End, Event};

const END_ALL: &str = r"
UPDATE job_runs AS r SET
    status = d.status,
    updated_at = $2,
    revision = r.revision + 1,
    error_category = CASE WHEN d.set_error THEN d.error_category ELSE r.error_category END,
    error_message = CASE WHEN d.set_error THEN d.error_message ELSE r.error_message END,
    attempt = CASE WHEN d.requeue THEN d.attempt_after ELSE r.attempt END,
    next_attempt_at = CASE WHEN d.requeue THEN d.next_attempt_at ELSE r.next_attempt_at END,
    worker_id = CASE WHEN d.requeue THEN NULL ELSE r.worker_id END,
    heartbeat_at = CASE WHEN d.requeue THEN NULL ELSE r.heartbeat_at END,
    finished_at = CASE WHEN d.requeue THEN r.finished_at ELSE $2 END,
    eta_seconds = CASE WHEN d.requeue THEN d.eta_seconds ELSE NULL END,
    total = d.total,
    processed = d.processed,
    created = d.created,
    updated = d.updated,
    unchanged = d.unchanged,
    failed = d.failed,
    pages_done = d.pages_done,
    pages_total = d.pages_total,
    emag_requests = d.emag_requests,
    rate_limit_waits = d.rate_limit_waits,
    emag_errors = d.emag_errors,
    rate_limited = d.rate_limited,
    emag_latency_ms = d.emag_latency_ms,
    throughput = d.throughput,
    checkpoint = CASE WHEN d.set_checkpoint THEN d.checkpoint ELSE r.checkpoint END,
    result = CASE WHEN d.set_result THEN d.result ELSE r.result END
FROM jsonb_to_recordset($1::jsonb) AS d(
    id uuid, worker_id text, held_attempt integer, status text,
    set_error boolean, error_category text, error_message text,
    requeue boolean, attempt_after integer, next_attempt_at timestamptz, eta_seconds float8,
    total bigint, processed bigint, created bigint, updated bigint, unchanged bigint,
    failed bigint, pages_done integer, pages_total integer, emag_requests bigint,
    rate_limit_waits bigint, emag_errors bigint, rate_limited bigint, emag_latency_ms bigint,
    throughput float8, set_checkpoint boolean, checkpoint json, set_result boolean, result json
)
WHERE r.id = d.id AND r.worker_id = d.worker_id AND r.attempt = d.held_attempt
    AND r.status = 'running'
RETURNING r.id";

/// Ends every attempt of `ends` in one statement; for each, whether its holder still
/// held the run.
pub(super) async fn end_all<C: ConnectionTrait>(db: &C, ends: &[End]) -> Result<Vec<bool>, DbErr> {
    debug_assert_eq!(db.get_database_backend(), DbBackend::Postgres);
    let now = Utc::now();
    let rows: Vec<Value> = ends.iter().map(|end| row(end, now)).collect();
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        END_ALL,
        [Value::Array(rows).into(), now.into()],
    );
    let mut held = HashSet::new();
    for row in db.query_all_raw(statement).await? {
        held.insert(row.try_get::<Uuid>("", "id")?);
    }
    Ok(ends
        .iter()
        .map(|end| held.contains(&end.holder.run_id))
        .collect())
}

/// The row of `end` for the statement.
fn row(end: &End, now: chrono::DateTime<Utc>) -> Value {
    let (holder, ending, last) = (&end.holder, &end.ending, &end.last);
    // Every end starts from `running`, as the state machine's table says.
    debug_assert_eq!(ending.event().from(), Event::Succeed.from());
    let status = ending
        .event()
        .to()
        .map_or("running", entity::job_run::RunStatus::as_str);
    let error = ending.error();
    let requeued = ending.requeued(holder.attempt, now);
    let counters = &last.counters;
    json!({
        "id": holder.run_id,
        "worker_id": holder.worker_id,
        "held_attempt": holder.attempt,
        "status": status,
        "set_error": error.is_some(),
        "error_category": error.and_then(|(category, _)| category).map(|c| c.as_str()),
        "error_message": error.and_then(|(_, message)| message),
        "requeue": requeued.is_some(),
        "attempt_after": requeued.map(|(_, attempt)| attempt),
        "next_attempt_at": requeued.map(|(due, _)| due),
        "eta_seconds": last.eta_seconds,
        "total": counters.total,
        "processed": counters.processed,
        "created": counters.created,
        "updated": counters.updated,
        "unchanged": counters.unchanged,
        "failed": counters.failed,
        "pages_done": counters.pages_done,
        "pages_total": counters.pages_total,
        "emag_requests": counters.emag_requests,
        "rate_limit_waits": counters.rate_limit_waits,
        "emag_errors": counters.emag_errors,
        "rate_limited": counters.rate_limited,
        "emag_latency_ms": counters.emag_latency_ms,
        "throughput": last.throughput,
        "set_checkpoint": last.checkpoint.is_some(),
        "checkpoint": last.checkpoint,
        "set_result": last.result.is_some(),
        "result": last.result,
    })
}
