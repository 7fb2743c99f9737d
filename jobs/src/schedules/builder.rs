//! The cron builder: "every N minutes", "hourly at :MM", "daily at HH:MM", "weekly on
//! these days at HH:MM", "monthly on day D at HH:MM", or a raw expression, turned into
//! the 5-field expression a schedule stores; and back, so an edit form opens on the
//! choice that made the expression. A problem names its builder field.

use serde::{Deserialize, Serialize};

use super::spec::parse_cron;
use crate::params::ParamError;

/// Weekdays as cron numbers them (0 = Sunday), in the order a Romanian week runs.
pub const DAYS: [(&str, u8); 7] = [
    ("mon", 1),
    ("tue", 2),
    ("wed", 3),
    ("thu", 4),
    ("fri", 5),
    ("sat", 6),
    ("sun", 0),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    EveryMinutes,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Raw,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::EveryMinutes,
        Mode::Hourly,
        Mode::Daily,
        Mode::Weekly,
        Mode::Monthly,
        Mode::Raw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::EveryMinutes => "every_minutes",
            Mode::Hourly => "hourly",
            Mode::Daily => "daily",
            Mode::Weekly => "weekly",
            Mode::Monthly => "monthly",
            Mode::Raw => "raw",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// What the builder's fields hold, as a form sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builder {
    pub mode: Mode,
    /// Every this many minutes (1–59; it must divide the hour evenly to keep the
    /// interval even, e.g. 5, 10, 15, 20, 30).
    pub every: u32,
    /// Minute past the hour (hourly).
    pub minute: u32,
    /// `HH:MM` (daily, weekly, monthly).
    pub hour: u32,
    /// Cron weekday numbers (weekly).
    pub days: Vec<u8>,
    /// Day of the month, 1–31 (monthly; a month without it is skipped).
    pub day: u32,
    /// The expression itself (raw).
    pub expression: String,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            mode: Mode::Daily,
            every: 15,
            minute: 0,
            hour: 6,
            days: vec![1],
            day: 1,
            expression: String::new(),
        }
    }
}

/// `HH:MM` → (hour, minute).
pub fn parse_time(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

impl Builder {
    /// The 5-field expression, checked by the same parser schedules use.
    pub fn to_cron(&self) -> Result<String, ParamError> {
        let expr = match self.mode {
            Mode::EveryMinutes => {
                if !(1..=59).contains(&self.every) || 60 % self.every != 0 {
                    return Err(ParamError::new(
                        "every",
                        "must divide the hour evenly: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30",
                    ));
                }
                if self.every == 1 {
                    "* * * * *".to_owned()
                } else {
                    format!("*/{} * * * *", self.every)
                }
            }
            Mode::Hourly => {
                if self.minute > 59 {
                    return Err(ParamError::new("minute", "must be between 0 and 59"));
                }
                format!("{} * * * *", self.minute)
            }
            Mode::Daily => format!("{} {} * * *", self.minute, self.hour),
            Mode::Weekly => {
                if self.days.is_empty() {
                    return Err(ParamError::new("days", "choose at least one day"));
                }
                let mut days = self.days.clone();
                days.sort_unstable();
                days.dedup();
                let list: Vec<String> = days.iter().map(u8::to_string).collect();
                format!("{} {} * * {}", self.minute, self.hour, list.join(","))
            }
            Mode::Monthly => {
                if !(1..=31).contains(&self.day) {
                    return Err(ParamError::new("day", "must be between 1 and 31"));
                }
                format!("{} {} {} * *", self.minute, self.hour, self.day)
            }
            Mode::Raw => self.expression.trim().to_owned(),
        };
        parse_cron(&expr).map_err(|e| {
            let field = if self.mode == Mode::Raw {
                "expression"
            } else {
                "time"
            };
            ParamError::new(field, e.message)
        })?;
        Ok(expr)
    }

    /// The builder choice that writes `expr`, or `raw` holding it.
    pub fn from_cron(expr: &str) -> Builder {
        let raw = Builder {
            mode: Mode::Raw,
            expression: expr.to_owned(),
            ..Builder::default()
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return raw;
        };
        let num = |s: &str| s.parse::<u32>().ok();
        let found = match (num(minute), num(hour), dom, month, dow) {
            _ if month != "*" => None,
            (None, None, "*", _, "*") if minute == "*" && hour == "*" => Some(Builder {
                mode: Mode::EveryMinutes,
                every: 1,
                ..Builder::default()
            }),
            (None, None, "*", _, "*") if hour == "*" => minute
                .strip_prefix("*/")
                .and_then(num)
                .map(|every| Builder {
                    mode: Mode::EveryMinutes,
                    every,
                    ..Builder::default()
                }),
            (Some(m), None, "*", _, "*") if hour == "*" => Some(Builder {
                mode: Mode::Hourly,
                minute: m,
                ..Builder::default()
            }),
            (Some(m), Some(h), "*", _, "*") => Some(Builder {
                mode: Mode::Daily,
                minute: m,
                hour: h,
                ..Builder::default()
            }),
            (Some(m), Some(h), "*", _, days) => days
                .split(',')
                .map(|d| d.parse::<u8>().ok().filter(|d| *d <= 6))
                .collect::<Option<Vec<u8>>>()
                .map(|days| Builder {
                    mode: Mode::Weekly,
                    minute: m,
                    hour: h,
                    days,
                    ..Builder::default()
                }),
            (Some(m), Some(h), dom, _, "*") => num(dom).map(|day| Builder {
                mode: Mode::Monthly,
                minute: m,
                hour: h,
                day,
                ..Builder::default()
            }),
            _ => None,
        };
        // Only if it writes back the same expression (no "90 minutes" read as valid).
        match found {
            Some(b) if b.to_cron().as_deref() == Ok(expr.trim()) => b,
            _ => raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(days: Vec<u8>) -> Builder {
        Builder {
            mode: Mode::Weekly,
            hour: 8,
            minute: 30,
            days,
            ..Builder::default()
        }
    }

    #[test]
    fn each_choice_writes_its_expression_and_reads_back() {
        let cases = [
            (
                Builder {
                    mode: Mode::EveryMinutes,
                    every: 15,
                    ..Builder::default()
                },
                "*/15 * * * *",
            ),
            (
                Builder {
                    mode: Mode::Hourly,
                    minute: 5,
                    ..Builder::default()
                },
                "5 * * * *",
            ),
            (
                Builder {
                    mode: Mode::Daily,
                    hour: 6,
                    minute: 0,
                    ..Builder::default()
                },
                "0 6 * * *",
            ),
            (weekly(vec![4, 1]), "30 8 * * 1,4"),
            (
                Builder {
                    mode: Mode::Monthly,
                    hour: 23,
                    minute: 45,
                    day: 28,
                    ..Builder::default()
                },
                "45 23 28 * *",
            ),
        ];
        for (builder, expr) in cases {
            assert_eq!(builder.to_cron().as_deref(), Ok(expr));
            let back = Builder::from_cron(expr);
            assert_eq!(back.mode, builder.mode, "{expr}");
            assert_eq!(back.to_cron().as_deref(), Ok(expr));
        }
    }

    #[test]
    fn problems_name_their_field() {
        let bad = |b: Builder| b.to_cron().unwrap_err().field;
        let every = |every| Builder {
            mode: Mode::EveryMinutes,
            every,
            ..Builder::default()
        };
        assert_eq!(bad(every(7)), "every");
        assert_eq!(bad(every(0)), "every");
        assert_eq!(bad(weekly(vec![])), "days");
        let raw = Builder {
            mode: Mode::Raw,
            expression: "61 * * * *".into(),
            ..Builder::default()
        };
        assert_eq!(bad(raw), "expression");
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("08:30"), Some((8, 30)));
    }

    #[test]
    fn expressions_the_builder_cannot_write_stay_raw() {
        for expr in [
            "0 9 * 1 *",
            "0 9 1-5 * *",
            "*/7 * * * *",
            "0 0 9 * * *",
            "0 9 * * MON",
        ] {
            let b = Builder::from_cron(expr);
            assert_eq!(b.mode, Mode::Raw, "{expr}");
            assert_eq!(b.expression, expr);
        }
    }
}
