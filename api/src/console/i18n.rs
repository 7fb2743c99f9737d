//! The console's two languages. Every string a page shows comes from `locales/ro.json`
//! or `locales/en.json` (same keys, checked by a test), through `t.<key>` in templates;
//! numbers and dates are written the way each language writes them.

use std::{collections::BTreeMap, sync::LazyLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A language of the console (Romanian is the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Ro,
    En,
}

impl From<entity::user::Locale> for Locale {
    fn from(l: entity::user::Locale) -> Locale {
        match l {
            entity::user::Locale::Ro => Locale::Ro,
            entity::user::Locale::En => Locale::En,
        }
    }
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::Ro => "ro",
            Locale::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Locale> {
        match code {
            "ro" => Some(Locale::Ro),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The locale a browser asks for in `Accept-Language`, for pages before sign-in.
    pub fn from_accept(header: Option<&str>) -> Locale {
        let first = header
            .and_then(|h| h.split(',').next())
            .map(|l| l.trim().to_ascii_lowercase());
        match first {
            Some(l) if l.starts_with("en") => Locale::En,
            _ => Locale::Ro,
        }
    }

    /// Every string of this language, by key.
    pub fn strings(self) -> &'static BTreeMap<String, String> {
        static RO: LazyLock<BTreeMap<String, String>> =
            LazyLock::new(|| parse(include_str!("locales/ro.json")));
        static EN: LazyLock<BTreeMap<String, String>> =
            LazyLock::new(|| parse(include_str!("locales/en.json")));
        match self {
            Locale::Ro => &RO,
            Locale::En => &EN,
        }
    }

    /// One string; the key itself if it is missing (a test keeps none missing).
    pub fn text(self, key: &str) -> &str {
        self.strings().get(key).map_or(key, String::as_str)
    }

    /// `1234567` as `1.234.567` (ro) or `1,234,567` (en).
    pub fn number(self, n: i64) -> String {
        let sep = match self {
            Locale::Ro => '.',
            Locale::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// An amount as eMAG states it (`"5340.7700"`) in `currency`: `5.340,77 RON` (ro),
    /// `5,340.77 RON` (en); two decimals, more only when they are not zeros. Text that
    /// is not a number is shown as it is.
    pub fn money(self, amount: &str, currency: &str) -> String {
        let Ok(value) = amount.trim().parse::<rust_decimal::Decimal>() else {
            return amount.to_owned();
        };
        let value = value.normalize();
        let places = value.scale().max(2);
        let text = format!("{:.*}", places as usize, value.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let whole: i64 = whole.parse().unwrap_or(0);
        let decimal = match self {
            Locale::Ro => ',',
            Locale::En => '.',
        };
        let sign = if value.is_sign_negative() && !value.is_zero() {
            "-"
        } else {
            ""
        };
        format!("{sign}{}{decimal}{fraction} {currency}", self.number(whole))
    }

    /// A moment in the user's zone: `02.12.2026 14:30` (ro), `2 Dec 2026, 14:30` (en).
    pub fn datetime(self, at: DateTime<Utc>, tz: Tz) -> String {
        let local = at.with_timezone(&tz);
        match self {
            Locale::Ro => local.format("%d.%m.%Y %H:%M").to_string(),
            Locale::En => local.format("%-d %b %Y, %H:%M").to_string(),
        }
    }

    /// A length of time, roughly: `45 s`, `12 min`, `3 h`, `2 zile`.
    pub fn duration(self, secs: f64) -> String {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "rounded seconds fit an i64"
        )]
        let secs = secs.max(0.0).round() as i64;
        match secs {
            0..60 => format!("{secs} s"),
            60..3600 => format!("{} min", secs / 60),
            3600..86_400 => format!("{} h", secs / 3600),
            _ => format!("{} {}", secs / 86_400, self.text("unit_days")),
        }
    }

    /// How long ago, roughly: `acum 5 min` / `5 min ago`.
    pub fn ago(self, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let secs = (now - at).num_seconds().max(0);
        let (n, unit) = match secs {
            0..60 => (secs, "s"),
            60..3600 => (secs / 60, "min"),
            3600..86_400 => (secs / 3600, "h"),
            _ => (secs / 86_400, self.text("unit_days")),
        };
        match self {
            Locale::Ro => format!("acum {n} {unit}"),
            Locale::En => format!("{n} {unit} ago"),
        }
    }
}

fn parse(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_else(|e| {
        // Checked by a unit test; a broken file shows keys rather than stopping the API.
        tracing::error!(error = %e, "a console locale file does not parse");
        BTreeMap::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_string() {
        let ro: Vec<_> = Locale::Ro.strings().keys().collect();
        let en: Vec<_> = Locale::En.strings().keys().collect();
        assert!(ro.len() > 50, "ro.json did not load: {}", ro.len());
        assert_eq!(ro, en, "ro.json and en.json must have the same keys");
        for l in [Locale::Ro, Locale::En] {
            for (k, v) in l.strings() {
                assert!(!v.trim().is_empty(), "{}: {k} is empty", l.code());
            }
        }
    }

    #[test]
    fn money_by_language() {
        assert_eq!(Locale::Ro.money("5340.7700", "RON"), "5.340,77 RON");
        assert_eq!(Locale::En.money("5340.7700", "RON"), "5,340.77 RON");
        assert_eq!(Locale::Ro.money("19.9", "BGN"), "19,90 BGN");
        assert_eq!(
            Locale::En.money("1234567.1234", "HUF"),
            "1,234,567.1234 HUF"
        );
        assert_eq!(Locale::En.money("-3", "RON"), "-3.00 RON");
        assert_eq!(Locale::En.money("n/a", "RON"), "n/a");
    }

    #[test]
    fn numbers_and_dates_by_language() {
        assert_eq!(Locale::Ro.number(1_234_567), "1.234.567");
        assert_eq!(Locale::En.number(-1_234), "-1,234");
        assert_eq!(Locale::En.number(999), "999");
        let at: DateTime<Utc> = "2026-12-02T12:30:00Z".parse().expect("time");
        let tz: Tz = "Europe/Bucharest".parse().expect("tz");
        assert_eq!(Locale::Ro.datetime(at, tz), "02.12.2026 14:30");
        assert_eq!(Locale::En.datetime(at, tz), "2 Dec 2026, 14:30");
    }
}
