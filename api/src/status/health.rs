//! The health score: 100, less a penalty per problem. The thresholds are the
//! predecessor's (docs/emag.md §5.4), plus the circuit breaker and stale data.

use super::{AccountStatus, HealthComponent, HealthLevel, HealthReason, HealthScore};

/// Data older than this (or never synced) counts as stale.
const STALE_SECONDS: i64 = 24 * 3600;

/// A stand-in while the account's figures are gathered; [`score`] replaces it.
pub fn score_placeholder() -> HealthScore {
    HealthScore {
        score: 100,
        level: HealthLevel::Healthy,
        reasons: Vec::new(),
    }
}

pub fn score(a: &AccountStatus) -> HealthScore {
    let mut reasons = Vec::new();
    let mut penalise = |component: HealthComponent, penalty: i64, detail: String| {
        reasons.push(HealthReason {
            component,
            penalty,
            detail,
        });
    };
    if let Some(rate) = a.emag.error_rate
        && rate > 0.05
    {
        penalise(
            HealthComponent::EmagErrors,
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
            HealthComponent::EmagLatency,
            20,
            format!("eMAG answered in {ms:.0} ms on average"),
        );
    }
    // Running at the shared budget's ceiling is the design, not a problem; a 429 is.
    if a.emag.rate_limited > 0 {
        penalise(
            HealthComponent::RateLimit,
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
            HealthComponent::SyncFailures,
            30,
            format!(
                "{} of {} syncs in 24 h succeeded",
                a.runs_24h.succeeded, a.runs_24h.finished
            ),
        );
    }
    if let Some(d) = &a.degraded {
        penalise(
            HealthComponent::Degraded,
            20,
            match a.emag_unreachable_since {
                Some(since) => format!(
                    "circuit breaker open: {} (eMAG failing since {})",
                    d.reason,
                    since.format("%Y-%m-%d %H:%M UTC")
                ),
                None => format!("circuit breaker open: {}", d.reason),
            },
        );
    }
    for detail in stale(a) {
        penalise(HealthComponent::Stale, 10, detail);
    }
    let score = (100 - reasons.iter().map(|r| r.penalty).sum::<i64>()).max(0);
    HealthScore {
        score,
        level: level(score),
        reasons,
    }
}

/// What is stale: offers or orders not synced for a day, or never.
fn stale(a: &AccountStatus) -> Vec<String> {
    ["offers", "orders"]
        .into_iter()
        .filter_map(|resource| match a.last_sync.get(resource) {
            Some(s) if s.age_seconds <= STALE_SECONDS => None,
            Some(s) => Some(format!(
                "{resource} last synced {} h ago",
                s.age_seconds / 3600
            )),
            None => Some(format!("{resource} never synced")),
        })
        .collect()
}

fn level(score: i64) -> HealthLevel {
    match score {
        90.. => HealthLevel::Healthy,
        70..=89 => HealthLevel::Degraded,
        50..=69 => HealthLevel::Warning,
        _ => HealthLevel::Critical,
    }
}
