//! The in-process store (the embedded backend): one login and bucket's next planned slot
//! and its latest departures.

use std::{collections::VecDeque, time::Duration};

// tokio's clock, so tests can pause time.
use tokio::time::Instant;

use super::WINDOW;

#[derive(Default)]
pub(super) struct LocalSlots {
    pub(super) tat: Option<Instant>,
    /// Newest first; a corrected departure may be out of order, so the check takes the
    /// `limit`-th latest of what is kept (twice the limit).
    sent: VecDeque<Instant>,
}

impl LocalSlots {
    /// Records a departure now and returns it, or says how long to wait for one.
    pub(super) fn depart(&mut self, now: Instant, limit: usize) -> Result<Instant, Duration> {
        if let Some(oldest) = limit_th_latest(&self.sent, limit)
            && now.duration_since(oldest) < WINDOW
        {
            return Err(WINDOW - now.duration_since(oldest));
        }
        self.sent.push_front(now);
        self.sent.truncate(limit * 2);
        Ok(now)
    }

    /// A departure recorded at `at` left only at `actual`.
    pub(super) fn correct(&mut self, at: Instant, actual: Instant) {
        if let Some(entry) = self.sent.iter_mut().find(|t| **t == at) {
            *entry = actual;
        }
    }
}

fn limit_th_latest(sent: &VecDeque<Instant>, limit: usize) -> Option<Instant> {
    if sent.len() < limit {
        return None;
    }
    let mut latest: Vec<Instant> = sent.iter().copied().collect();
    latest.sort_unstable_by(|a, b| b.cmp(a));
    latest.get(limit - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_late_departure_counts_from_when_it_left() {
        let mut slots = LocalSlots::default();
        let t0 = Instant::now();
        let first = slots.depart(t0, 2).expect("free");
        slots
            .depart(t0 + Duration::from_millis(500), 2)
            .expect("free");
        // The first left 40 ms after it was recorded: the third waits for that.
        slots.correct(first, t0 + Duration::from_millis(40));
        let wait = slots
            .depart(t0 + WINDOW, 2)
            .expect_err("the second latest left 40 ms later");
        assert_eq!(wait, Duration::from_millis(40));
        assert!(slots.depart(t0 + WINDOW + wait, 2).is_ok());
    }
}
