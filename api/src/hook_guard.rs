//! What keeps eMAG's callbacks cheap: a fixed window of calls per account
//! (`MAGFLOW_HOOK_CALLS_PER_MINUTE`), and a memory of the orders called about in the last
//! 10 s with the run reading each, so eMAG calling twice about one order queues one read.
//! Per API process.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

use uuid::Uuid;

/// How long a call about an order makes a repeat of it a no-op.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(10);
const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Bounded memory whatever names or ids callers send.
const MAX_KEYS: usize = 50_000;

pub struct HookGuard {
    per_minute: u32,
    /// Account → (start of its window, calls in it).
    calls: Mutex<HashMap<String, (Instant, u32)>>,
    /// (account, order) → when the first read of its window was queued, and the run
    /// that reads it last.
    recent: Mutex<HashMap<(String, u64), (Instant, Uuid)>>,
    /// Held from looking at an order's window to noting its run, so two calls at the
    /// same instant cannot both queue a read.
    pub turn: tokio::sync::Mutex<()>,
}

impl HookGuard {
    pub fn new(per_minute: u32) -> HookGuard {
        HookGuard {
            per_minute: per_minute.max(1),
            calls: Mutex::default(),
            recent: Mutex::default(),
            turn: tokio::sync::Mutex::default(),
        }
    }

    /// Counts a call to `account`'s URLs: seconds to wait when it is over its allowance.
    pub fn admit(&self, account: &str) -> Result<(), u64> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut calls, |(start, _)| start.elapsed() < RATE_WINDOW);
        let entry = calls
            .entry(account.to_owned())
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= RATE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        if entry.1 >= self.per_minute {
            let left = RATE_WINDOW.saturating_sub(entry.0.elapsed());
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }

    /// The order's window, if a read of it was first queued less than 10 s ago: what is
    /// left of it, and the run that reads it last.
    pub fn window(&self, account: &str, order: u64) -> Option<(Duration, Uuid)> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let (at, run) = recent.get(&(account.to_owned(), order))?;
        let left = REPEAT_WINDOW.checked_sub(at.elapsed())?;
        Some((left, *run))
    }

    /// Notes the run reading this order: a window starts unless one is open.
    pub fn queued(&self, account: &str, order: u64, run: Uuid) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut recent, |(at, _)| at.elapsed() < REPEAT_WINDOW);
        let entry = recent
            .entry((account.to_owned(), order))
            .or_insert((Instant::now(), run));
        if entry.0.elapsed() >= REPEAT_WINDOW {
            entry.0 = Instant::now();
        }
        entry.1 = run;
    }
}

/// Past the bound, drops what `keep` says is stale, and everything if that is not enough.
fn prune<K: Eq + Hash, V>(map: &mut HashMap<K, V>, keep: impl Fn(&V) -> bool) {
    if map.len() >= MAX_KEYS {
        map.retain(|_, v| keep(v));
        if map.len() >= MAX_KEYS {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_held_to_its_allowance_and_orders_are_remembered() {
        let guard = HookGuard::new(3);
        for _ in 0..3 {
            assert_eq!(guard.admit("main"), Ok(()));
        }
        assert!(guard.admit("main").is_err_and(|s| (1..=60).contains(&s)));
        assert_eq!(guard.admit("fbe"), Ok(()), "per account");
        let (first, later) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(guard.window("main", 7), None);
        guard.queued("main", 7, first);
        assert!(guard.window("main", 7).is_some_and(|(left, run)| {
            left <= REPEAT_WINDOW && left > Duration::from_secs(9) && run == first
        }));
        guard.queued("main", 7, later);
        assert_eq!(guard.window("main", 7).map(|(_, run)| run), Some(later));
        assert_eq!(guard.window("main", 8), None);
        assert_eq!(guard.window("fbe", 7), None);
    }
}
