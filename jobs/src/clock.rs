//! eMAG's clock: naive `YYYY-mm-dd HH:ii:ss` strings in the platform's local time
//! (docs/emag.md §4.5). Parsed as platform-local and stored as UTC (§5.6.6).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use entity::emag_account::Platform;

pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// eMAG allows at most one month between `…After` and `…Before`; 30 days is always
/// within it.
pub const WINDOW: Duration = Duration::days(30);

/// The time zone of an account's platform; Romania's when the base URL is custom.
pub fn platform_tz(platform: Option<Platform>) -> Tz {
    match platform {
        Some(Platform::Bg) => chrono_tz::Europe::Sofia,
        Some(Platform::Hu) => chrono_tz::Europe::Budapest,
        Some(Platform::Ro) | None => chrono_tz::Europe::Bucharest,
    }
}

/// `YYYY-mm-dd HH:MM:SS` or `YYYY-mm-dd` (midnight).
pub fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, FORMAT).ok().or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

pub fn format(t: NaiveDateTime) -> String {
    t.format(FORMAT).to_string()
}

/// A platform-local time as UTC. In the autumn DST overlap the earlier instant is taken;
/// a time in the spring gap (which eMAG should never send) is read one hour later.
pub fn to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => to_utc(tz, local + Duration::hours(1)),
    }
}

pub fn now_local(tz: Tz) -> NaiveDateTime {
    Utc::now().with_timezone(&tz).naive_local()
}

/// `[from, to]` cut into consecutive windows of at most [`WINDOW`].
pub fn windows(from: NaiveDateTime, to: NaiveDateTime) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + WINDOW).min(to);
        out.push((format(start), format(end)));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range_in_30_day_steps() {
        let from = parse_local("2026-01-01").expect("date");
        let to = parse_local("2026-03-15 12:00:00").expect("date");
        let w = windows(from, to);
        assert_eq!(w.len(), 3);
        assert_eq!(
            w[0],
            ("2026-01-01 00:00:00".into(), "2026-01-31 00:00:00".into())
        );
        assert_eq!(w[2].1, "2026-03-15 12:00:00");
        assert!(windows(to, from).is_empty());
    }

    #[test]
    fn bucharest_local_times_across_dst() {
        let tz = platform_tz(Some(Platform::Ro));
        // Summer: UTC+3; winter: UTC+2; the repeated hour of 25 Oct 2026 takes the first.
        let summer = to_utc(tz, parse_local("2026-07-01 12:00:00").expect("t"));
        assert_eq!(summer.to_rfc3339(), "2026-07-01T09:00:00+00:00");
        let winter = to_utc(tz, parse_local("2026-12-01 12:00:00").expect("t"));
        assert_eq!(winter.to_rfc3339(), "2026-12-01T10:00:00+00:00");
        let overlap = to_utc(tz, parse_local("2026-10-25 03:30:00").expect("t"));
        assert_eq!(overlap.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        let gap = to_utc(tz, parse_local("2026-03-29 03:30:00").expect("t"));
        assert_eq!(gap.to_rfc3339(), "2026-03-29T01:30:00+00:00");
    }
}
