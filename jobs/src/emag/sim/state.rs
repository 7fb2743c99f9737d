//! The simulator's mutable world: per-login data, rate windows, faults, outages and the
//! request log that tests read to check limits.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::Value;

use super::{
    body::num,
    config::{Faults, SimConfig},
    data,
    texts::Texts,
};

pub struct LoginData {
    pub password: String,
    pub fbe: bool,
    pub offers: Tracked<BTreeMap<u64, Value>>,
    pub orders: Tracked<BTreeMap<u64, Value>>,
    /// Changes applied by `offer/save` and `product_offer/save`, per offer: what a test
    /// counts to prove no change was applied twice.
    pub saves_applied: BTreeMap<u64, u32>,
    /// Status changes and attachments applied, per order: the same proof for orders.
    pub order_changes: BTreeMap<u64, u32>,
    /// Where the pages after the last ones read start.
    pub(super) cursors: super::reads::Cursors,
    /// The items' texts as pages send them.
    pub(super) offer_texts: Texts,
    pub(super) order_texts: Texts,
}

/// A collection that counts the times it was lent out to be changed, so that what was
/// remembered about it (a read's position) can tell it is out of date.
pub struct Tracked<T> {
    value: T,
    changes: u64,
}

impl<T> Tracked<T> {
    pub fn new(value: T) -> Tracked<T> {
        Tracked { value, changes: 0 }
    }

    /// Changes so far (every mutable borrow counts as one).
    pub fn changes(&self) -> u64 {
        self.changes
    }
}

impl<T> std::ops::Deref for Tracked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.changes += 1;
        &mut self.value
    }
}

/// One request as the simulator saw it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Milliseconds since the simulator started.
    pub t_ms: f64,
    pub method: String,
    pub route: String,
    pub login: String,
    pub status: u16,
}

pub struct SimState {
    pub config: SimConfig,
    pub started: Instant,
    pub logins: Mutex<HashMap<String, LoginData>>,
    windows: Mutex<HashMap<(String, bool), VecDeque<Instant>>>,
    pub faults: Mutex<Faults>,
    pub outages: Mutex<HashMap<String, Instant>>,
    pub ip_blocked: Mutex<HashSet<String>>,
    log: Mutex<Vec<LogEntry>>,
    /// The URLs eMAG calls back, per login.
    pub callbacks: super::callbacks::Callbacks,
    /// Requests past the gateway, for `Faults::error_every`.
    served: std::sync::atomic::AtomicU64,
}

/// Keeps memory bounded in long benchmarks.
const MAX_LOG: usize = 500_000;

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimState {
    pub fn new(config: SimConfig) -> SimState {
        let now = super::writes::platform_now();
        let mut logins = HashMap::new();
        for login in &config.logins {
            let offers = data::offers(login, config.offers, config.seed);
            let orders = data::orders(login, &offers, config.orders, config.seed, now);
            let by_id = |items: Vec<Value>| {
                items
                    .into_iter()
                    .filter_map(|v| num(v.get("id")).map(|id| (id as u64, v)))
                    .collect()
            };
            let (offers, orders) = (Tracked::new(by_id(offers)), Tracked::new(by_id(orders)));
            logins.insert(
                login.username.clone(),
                LoginData {
                    password: login.password.clone(),
                    fbe: login.fbe,
                    offer_texts: Texts::of_all(&offers),
                    order_texts: Texts::of_all(&orders),
                    offers,
                    orders,
                    saves_applied: BTreeMap::new(),
                    order_changes: BTreeMap::new(),
                    cursors: Default::default(),
                },
            );
        }
        SimState {
            faults: Mutex::new(config.faults.clone()),
            config,
            started: Instant::now(),
            logins: Mutex::new(logins),
            windows: Mutex::default(),
            outages: Mutex::default(),
            ip_blocked: Mutex::default(),
            log: Mutex::default(),
            callbacks: super::callbacks::Callbacks::default(),
            served: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether this request is the `every`-th since the start (`every` = 0: never).
    pub fn every_nth(&self, every: u64) -> bool {
        let n = self
            .served
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        every > 0 && n.is_multiple_of(every)
    }

    /// Counts a request against its window; `Err((limit, remaining))` when it is over.
    pub fn take_rate(&self, key: &str, orders: bool) -> Result<(usize, usize), (usize, usize)> {
        let Some((per_second, per_minute)) = self.config.limits.limits(orders) else {
            return Ok((usize::MAX, usize::MAX));
        };
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        let window = windows.entry((key.to_owned(), orders)).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            window.pop_front();
        }
        let last_second = window
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
            .count();
        if last_second >= per_second || window.len() >= per_minute {
            return Err((per_second * 3, 0));
        }
        window.push_back(now);
        Ok((
            per_second * 3,
            per_second.saturating_sub(last_second + 1) * 3,
        ))
    }

    /// Logs a request that arrived `t_ms` after the start.
    pub fn record(&self, t_ms: f64, method: &str, route: &str, login: &str, status: u16) {
        let mut log = lock(&self.log);
        if log.len() < MAX_LOG {
            log.push(LogEntry {
                t_ms,
                method: method.to_owned(),
                route: route.to_owned(),
                login: login.to_owned(),
                status,
            });
        }
    }

    /// Requests seen so far, from index `from`.
    pub fn requests(&self, from: usize) -> Vec<LogEntry> {
        lock(&self.log).iter().skip(from).cloned().collect()
    }

    pub fn in_outage(&self, login: &str) -> bool {
        lock(&self.outages)
            .get(login)
            .is_some_and(|until| Instant::now() < *until)
    }
}
