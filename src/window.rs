//! Time windows: `--since`/`--until` (RFC 3339, a date, or relative `7d`/`24h`/`30m`) and
//! `--week YYYY-Www` (ISO week, UTC). Pure: "now" is passed in.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SecondsFormat, Utc, Weekday};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// A half-open window [since, until) in epoch milliseconds; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn contains(&self, ts_ms: i64) -> bool {
        self.since.is_none_or(|s| ts_ms >= s) && self.until.is_none_or(|u| ts_ms < u)
    }

    pub fn since_rfc3339(&self) -> Option<String> {
        self.since.map(rfc3339)
    }

    pub fn until_rfc3339(&self) -> Option<String> {
        self.until.map(rfc3339)
    }
}

pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| ms.to_string())
}

/// The UTC date of a time, `YYYY-MM-DD`.
pub fn date(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A time or week a user gave that mila cannot take.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not an RFC 3339 time, a date (YYYY-MM-DD) or a relative time like 7d, 24h or 30m")]
    NotATime(String),
    #[error("`{0}` reaches back before the earliest time mila can represent")]
    TooFarBack(String),
    #[error("`{0}` is not an ISO week like 2026-W46")]
    NotAWeek(String),
}

/// One end of a window.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<i64, TimeError> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(NaiveTime::MIN).and_utc().timestamp_millis());
    }
    if let Some(ago) = parse_relative(t) {
        // chrono's subtraction panics past its range (about 262,000 years).
        return now
            .checked_sub_signed(ago)
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| TimeError::TooFarBack(t.to_string()));
    }
    Err(TimeError::NotATime(t.to_string()))
}

fn parse_relative(t: &str) -> Option<Duration> {
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok().filter(|n| *n >= 0)?;
    match unit {
        'w' => Duration::try_weeks(n),
        'd' => Duration::try_days(n),
        'h' => Duration::try_hours(n),
        'm' => Duration::try_minutes(n),
        _ => None,
    }
}

/// `2026-W46` -> [Monday 00:00 UTC, next Monday 00:00 UTC).
pub fn parse_iso_week(text: &str) -> Result<Window, TimeError> {
    let bad = || TimeError::NotAWeek(text.to_string());
    let (y, w) = text.trim().split_once("-W").ok_or_else(bad)?;
    let (year, week): (i32, u32) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
    let start = monday.and_time(NaiveTime::MIN).and_utc();
    Ok(Window { since: Some(start.timestamp_millis()), until: Some((start + Duration::days(7)).timestamp_millis()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn parse_time_table() {
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z").unwrap().into();
        let cases: &[(&str, Option<i64>)] = &[
            ("2026-11-09T00:00:00Z", Some(at("2026-11-09T00:00:00Z"))),
            ("2026-11-09T01:00:00+01:00", Some(at("2026-11-09T00:00:00Z"))),
            ("2026-11-09T00:00:00.5Z", Some(at("2026-11-09T00:00:00.500Z"))),
            ("2026-11-09", Some(at("2026-11-09T00:00:00Z"))),
            ("7d", Some(at("2026-11-15T12:00:00Z"))),
            ("24h", Some(at("2026-11-21T12:00:00Z"))),
            ("30m", Some(at("2026-11-22T11:30:00Z"))),
            ("2w", Some(at("2026-11-08T12:00:00Z"))),
            ("0d", Some(at("2026-11-22T12:00:00Z"))),
            ("7", None),
            ("-7d", None),
            ("d", None),
            ("7y", None),
            ("2026-13-01", None),
            ("yesterday", None),
            ("99999999999d", None),
            ("9223372036854775807m", None),
            ("99999999999999999999d", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time(text, now).ok(), *want, "{text}");
        }
    }

    #[test]
    fn iso_week_table() {
        let cases = [
            ("2026-W46", Some(("2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z"))),
            ("2026-W01", Some(("2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z"))),
            ("2020-W53", Some(("2020-12-28T00:00:00Z", "2021-01-04T00:00:00Z"))),
            ("2026-W53", Some(("2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"))), // 2026 starts on a Thursday
            ("2025-W53", None),
            ("2026-W00", None),
            ("2026-46", None),
            ("W46", None),
        ];
        for (text, want) in cases {
            let got = parse_iso_week(text).ok();
            let want = want.map(|(s, u)| Window { since: Some(at(s)), until: Some(at(u)) });
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn window_is_half_open() {
        let w = parse_iso_week("2026-W46").unwrap();
        assert!(w.contains(at("2026-11-09T00:00:00Z")));
        assert!(w.contains(at("2026-11-15T23:59:59.999Z")));
        assert!(!w.contains(at("2026-11-16T00:00:00Z")));
        assert!(!w.contains(at("2026-11-08T23:59:59.999Z")));
        assert!(Window::default().contains(0));
        assert_eq!(w.since_rfc3339().unwrap(), "2026-11-09T00:00:00Z");
    }
}
