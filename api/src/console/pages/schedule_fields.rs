//! The schedule form's fields as a browser sends them (text), read into the cron
//! builder's choice, its preview and the spec `jobs::schedules` checks and stores; and a
//! stored schedule written back into them.

use std::collections::BTreeMap;

use chrono::Utc;
use entity::schedule;
use jobs::schedules::{
    builder::{self, Builder, DAYS, Mode},
    spec::{Misfire, Overlap, ScheduleSpec, Template, next_fires, parse_timezone},
};
use serde::Deserialize;

/// The form's fields, as text (a form's fields are text, and flattened structs read
/// every field as text).
#[derive(Deserialize, Default, Clone)]
pub struct Fields {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub params: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub every: String,
    #[serde(default)]
    pub minute: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub expression: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub overlap: String,
    #[serde(default)]
    pub misfire: String,
    #[serde(default)]
    pub jitter_s: String,
    #[serde(default)]
    pub notify: String,
    /// Set by the Preview button: show, do not save.
    pub preview: Option<String>,
    /// The weekday boxes arrive as `day_mon=on`, …
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

pub type Errors = BTreeMap<String, String>;

fn number(s: &str, field: &str, errors: &mut Errors) -> u32 {
    s.trim().parse().unwrap_or_else(|_| {
        errors.insert(field.into(), "must be a whole number".into());
        0
    })
}

impl Fields {
    /// The builder's choice, or the fields that do not parse.
    pub fn builder(&self, errors: &mut Errors) -> Builder {
        let mode = Mode::parse(&self.mode).unwrap_or_else(|| {
            errors.insert("mode".into(), "choose how often".into());
            Mode::Daily
        });
        let mut b = Builder {
            mode,
            expression: self.expression.clone(),
            ..Builder::default()
        };
        match mode {
            Mode::EveryMinutes => b.every = number(&self.every, "every", errors),
            Mode::Hourly => b.minute = number(&self.minute, "minute", errors),
            Mode::Daily | Mode::Weekly | Mode::Monthly => {
                match builder::parse_time(&self.time) {
                    Some((h, m)) => (b.hour, b.minute) = (h, m),
                    None => {
                        errors.insert("time".into(), "a time as HH:MM, e.g. 08:30".into());
                    }
                }
                if mode == Mode::Weekly {
                    b.days = DAYS
                        .iter()
                        .filter(|(name, _)| self.rest.contains_key(&format!("day_{name}")))
                        .map(|(_, n)| *n)
                        .collect();
                }
                if mode == Mode::Monthly {
                    b.day = number(&self.day, "day", errors);
                }
            }
            Mode::Raw => {}
        }
        b
    }

    /// The expression and the next five fires, or what stops them.
    pub fn preview(&self) -> (Option<String>, Vec<String>, Errors) {
        let mut errors = Errors::new();
        let b = self.builder(&mut errors);
        let tz = parse_timezone(self.timezone.trim());
        if let Err(e) = &tz {
            errors.insert("timezone".into(), e.message.clone());
        }
        if !errors.is_empty() {
            return (None, vec![], errors);
        }
        match (b.to_cron(), tz) {
            (Ok(expr), Ok(tz)) => {
                let cron = jobs::schedules::spec::parse_cron(&expr).ok();
                let fires = cron
                    .map(|c| next_fires(&c, tz, Utc::now(), 5))
                    .unwrap_or_default()
                    .iter()
                    .map(|t| t.to_rfc3339())
                    .collect();
                (Some(expr), fires, errors)
            }
            (Err(e), _) => {
                errors.insert(e.field, e.message);
                (None, vec![], errors)
            }
            (_, Err(_)) => (None, vec![], errors),
        }
    }

    /// The schedule to store, or every field's problem this form can see by itself.
    pub fn spec(&self) -> Result<ScheduleSpec, Errors> {
        let (expr, _, mut errors) = self.preview();
        let params = if self.params.trim().is_empty() {
            serde_json::json!({})
        } else {
            serde_json::from_str(&self.params).unwrap_or_else(|e| {
                errors.insert("params".into(), format!("not JSON: {e}"));
                serde_json::Value::Null
            })
        };
        let jitter_s = if self.jitter_s.trim().is_empty() {
            0
        } else {
            number(&self.jitter_s, "jitter_s", &mut errors)
        };
        let overlap = Overlap::parse(&self.overlap).unwrap_or_else(|| {
            errors.insert("overlap".into(), "choose skip or allow".into());
            Overlap::Skip
        });
        let misfire = Misfire::parse(&self.misfire).unwrap_or_else(|| {
            errors.insert("misfire".into(), "choose skip or run once".into());
            Misfire::Skip
        });
        let notify = self
            .notify
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        match expr {
            Some(cron) if errors.is_empty() => Ok(ScheduleSpec {
                name: self.name.trim().to_owned(),
                cron,
                timezone: self.timezone.trim().to_owned(),
                template: Template {
                    kind: self.kind.clone(),
                    params,
                },
                overlap,
                misfire,
                jitter_s,
                notify,
            }),
            _ => Err(errors),
        }
    }

    /// The form filled from a stored schedule.
    pub fn of(s: &schedule::Model) -> Fields {
        let b = Builder::from_cron(&s.cron);
        let mut rest = BTreeMap::new();
        for (name, n) in DAYS {
            if b.days.contains(&n) {
                rest.insert(format!("day_{name}"), "on".to_owned());
            }
        }
        let notify: Vec<String> = serde_json::from_value(s.notify.clone()).unwrap_or_default();
        Fields {
            name: s.name.clone(),
            kind: s.template["kind"].as_str().unwrap_or_default().to_owned(),
            params: serde_json::to_string_pretty(&s.template["params"]).unwrap_or_default(),
            mode: b.mode.as_str().to_owned(),
            every: b.every.to_string(),
            minute: b.minute.to_string(),
            time: format!("{:02}:{:02}", b.hour, b.minute),
            day: b.day.to_string(),
            expression: s.cron.clone(),
            timezone: s.timezone.clone(),
            overlap: s.overlap.as_str().to_owned(),
            misfire: s.misfire.as_str().to_owned(),
            jitter_s: s.jitter_s.to_string(),
            notify: notify.join(", "),
            preview: None,
            rest,
        }
    }

    /// A new schedule's form: a daily full sync at 06:00 in the user's zone.
    pub fn new_for(time_zone: &str) -> Fields {
        let b = Builder::default();
        Fields {
            kind: "sync".into(),
            params: "{\"accounts\": \"all\", \"resource\": \"all\"}".into(),
            mode: b.mode.as_str().into(),
            every: b.every.to_string(),
            minute: b.minute.to_string(),
            time: format!("{:02}:{:02}", b.hour, b.minute),
            day: b.day.to_string(),
            timezone: time_zone.into(),
            overlap: "skip".into(),
            misfire: "skip".into(),
            jitter_s: "0".into(),
            rest: BTreeMap::from([("day_mon".to_owned(), "on".to_owned())]),
            ..Fields::default()
        }
    }
}

/// Which form field shows a problem the domain named (`template.params.accounts`,
/// `notify[2]`, `cron`).
pub fn form_field(domain: &str, mode: &str) -> String {
    match domain {
        "template.kind" => "kind".into(),
        f if f.starts_with("template") => "params".into(),
        f if f.starts_with("notify") => "notify".into(),
        "cron" if mode == "raw" => "expression".into(),
        "cron" => "cron".into(),
        f => f.into(),
    }
}
