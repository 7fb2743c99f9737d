//! A schedule as an admin writes it, checked field by field, and its fire times: a cron
//! expression of 5 or 6 fields (croner) read in an IANA time zone (chrono-tz), so "every
//! day at 09:00 in Bucharest" stays 09:00 local across daylight-saving changes.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::{
    Cron,
    parser::{CronParser, Seconds, Year},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    JobKind,
    params::{ParamError, RawParams},
    registry,
};

pub use entity::schedule::{Misfire, Overlap};

/// The job a schedule starts: validated exactly as `POST /api/v1/runs` validates it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub kind: String,
    #[serde(default)]
    pub params: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub name: String,
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    pub template: Template,
    #[serde(default = "skip_overlap")]
    pub overlap: Overlap,
    #[serde(default = "skip_misfire")]
    pub misfire: Misfire,
    /// Each fire starts up to this many seconds late, at random (eMAG asks clients not
    /// to arrive at round times).
    #[serde(default)]
    pub jitter_s: u32,
    /// E-mail addresses told when a run of this schedule ends.
    #[serde(default)]
    pub notify: Vec<String>,
}

fn utc() -> String {
    "UTC".into()
}

fn skip_overlap() -> Overlap {
    Overlap::Skip
}

fn skip_misfire() -> Misfire {
    Misfire::Skip
}

/// Longest start jitter: an hour.
pub const MAX_JITTER_S: u32 = 3600;

impl ScheduleSpec {
    /// Checks every field; the first problem names its field (`cron`, `template.params.x`).
    pub fn validate(&self) -> Result<(JobKind, Cron, Tz), ParamError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !name_ok {
            return Err(ParamError::new(
                "name",
                "1–64 lower-case letters, digits, '-' or '_'",
            ));
        }
        let cron = parse_cron(&self.cron)?;
        let tz = parse_timezone(&self.timezone)?;
        let kind = JobKind::parse(&self.template.kind).ok_or_else(|| {
            ParamError::new(
                "template.kind",
                format!("unknown kind {:?}", self.template.kind),
            )
        })?;
        if let Some(why) = registry::unschedulable(kind) {
            return Err(ParamError::new("template.kind", why));
        }
        registry::validate(kind, RawParams::Value(&self.template.params)).map_err(|e| {
            ParamError {
                field: format!("template.{}", e.field),
                message: e.message,
            }
        })?;
        if self.jitter_s > MAX_JITTER_S {
            return Err(ParamError::new(
                "jitter_s",
                format!("must be at most {MAX_JITTER_S}"),
            ));
        }
        for (i, to) in self.notify.iter().enumerate() {
            if to.parse::<lettre::Address>().is_err() {
                return Err(ParamError::new(
                    format!("notify[{i}]"),
                    format!("{to:?} is not an e-mail address"),
                ));
            }
        }
        Ok((kind, cron, tz))
    }
}

/// 5 fields (minute first) or 6 (seconds first); `L`, `W`, `#` and names allowed.
pub fn parse_cron(expr: &str) -> Result<Cron, ParamError> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(ParamError::new(
            "cron",
            format!(
                "has {fields} fields; use 5 (minute hour day month weekday) or 6 (seconds first)"
            ),
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| ParamError::new("cron", format!("{expr:?}: {e}")))
}

pub fn parse_timezone(name: &str) -> Result<Tz, ParamError> {
    name.parse::<Tz>().map_err(|_| {
        ParamError::new(
            "timezone",
            format!("{name:?} is not an IANA time zone (e.g. Europe/Bucharest, UTC)"),
        )
    })
}

/// The next `count` fire times strictly after `after`, in UTC.
/// Refuses an expression that fires more often than every `min` (checked over its next
/// 50 ticks), naming `cron`: an every-second sync would spend eMAG's whole budget.
pub fn check_min_interval(
    cron: &Cron,
    tz: Tz,
    now: DateTime<Utc>,
    min: std::time::Duration,
) -> Result<(), ParamError> {
    let fires = next_fires(cron, tz, now, 50);
    let shortest = fires
        .windows(2)
        .filter_map(|w| (w[1] - w[0]).to_std().ok())
        .min();
    match shortest {
        Some(gap) if gap < min => Err(ParamError::new(
            "cron",
            format!(
                "fires every {} s at times; the shortest interval allowed is {} s (MAGFLOW_SCHEDULE_MIN_INTERVAL_S)",
                gap.as_secs(),
                min.as_secs()
            ),
        )),
        _ => Ok(()),
    }
}

pub fn next_fires(cron: &Cron, tz: Tz, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
    let mut out = Vec::with_capacity(count);
    let mut from = after.with_timezone(&tz);
    while out.len() < count {
        match cron.find_next_occurrence(&from, false) {
            Ok(next) => {
                out.push(next.with_timezone(&Utc));
                from = next;
            }
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn expressions_firing_too_often_are_refused() {
        let now = at("2026-11-28T10:00:00Z");
        let minute = std::time::Duration::from_secs(60);
        for fast in ["* * * * * *", "*/30 * * * * *", "0,30 * * * * *"] {
            let cron = parse_cron(fast).expect("cron");
            let e = check_min_interval(&cron, Tz::UTC, now, minute).expect_err(fast);
            assert_eq!(e.field, "cron");
        }
        for ok in ["* * * * *", "0 9 * * *", "*/5 * * * *"] {
            let cron = parse_cron(ok).expect("cron");
            assert!(
                check_min_interval(&cron, Tz::UTC, now, minute).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn five_and_six_fields_and_bad_ones_name_the_field() {
        assert!(parse_cron("*/5 * * * *").is_ok());
        assert!(parse_cron("*/1 * * * * *").is_ok());
        assert_eq!(parse_cron("* * * *").expect_err("4").field, "cron");
        assert_eq!(parse_cron("61 * * * *").expect_err("range").field, "cron");
        assert_eq!(parse_cron("0 0 0 1 1 * 2030").expect_err("7").field, "cron");
        assert_eq!(
            parse_timezone("Europe/Bucuresti").expect_err("tz").field,
            "timezone"
        );
    }

    #[test]
    fn every_second_fires_every_second() {
        let cron = parse_cron("* * * * * *").expect("cron");
        let fires = next_fires(&cron, Tz::UTC, at("2026-11-28T10:00:00Z"), 3);
        assert_eq!(
            fires,
            vec![
                at("2026-11-28T10:00:01Z"),
                at("2026-11-28T10:00:02Z"),
                at("2026-11-28T10:00:03Z")
            ]
        );
    }

    #[test]
    fn daily_at_nine_in_bucharest_follows_daylight_saving() {
        let cron = parse_cron("0 9 * * *").expect("cron");
        let tz: Tz = "Europe/Bucharest".parse().expect("tz");
        // Summer time (UTC+3) ends on 2026-10-25 at 04:00 local.
        let fires = next_fires(&cron, tz, at("2026-10-23T12:00:00Z"), 3);
        assert_eq!(
            fires,
            vec![
                at("2026-10-24T06:00:00Z"),
                at("2026-10-25T07:00:00Z"),
                at("2026-10-26T07:00:00Z")
            ]
        );
        // Summer time starts on 2026-03-29 at 03:00 local.
        let fires = next_fires(&cron, tz, at("2026-03-28T00:00:00Z"), 2);
        assert_eq!(
            fires,
            vec![at("2026-03-28T07:00:00Z"), at("2026-03-29T06:00:00Z")]
        );
        for f in &fires {
            assert_eq!(f.with_timezone(&tz).format("%H:%M").to_string(), "09:00");
        }
    }

    #[test]
    fn a_daily_time_inside_the_clock_change_fires_once() {
        let cron = parse_cron("30 3 * * *").expect("cron");
        let tz: Tz = "Europe/Bucharest".parse().expect("tz");
        // 2026-03-29: 03:00 local jumps to 04:00, so 03:30 does not exist that day.
        let spring = next_fires(&cron, tz, at("2026-03-28T12:00:00Z"), 2);
        // 2026-10-25: 04:00 local goes back to 03:00, so 03:30 happens twice.
        let autumn = next_fires(&cron, tz, at("2026-10-24T12:00:00Z"), 2);
        assert_eq!(
            spring,
            // 04:00 local (the first instant after the gap), then 03:30 summer time.
            vec![at("2026-03-29T01:00:00Z"), at("2026-03-30T00:30:00Z")]
        );
        assert_eq!(
            autumn,
            // The first 03:30 (summer time) only, then 03:30 winter time.
            vec![at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")]
        );
    }

    #[test]
    fn templates_are_validated_like_runs() {
        let spec = |template: Value| ScheduleSpec {
            name: "orders-5min".into(),
            cron: "*/5 * * * *".into(),
            timezone: "Europe/Bucharest".into(),
            template: serde_json::from_value(template).expect("template"),
            overlap: Overlap::Skip,
            misfire: Misfire::Skip,
            jitter_s: 30,
            notify: vec![],
        };
        let ok = spec(json!({"kind": "sync", "params": {"accounts": "all", "resource": "orders"}}));
        assert!(ok.validate().is_ok());
        let bad =
            spec(json!({"kind": "sync", "params": {"accounts": "all", "resource": "invoices"}}));
        assert_eq!(
            bad.validate().expect_err("bad").field,
            "template.params.resource"
        );
        let kind = spec(json!({"kind": "reboot"}));
        assert_eq!(kind.validate().expect_err("kind").field, "template.kind");
    }
}
