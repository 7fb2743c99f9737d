//! The e-mail a subscription receives when a run ends: subject, plain text and HTML, in
//! Romanian or English, from minijinja templates (HTML escaped by the engine).

use entity::{
    job_run::{self, RunStatus},
    notification_subscription::Locale,
};
use minijinja::{Environment, context};
use uuid::Uuid;

/// A rendered message.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachment: Option<Attachment>,
}

/// A file sent with the message.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A scheduled export's file, as the message speaks of it: attached, or too large and
/// linked.
pub enum FileNote {
    Attached(Attachment),
    Linked {
        name: String,
        bytes: u64,
        link: String,
    },
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "run_ended.en.txt",
            include_str!("../../templates/run_ended.en.txt"),
        ),
        (
            "run_ended.ro.txt",
            include_str!("../../templates/run_ended.ro.txt"),
        ),
        (
            "run_ended.en.html",
            include_str!("../../templates/run_ended.en.html"),
        ),
        (
            "run_ended.ro.html",
            include_str!("../../templates/run_ended.ro.html"),
        ),
    ] {
        // The templates are part of the binary; a broken one is caught by the unit test.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "notification template does not parse");
        }
    }
    env
}

fn outcome(status: RunStatus, ro: bool) -> &'static str {
    match (status, ro) {
        (RunStatus::Succeeded, false) => "succeeded",
        (RunStatus::Succeeded, true) => "reușită",
        (RunStatus::Cancelled, false) => "cancelled",
        (RunStatus::Cancelled, true) => "anulată",
        (RunStatus::Failed | RunStatus::Dead, false) => "failed",
        (RunStatus::Failed | RunStatus::Dead, true) => "eșuată",
        (_, false) => "still running",
        (_, true) => "în desfășurare",
    }
}

fn kind_label(kind: &str, ro: bool) -> &str {
    match (kind, ro) {
        ("sync", true) => "Sincronizarea",
        ("bulk_update", true) => "Actualizarea în masă",
        ("export", true) => "Exportul",
        ("notification", true) => "Notificarea",
        ("report", true) => "Raportul",
        ("sync", false) => "Sync",
        ("bulk_update", false) => "Bulk update",
        ("export", false) => "Export",
        ("report", false) => "Report",
        (other, _) => other,
    }
}

fn duration(run: &job_run::Model) -> String {
    let (Some(start), Some(end)) = (run.started_at, run.finished_at) else {
        return "-".into();
    };
    let secs = (end - start).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Why a recipient gets the message, said in its footer.
pub enum Reason {
    Subscription(Uuid),
    /// A schedule's `notify` list; the schedule's name.
    Schedule(String),
    /// A notification run created directly through the API.
    Request,
}

impl Reason {
    fn text(&self, ro: bool) -> String {
        match (self, ro) {
            (Reason::Subscription(id), false) => format!("a notification subscription ({id})"),
            (Reason::Subscription(id), true) => format!("unui abonament la notificări ({id})"),
            (Reason::Schedule(name), false) => format!("the schedule \"{name}\""),
            (Reason::Schedule(name), true) => format!("programării „{name}”"),
            (Reason::Request, false) => "a request made to magflow".into(),
            (Reason::Request, true) => "unei cereri făcute către magflow".into(),
        }
    }
}

/// The message about `run` in `locale`.
pub fn run_ended(
    run: &job_run::Model,
    locale: Locale,
    link: &str,
    reason: &Reason,
    file: Option<FileNote>,
) -> Result<Rendered, minijinja::Error> {
    let ro = locale == Locale::Ro;
    let account = run.account.as_deref().unwrap_or(if ro {
        "toate conturile"
    } else {
        "all accounts"
    });
    let subject = if ro {
        format!(
            "[magflow] {} {} ({account}): {}",
            kind_label(run.kind.as_str(), true),
            outcome(run.status, true),
            run.processed
        )
    } else {
        format!(
            "[magflow] {} {} ({account}): {} items",
            kind_label(run.kind.as_str(), false),
            outcome(run.status, false),
            run.processed
        )
    };
    let colour = match run.status {
        RunStatus::Succeeded => "#1e7b34",
        RunStatus::Cancelled => "#8a6d00",
        _ => "#b00020",
    };
    let ctx = context! {
        subject => subject.clone(),
        outcome => outcome(run.status, ro),
        duration => duration(run),
        link => link,
        reason => reason.text(ro),
        colour => colour,
        file => file.as_ref().map(|f| match f {
            FileNote::Attached(a) => context! { name => a.name, attached => true },
            FileNote::Linked { name, bytes, link } => context! {
                name => name, attached => false, link => link,
                size => format!("{:.1} MB", *bytes as f64 / 1_000_000.0),
            },
        }),
        run => context! {
            id => run.id.to_string(),
            kind => run.kind.clone(),
            account => run.account.clone(),
            attempt => run.attempt,
            max_attempts => run.max_attempts,
            total => run.total,
            processed => run.processed,
            created => run.created,
            updated => run.updated,
            unchanged => run.unchanged,
            failed => run.failed,
            error_category => run.error_category.map(|c| c.as_str()),
            error_message => run.error_message.clone(),
        },
    };
    let env = environment();
    let lang = if ro { "ro" } else { "en" };
    Ok(Rendered {
        text: env
            .get_template(&format!("run_ended.{lang}.txt"))?
            .render(&ctx)?,
        html: env
            .get_template(&format!("run_ended.{lang}.html"))?
            .render(&ctx)?,
        subject,
        attachment: match file {
            Some(FileNote::Attached(a)) => Some(a),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn both_locales_render_every_part() {
        let now = Utc::now();
        let run = job_run::Model {
            id: Uuid::now_v7(),
            parent_id: None,
            kind: entity::job_run::JobKind::Sync,
            queue_job_id: None,
            account: Some("main".into()),
            params: json!({}),
            status: RunStatus::Failed,
            attempt: 5,
            max_attempts: 5,
            total: Some(100),
            processed: 40,
            created: 30,
            updated: 10,
            unchanged: 0,
            failed: 0,
            pages_done: 1,
            pages_total: Some(1),
            emag_requests: 3,
            rate_limit_waits: 0,
            emag_errors: 3,
            rate_limited: 0,
            emag_latency_ms: 90,
            lock_key: None,
            checkpoint: None,
            throughput: None,
            eta_seconds: None,
            error_category: Some(entity::job_run::ErrorCategory::BadCredentials),
            error_message: Some("eMAG refused <the> password".into()),
            cancel_requested: false,
            worker_id: None,
            heartbeat_at: None,
            next_attempt_at: None,
            revision: 1,
            created_at: now,
            started_at: Some(now - chrono::Duration::seconds(75)),
            finished_at: Some(now),
            updated_at: now,
            result: None,
            announced: false,
            schedule_id: None,
            scheduled_for: None,
            discarded_at: None,
        };
        for &locale in Locale::ALL {
            let m = run_ended(
                &run,
                locale,
                "http://x/run",
                &Reason::Schedule("nightly <offers>".into()),
                None,
            )
            .expect("renders");
            assert!(m.subject.contains("main"), "{}", m.subject);
            for part in [&m.text, &m.html] {
                assert!(part.contains(&run.id.to_string()));
                assert!(part.contains("40"));
                assert!(part.contains("bad_credentials"));
                assert!(part.contains("1 min 15 s"));
            }
            assert!(m.html.contains("&lt;the&gt;"), "HTML is escaped");
            assert!(
                m.html.contains("nightly &lt;offers&gt;"),
                "the reason is escaped"
            );
            assert!(m.text.contains("<the>"), "text is not");
        }
        let ro =
            run_ended(&run, Locale::Ro, "http://x/run", &Reason::Request, None).expect("renders");
        assert!(
            ro.subject.contains("Sincronizarea eșuată"),
            "{}",
            ro.subject
        );
        assert!(ro.attachment.is_none());

        // A scheduled export's file: attached, or over the limit and linked.
        let attached = || {
            Some(FileNote::Attached(Attachment {
                name: "magflow-offers.csv".into(),
                content_type: "text/csv; charset=utf-8",
                bytes: b"id\n1\n".to_vec(),
            }))
        };
        let reason = Reason::Schedule("nightly".into());
        for (locale, says) in [(Locale::En, "is attached"), (Locale::Ro, "este atașat")] {
            let m = run_ended(&run, locale, "http://x/run", &reason, attached()).expect("renders");
            assert!(m.text.contains(says) && m.html.contains(says), "{}", m.text);
            assert_eq!(m.attachment.map(|a| a.bytes), Some(b"id\n1\n".to_vec()));
        }
        let linked = FileNote::Linked {
            name: "magflow-offers.xlsx".into(),
            bytes: 12_500_000,
            link: "http://x/api/v1/exports/1/file".into(),
        };
        let m =
            run_ended(&run, Locale::En, "http://x/run", &reason, Some(linked)).expect("renders");
        assert!(m.attachment.is_none());
        assert!(
            m.text.contains("http://x/api/v1/exports/1/file"),
            "{}",
            m.text
        );
        // minijinja escapes `/` in HTML.
        assert!(m.html.contains("exports&#x2f;1&#x2f;file"), "{}", m.html);
        for part in [&m.text, &m.html] {
            assert!(part.contains("12.5 MB"), "{part}");
        }
    }
}
