//! What a report covers: which accounts, which period, in which language.

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{analytics::Period, params::ParamError};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// One eMAG account, or `all` (the default).
    #[serde(default = "all")]
    pub account: String,
    #[serde(default)]
    pub period: ReportPeriod,
    #[serde(default)]
    pub locale: ReportLocale,
}

fn all() -> String {
    "all".into()
}

/// The report's language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportLocale {
    #[default]
    Ro,
    En,
}

/// `"last_week"` (Monday to Sunday before the current week), `"last_month"`, or
/// `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}` (local days, both included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportPeriod {
    #[default]
    LastWeek,
    LastMonth,
    Days {
        from: NaiveDate,
        to: NaiveDate,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Days {
    from: NaiveDate,
    to: NaiveDate,
}

impl Serialize for ReportPeriod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            ReportPeriod::LastWeek => s.serialize_str("last_week"),
            ReportPeriod::LastMonth => s.serialize_str("last_month"),
            ReportPeriod::Days { from, to } => Days { from, to }.serialize(s),
        }
    }
}

// By hand: an untagged enum would only say that nothing matched.
impl<'de> Deserialize<'de> for ReportPeriod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let expected =
            "last_week, last_month or {\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}";
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) if s == "last_week" => Ok(ReportPeriod::LastWeek),
            serde_json::Value::String(s) if s == "last_month" => Ok(ReportPeriod::LastMonth),
            v @ serde_json::Value::Object(_) => serde_json::from_value::<Days>(v)
                .map(|d| ReportPeriod::Days {
                    from: d.from,
                    to: d.to,
                })
                .map_err(|e| D::Error::custom(format!("{e}; expected {expected}"))),
            other => Err(D::Error::custom(format!(
                "unknown period {other}; expected {expected}"
            ))),
        }
    }
}

impl ReportParams {
    pub fn validate(&self) -> Result<(), ParamError> {
        if self.account.trim().is_empty() {
            return Err(ParamError::new(
                "params.account",
                "must name an eMAG account, or be \"all\"",
            ));
        }
        if let ReportPeriod::Days { from, to } = self.period {
            Period::new(from, to).map_err(|e| {
                ParamError::new(format!("params.period.{}", e.field()), e.to_string())
            })?;
        }
        Ok(())
    }

    /// The account asked for; `None` for every account.
    pub fn account(&self) -> Option<&str> {
        Some(self.account.as_str()).filter(|a| *a != "all")
    }
}

impl ReportPeriod {
    /// The local days it covers, seen from local day `today`.
    pub fn resolve(self, today: NaiveDate) -> Period {
        match self {
            ReportPeriod::LastWeek => {
                let monday =
                    today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                Period::ending(monday - Duration::days(1), 7)
            }
            ReportPeriod::LastMonth => {
                let first = today.with_day(1).unwrap_or(today);
                let start = first.checked_sub_months(Months::new(1)).unwrap_or(first);
                Period {
                    from: start,
                    to: first - Duration::days(1),
                }
            }
            ReportPeriod::Days { from, to } => Period { from, to },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn named_periods_end_before_the_current_week_or_month() {
        // Monday 7 December 2026.
        let week = ReportPeriod::LastWeek.resolve(d("2026-12-07"));
        assert_eq!((week.from, week.to), (d("2026-11-30"), d("2026-12-06")));
        let week = ReportPeriod::LastWeek.resolve(d("2026-12-13"));
        assert_eq!((week.from, week.to), (d("2026-11-30"), d("2026-12-06")));
        let month = ReportPeriod::LastMonth.resolve(d("2026-03-15"));
        assert_eq!((month.from, month.to), (d("2026-02-01"), d("2026-02-28")));
    }

    #[test]
    fn params_read_and_default() {
        let p: ReportParams = serde_json::from_str("{}").expect("defaults");
        assert_eq!(p.account(), None);
        assert_eq!(p.period, ReportPeriod::LastWeek);
        assert_eq!(p.locale, ReportLocale::Ro);
        let p: ReportParams = serde_json::from_str(
            r#"{"account": "main", "period": {"from": "2026-11-01", "to": "2026-11-30"}, "locale": "en"}"#,
        )
        .expect("days");
        assert_eq!(p.account(), Some("main"));
        assert_eq!(
            serde_json::to_value(p.period).expect("json")["to"],
            "2026-11-30"
        );
        let bad = serde_json::from_str::<ReportParams>(r#"{"period": "yesterday"}"#);
        assert!(bad.expect_err("refused").to_string().contains("last_week"));
        let reversed = ReportParams {
            period: ReportPeriod::Days {
                from: d("2026-12-01"),
                to: d("2026-11-01"),
            },
            ..serde_json::from_str("{}").expect("defaults")
        };
        assert_eq!(
            reversed.validate().expect_err("reversed").field,
            "params.period.from"
        );
    }
}
