//! A run's attempts and how each ended, read back from the log lines that start and end
//! them (see `lifecycle::log_attempt_start` and `log_attempt_end`).

use chrono::{DateTime, Utc};
use entity::{
    job_run::ErrorCategory,
    run_event::{self, AttemptOutcome},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// One attempt of a run, oldest first in [`attempts`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Attempt {
    pub number: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `None` while it runs (or when its worker died and nothing has noticed yet).
    pub outcome: Option<AttemptOutcome>,
    pub error_category: Option<ErrorCategory>,
    /// The line that ended it (or started it, while it runs).
    pub message: String,
}

/// Most attempts shown; a run retried by hand many times keeps its latest.
const LIMIT: u64 = 200;

/// The run's attempts, oldest first. Attempt numbers can repeat (a handed-back attempt
/// is tried again under its number; a dead run retried by hand counts from 1 again), so
/// the lines are paired in order: an end closes the latest open attempt of its number.
pub async fn attempts<C: ConnectionTrait>(db: &C, run_id: Uuid) -> Result<Vec<Attempt>, DbErr> {
    let mut lines = run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .filter(run_event::Column::Attempt.is_not_null())
        .order_by_desc(run_event::Column::Id)
        .limit(LIMIT)
        .all(db)
        .await?;
    lines.reverse();
    Ok(pair(lines))
}

/// When the run's current wait began: the start of the unbroken row of paused attempts
/// just before the one now running, if the last ended attempt was paused.
pub async fn paused_since<C: ConnectionTrait>(
    db: &C,
    run_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let attempts = attempts(db, run_id).await?;
    Ok(paused_streak_start(&attempts))
}

fn paused_streak_start(attempts: &[Attempt]) -> Option<DateTime<Utc>> {
    attempts
        .iter()
        .rev()
        .skip_while(|a| a.outcome.is_none())
        .take_while(|a| a.outcome == Some(AttemptOutcome::Paused))
        .last()
        .and_then(|a| a.started_at.or(a.ended_at))
}

fn pair(lines: Vec<run_event::Model>) -> Vec<Attempt> {
    let mut out: Vec<Attempt> = Vec::new();
    for line in lines {
        let Some(number) = line.attempt else { continue };
        match line.outcome {
            None => out.push(Attempt {
                number,
                started_at: Some(line.at),
                ended_at: None,
                outcome: None,
                error_category: None,
                message: line.message,
            }),
            Some(outcome) => {
                let open = out
                    .iter_mut()
                    .rev()
                    .find(|a| a.number == number && a.outcome.is_none());
                let ended = Attempt {
                    number,
                    started_at: open.as_ref().and_then(|a| a.started_at),
                    ended_at: Some(line.at),
                    outcome: Some(outcome),
                    error_category: line.error_category,
                    message: line.message,
                };
                match open {
                    Some(slot) => *slot = ended,
                    None => out.push(ended),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use entity::run_event::Level;

    use super::*;

    fn line(id: i64, attempt: i32, outcome: Option<AttemptOutcome>) -> run_event::Model {
        run_event::Model {
            id,
            run_id: Uuid::nil(),
            at: Utc.timestamp_opt(1_700_000_000 + id, 0).unwrap(),
            level: Level::Info,
            message: format!("line {id}"),
            attempt: Some(attempt),
            outcome,
            error_category: outcome
                .filter(|o| *o != AttemptOutcome::Succeeded)
                .map(|_| ErrorCategory::Transient),
        }
    }

    #[test]
    fn a_wait_begins_with_the_first_of_the_latest_pauses() {
        use AttemptOutcome::{Failed, Paused, Retry};
        let lines = vec![
            line(1, 1, None),
            line(2, 1, Some(Paused)),
            line(3, 1, None),
            line(4, 1, Some(Failed)),
            // Retried by hand: a new wait.
            line(5, 2, None),
            line(6, 2, Some(Paused)),
            line(7, 2, None),
            line(8, 2, Some(Paused)),
            line(9, 2, None),
        ];
        let start = |l: &[run_event::Model]| paused_streak_start(&pair(l.to_vec()));
        assert_eq!(start(&lines), Some(lines[4].at));
        assert_eq!(start(&lines[..4]), None, "the last ended attempt failed");
        assert_eq!(start(&lines[..3]), Some(lines[0].at));
        let retried = [line(1, 1, None), line(2, 1, Some(Retry)), line(3, 2, None)];
        assert_eq!(start(&retried), None);
    }

    #[test]
    fn pairs_starts_with_ends_in_order_even_when_numbers_repeat() {
        let attempts = pair(vec![
            line(1, 1, None),
            line(2, 1, Some(AttemptOutcome::HandedBack)),
            line(3, 1, None),
            line(4, 1, Some(AttemptOutcome::Retry)),
            line(5, 2, None),
            line(6, 2, Some(AttemptOutcome::Succeeded)),
            line(7, 1, None),
        ]);
        let seen: Vec<_> = attempts
            .iter()
            .map(|a| (a.number, a.outcome, a.started_at.is_some()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1, Some(AttemptOutcome::HandedBack), true),
                (1, Some(AttemptOutcome::Retry), true),
                (2, Some(AttemptOutcome::Succeeded), true),
                (1, None, true),
            ]
        );
        assert_eq!(attempts[1].message, "line 4");
        assert_eq!(attempts[1].error_category, Some(ErrorCategory::Transient));
        assert_eq!(attempts[1].started_at, Some(line(3, 1, None).at));
    }

    #[test]
    fn an_end_without_its_start_still_counts() {
        let attempts = pair(vec![line(9, 3, Some(AttemptOutcome::Lost))]);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].started_at, None);
        assert_eq!(attempts[0].outcome, Some(AttemptOutcome::Lost));
    }
}
