//! Periods of local days: the range asked for, its buckets (day, ISO week, month) and
//! the period it is compared with.

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest range one request may cover: three years of days.
pub const MAX_DAYS: i64 = 3 * 366;

/// How a series groups its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[default]
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

/// What a period is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// As many days just before it.
    #[default]
    Previous,
    /// The same dates a year earlier.
    Year,
    None,
}

/// Local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a period cannot be used; the field it names.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("from: {0} is after to")]
    Reversed(NaiveDate),
    #[error("to: a period covers at most {MAX_DAYS} days")]
    TooLong,
}

impl PeriodError {
    /// The parameter to correct.
    pub fn field(&self) -> &'static str {
        match self {
            PeriodError::Reversed(_) => "from",
            PeriodError::TooLong => "to",
        }
    }
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::Reversed(from));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// The days asked for: `to` by default `today`, `from` by default the `days` days
    /// ending with `to`.
    pub fn chosen(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
        days: i64,
    ) -> Result<Period, PeriodError> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| Period::ending(to, days).from);
        Period::new(from, to)
    }

    /// `days` days ending with `to`.
    pub fn ending(to: NaiveDate, days: i64) -> Period {
        Period {
            from: to - Duration::days(days - 1),
            to,
        }
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Every day, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let from = self.from;
        (0..self.days()).map(move |i| from + Duration::days(i))
    }

    /// The period this one is compared with, if any.
    pub fn compared(&self, compare: Compare) -> Option<Period> {
        match compare {
            Compare::None => None,
            Compare::Previous => Some(Period {
                from: self.from - Duration::days(self.days()),
                to: self.from - Duration::days(1),
            }),
            // 29 February falls back to the 28th.
            Compare::Year => Some(Period {
                from: self.from.checked_sub_months(Months::new(12))?,
                to: self.to.checked_sub_months(Months::new(12))?,
            }),
        }
    }

    /// The buckets of `interval` that cover the period, each cut to it.
    pub fn buckets(&self, interval: Interval) -> Vec<Period> {
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            let end = bucket_end(start, interval).min(self.to);
            out.push(Period {
                from: start,
                to: end,
            });
            start = end + Duration::days(1);
        }
        out
    }
}

/// The last day of the bucket that holds `day`.
fn bucket_end(day: NaiveDate, interval: Interval) -> NaiveDate {
    match interval {
        Interval::Day => day,
        Interval::Week => day + Duration::days(6 - i64::from(day.weekday().num_days_from_monday())),
        Interval::Month => {
            let first = day.with_day(1).unwrap_or(day);
            first
                .checked_add_months(Months::new(1))
                .map_or(day, |next| next - Duration::days(1))
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
    fn weeks_run_monday_to_sunday_and_are_cut_to_the_period() {
        let p = Period::new(d("2026-03-25"), d("2026-04-07")).expect("period");
        let weeks: Vec<(String, String)> = p
            .buckets(Interval::Week)
            .iter()
            .map(|b| (b.from.to_string(), b.to.to_string()))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2026-03-25".into(), "2026-03-29".into()),
                ("2026-03-30".into(), "2026-04-05".into()),
                ("2026-04-06".into(), "2026-04-07".into()),
            ]
        );
    }

    #[test]
    fn months_and_comparisons() {
        let p = Period::new(d("2026-01-15"), d("2026-03-31")).expect("period");
        let months = p.buckets(Interval::Month);
        assert_eq!(months.len(), 3);
        assert_eq!(months[1].from, d("2026-02-01"));
        assert_eq!(months[1].to, d("2026-02-28"));
        let before = p.compared(Compare::Previous).expect("previous");
        assert_eq!((before.from, before.to), (d("2025-10-31"), d("2026-01-14")));
        assert_eq!(before.days(), p.days());
        let leap = Period::new(d("2028-02-29"), d("2028-03-01")).expect("period");
        let year = leap.compared(Compare::Year).expect("year");
        assert_eq!((year.from, year.to), (d("2027-02-28"), d("2027-03-01")));
        assert!(p.compared(Compare::None).is_none());
    }

    #[test]
    fn reversed_and_too_long_periods_name_their_field() {
        let e = Period::new(d("2026-02-01"), d("2026-01-01")).expect_err("reversed");
        assert_eq!(e.field(), "from");
        let e = Period::new(d("2020-01-01"), d("2026-01-01")).expect_err("too long");
        assert_eq!(e.field(), "to");
    }
}
