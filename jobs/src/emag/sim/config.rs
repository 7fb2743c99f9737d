//! What the simulator simulates. Every option is also a `magflow emag-sim` flag.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimLogin {
    pub username: String,
    pub password: String,
    /// An FBE login: its orders are type 2 and its stock is eMAG's, not the seller's.
    pub fbe: bool,
}

/// A simulator option given on the command line that does not read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("--login {0:?}: expected NAME:PASSWORD or NAME:PASSWORD:fbe")]
    Login(String),
    #[error("--limits {0:?}: expected emag, off or N/s")]
    Limits(String),
    #[error("--faults: {0:?} is not key=value")]
    NotKeyValue(String),
    #[error("--faults: bad value for {key}: {value:?}")]
    FaultValue { key: String, value: String },
    #[error(
        "--faults: unknown key {0:?} (error, error_every, html, latency, hang, hang_ms, burst429, answer_delay_ms)"
    )]
    FaultKey(String),
}

impl SimLogin {
    /// `NAME:PASSWORD[:fbe]`, as given to `--login`.
    pub fn parse(spec: &str) -> Result<SimLogin, SpecError> {
        let parts: Vec<&str> = spec.splitn(3, ':').collect();
        match parts.as_slice() {
            [user, pass] if !user.is_empty() => Ok(SimLogin {
                username: (*user).into(),
                password: (*pass).into(),
                fbe: false,
            }),
            [user, pass, "fbe"] if !user.is_empty() => Ok(SimLogin {
                username: (*user).into(),
                password: (*pass).into(),
                fbe: true,
            }),
            _ => Err(SpecError::Login(spec.to_owned())),
        }
    }
}

/// How requests are limited.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LimitMode {
    /// eMAG's: 12/s and 720/min on order routes, 3/s and 180/min on the rest.
    Emag,
    Off,
    /// N per second on each bucket (and 60·N per minute).
    PerSecond(u32),
}

impl LimitMode {
    pub fn parse(s: &str) -> Result<LimitMode, SpecError> {
        match s {
            "emag" => Ok(LimitMode::Emag),
            "off" => Ok(LimitMode::Off),
            other => other
                .strip_suffix("/s")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .map(LimitMode::PerSecond)
                .ok_or_else(|| SpecError::Limits(other.to_owned())),
        }
    }

    /// (per second, per minute) for the orders bucket (`true`) or the other bucket.
    pub fn limits(self, orders: bool) -> Option<(usize, usize)> {
        match self {
            LimitMode::Emag if orders => Some((12, 720)),
            LimitMode::Emag => Some((3, 180)),
            LimitMode::Off => None,
            LimitMode::PerSecond(n) => Some((n as usize, 60 * n as usize)),
        }
    }
}

/// Injected trouble. Changeable at run time through `POST /__sim/faults`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability that a request gets a 500, 502 or 504.
    pub error_rate: f64,
    /// Of those, the share with an HTML body instead of JSON.
    pub html_share: f64,
    /// Added latency, uniformly between these milliseconds.
    pub latency_ms: (u64, u64),
    /// Probability that a request hangs for `hang_ms` before answering.
    pub hang_rate: f64,
    pub hang_ms: u64,
    /// The next N requests get 429 whatever the limits.
    pub burst_429: u32,
    /// Every Nth request past the gateway gets a 5xx (0: never): faults a test can count
    /// on, and never two in a row, so retries always pass.
    pub error_every: u64,
    /// A save's answer leaves this long after the change was applied: a client that
    /// gives up or dies meanwhile cannot know the save took effect.
    pub answer_delay_ms: u64,
}

impl Faults {
    /// `error=0.1,error_every=10,html=0.5,latency=50-200,hang=0.01,hang_ms=65000,burst429=5,answer_delay_ms=1500`.
    pub fn parse(spec: &str) -> Result<Faults, SpecError> {
        let mut f = Faults {
            html_share: 0.5,
            ..Faults::default()
        };
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| SpecError::NotKeyValue(part.to_owned()))?;
            let bad = || SpecError::FaultValue {
                key: key.to_owned(),
                value: value.to_owned(),
            };
            match key.trim() {
                "error" => f.error_rate = value.parse().map_err(|_| bad())?,
                "html" => f.html_share = value.parse().map_err(|_| bad())?,
                "latency" => {
                    let (lo, hi) = value.split_once('-').unwrap_or((value, value));
                    f.latency_ms = (
                        lo.parse().map_err(|_| bad())?,
                        hi.parse().map_err(|_| bad())?,
                    );
                }
                "hang" => f.hang_rate = value.parse().map_err(|_| bad())?,
                "hang_ms" => f.hang_ms = value.parse().map_err(|_| bad())?,
                "burst429" => f.burst_429 = value.parse().map_err(|_| bad())?,
                "error_every" => f.error_every = value.parse().map_err(|_| bad())?,
                "answer_delay_ms" => f.answer_delay_ms = value.parse().map_err(|_| bad())?,
                other => return Err(SpecError::FaultKey(other.to_owned())),
            }
        }
        Ok(f)
    }
}

/// The simulator's options. Defaults are the demo's: eMAG limits, no faults.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimConfig {
    pub logins: Vec<SimLogin>,
    pub offers: usize,
    pub orders: usize,
    pub seed: u64,
    pub limits: LimitMode,
    /// Key rate buckets by client IP instead of by login (UNCERTAIN in the contract).
    pub limit_by_ip: bool,
    pub faults: Faults,
    /// HTTP status for missing or bad credentials (UNCERTAIN: 401 by default).
    pub auth_status: u16,
    /// HTTP status for a non-whitelisted IP (UNCERTAIN: 200 with isError by default).
    pub ip_status: u16,
    /// `itemsPerPage` outside 1..100: clamp (default) or reject (UNCERTAIN).
    pub reject_page_size: bool,
    /// `order/read` without `type` returns only type-3 orders (UNCERTAIN; on by default).
    pub default_order_type_3: bool,
    /// `PATCH offer_stock` also takes the predecessor's `{"stock": [{"warehouse_id": 1,
    /// "value": n}]}` (UNCERTAIN; off: only eMAG's documented `{"stock": n}`).
    pub offer_stock_array: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            logins: vec![
                SimLogin {
                    username: "main".into(),
                    password: "main-secret".into(),
                    fbe: false,
                },
                SimLogin {
                    username: "fbe".into(),
                    password: "fbe-secret".into(),
                    fbe: true,
                },
            ],
            offers: 2500,
            orders: 3000,
            seed: 42,
            limits: LimitMode::Emag,
            limit_by_ip: false,
            faults: Faults::default(),
            auth_status: 401,
            ip_status: 200,
            reject_page_size: false,
            default_order_type_3: true,
            offer_stock_array: false,
        }
    }
}

impl SimConfig {
    pub fn hang(&self) -> Duration {
        Duration::from_millis(self.faults.hang_ms)
    }
}
