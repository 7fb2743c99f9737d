//! The health score: 100, less a penalty per problem. The thresholds are the
//! predecessor's (docs/emag.md §5.4), plus the circuit breaker and stale data.

use super::{AccountStatus, HealthReason, HealthScore};

/// Data older than this (or never synced) counts as stale.
const STALE_SECONDS: i64 = 24 * 3600;

/// A stand-in while the account's figures are gathered; [`score`] replaces it.
pub fn score_placeholder() -> HealthScore {
    HealthScore {
        score: 100,
        level: "healthy".into(),
        reasons: Vec::new(),
    }
}

pub fn score(a: &AccountStatus) -> HealthScore {
    let mut reasons = Vec::new();
    let mut penalise = |component: &str, penalty: i64, detail: String| {
        reasons.push(HealthReason {
            component: component.to_owned(),
            penalty,
            detail,
        });
    };
    if let Some(rate) = a.emag.error_rate
        && rate > 0.05
    {
        penalise(
            "emag_errors",
            30,
            format!(
                "{:.1}% of eMAG requests failed in the last hour",
                rate * 100.0
            ),
        );
    }
    if let Some(ms) = a.emag.avg_latency_ms
        && ms > 2000.0
    {
        penalise(
            "emag_latency",
            20,
            format!("eMAG answered in {ms:.0} ms on average"),
        );
    }
    // Running at the shared budget's ceiling is the design, not a problem; a 429 is.
    if a.emag.rate_limited > 0 {
        penalise(
            "rate_limit",
            20,
            format!(
                "eMAG answered 429 {} times in the last hour",
                a.emag.rate_limited
            ),
        );
    }
    if let Some(rate) = a.runs_24h.success_rate
        && rate < 0.95
    {
        penalise(
            "sync_failures",
            30,
            format!(
                "{} of {} syncs in 24 h succeeded",
                a.runs_24h.succeeded, a.runs_24h.finished
            ),
        );
    }
    if let Some(d) = &a.degraded {
        penalise(
            "degraded",
            20,
            format!("circuit breaker open: {}", d.reason),
        );
    }
    for resource in ["offers", "orders"] {
        match a.last_sync.get(resource) {
            Some(s) if s.age_seconds <= STALE_SECONDS => {}
            Some(s) => penalise(
                "stale",
                10,
                format!("{resource} last synced {} h ago", s.age_seconds / 3600),
            ),
            None => penalise("stale", 10, format!("{resource} never synced")),
        }
    }
    let score = (100 - reasons.iter().map(|r| r.penalty).sum::<i64>()).max(0);
    let level = match score {
        90.. => "healthy",
        70..=89 => "degraded",
        50..=69 => "warning",
        _ => "critical",
    };
    HealthScore {
        score,
        level: level.to_owned(),
        reasons,
    }
}
