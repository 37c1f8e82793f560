//! The small parsers of settings: sizes, timeouts, times and windows, percentages, sources.

use std::path::PathBuf;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};

use crate::cli::{AwsArgs, WindowArgs};
use crate::engine::athena;
use crate::given::burndown::Burndown;
use crate::given::prices::Prices;
use crate::source::aws::AwsSettings;
use crate::source::cloudwatch::LogGroup;
use crate::source::s3::Location;
use crate::source::SourceSpec;
use crate::window::{self, Window};

/// `--by-metadata` keys in the order given, each once; an empty key names nothing.
pub(super) fn metadata_keys(keys: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        if k.is_empty() {
            bail!("--by-metadata needs a requestMetadata key, not an empty string");
        }
        athena::quote::metadata_key(k)?;
        if !out.contains(k) {
            out.push(k.clone());
        }
    }
    Ok(out)
}

pub(super) const MAX_LOOKBACK_HOURS: u32 = 366 * 24;

pub(super) fn sorted_once(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// A timeout: positive, and at most a day (past it `Duration` would not hold it anyway).
pub(super) fn seconds(flag: &str, v: f64) -> Result<std::time::Duration> {
    if !(v > 0.0 && v <= 86_400.0) {
        bail!("{flag} must be a number of seconds above 0 and at most 86400, not {v}");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// A size in bytes, with an optional binary suffix, between `min` and `max`.
pub(super) fn byte_size(flag: &str, text: &str, min: usize, max: usize) -> Result<usize> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit: u32 = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => bail!("{flag} `{text}`: not a size (a number of bytes, or with KiB, MiB or GiB)"),
    };
    let n = t[..digits].parse::<usize>().ok().and_then(|n| n.checked_mul(1 << unit));
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => bail!("{flag} `{text}`: must be between {} KiB and {} MiB", min >> 10, max >> 20),
    }
}

pub(super) fn prices(path: Option<&std::path::Path>) -> Result<Prices> {
    Ok(match path {
        Some(p) => Prices::load(p)?,
        None => Prices::default_table(),
    })
}

pub(super) fn burndown(path: Option<&std::path::Path>) -> Result<Burndown> {
    Ok(match path {
        Some(p) => Burndown::load(p)?,
        None => Burndown::default_table(),
    })
}

pub(super) fn aws(a: &AwsArgs) -> Result<AwsSettings> {
    // S3 lists at most 1,000 keys a page and CloudWatch Logs 10,000 events.
    if a.page_size.is_some_and(|n| !(1..=10_000).contains(&n)) {
        bail!("--page-size must be from 1 to 10000");
    }
    // Each GET in flight holds its object: the bound keeps memory in reach.
    if !(1..=256).contains(&a.max_concurrency) {
        bail!("--max-concurrency must be from 1 to 256");
    }
    if !(a.cloudwatch_rate > 0.0 && a.cloudwatch_rate <= 1000.0) {
        bail!("--cloudwatch-rate must be a number of requests per second above 0 and at most 1000");
    }
    Ok(AwsSettings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        connect_timeout: seconds("--connect-timeout", a.connect_timeout)?,
        read_timeout: seconds("--read-timeout", a.read_timeout)?,
        concurrency: a.max_concurrency,
        cloudwatch_rate: a.cloudwatch_rate,
        page_size: a.page_size,
        ..AwsSettings::default()
    })
}

pub fn source(text: &str) -> Result<SourceSpec> {
    if text == "-" {
        return Ok(SourceSpec::Stdin);
    }
    if text.starts_with("s3://") {
        return Location::parse(text).map(SourceSpec::S3).map_err(|e| anyhow::anyhow!("source {e}"));
    }
    if text.starts_with("cloudwatch:") {
        return LogGroup::parse(text).map(SourceSpec::CloudWatch).map_err(|e| anyhow::anyhow!("source {e}"));
    }
    if text.starts_with("cloudtrail:") {
        return crate::source::history::History::parse(text)
            .map(SourceSpec::History)
            .map_err(|e| anyhow::anyhow!("source {e}"));
    }
    Ok(SourceSpec::Path(PathBuf::from(text)))
}

/// The terminal's width when standard output is one; else `COLUMNS` if set; else no limit
/// (a file or a pipe gets whole lines).
pub(super) fn output_width() -> Option<usize> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stdout) {
            return Some(usize::from(w));
        }
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|w| *w > 0)
}

/// The window of the same length just before `w`, which needs both ends.
pub(super) fn previous(w: Window) -> Result<Window> {
    match (w.since, w.until) {
        (Some(since), Some(until)) => Ok(Window { since: Some(since - (until - since)), until: Some(since) }),
        _ => bail!("--compare previous needs a window with both ends: --week, or --since and --until"),
    }
}

pub fn window_of(w: &WindowArgs, now: DateTime<Utc>) -> Result<Window> {
    if let Some(week) = &w.week {
        return window::parse_iso_week(week).map_err(|e| anyhow::anyhow!("--week: {e}"));
    }
    let since = w
        .since
        .as_deref()
        .map(|t| window::parse_time(t, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let until = w
        .until
        .as_deref()
        .map(|t| window::parse_time(t, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--until: {e}"))?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            bail!("--since must be before --until");
        }
    }
    Ok(Window { since, until })
}

/// A share given as a percentage, kept exact (`98.4` is 984/1000): judged by comparing whole
/// numbers, so that 123 of 125 calls (exactly 98.4%) is not below 98.4 by a rounding of floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    num: u64,
    den: u64,
}

impl Percent {
    /// Whether `part` of `whole` is less than this share (nothing of nothing is not).
    pub fn above(self, part: u64, whole: u64) -> bool {
        (part as u128) * (self.den as u128) < (self.num as u128) * (whole as u128)
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// `--fail-on-coverage-below`: `95`, `99.5%`, ` 0 `: a percentage from 0 to 100 with at most 9
/// decimals.
pub fn percent(text: &str) -> Result<Percent> {
    let bad = || {
        anyhow::anyhow!("--fail-on-coverage-below {text:?}: expected a percentage from 0 to 100, such as 95 or 99.5")
    };
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || (number.contains('.') && fraction.is_empty())
        || whole.len() > 3
        || fraction.len() > 9
        || !digits(whole)
        || !digits(fraction)
    {
        return Err(bad());
    }
    let scale = 10u64.pow(fraction.len() as u32);
    let num = whole.parse::<u64>().map_err(|_| bad())? * scale + fraction.parse::<u64>().unwrap_or(0);
    let den = 100 * scale;
    if num > den {
        return Err(bad());
    }
    Ok(Percent { num, den })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_table() {
        let cases = [("95", 0.95), ("99.5%", 0.995), (" 0 ", 0.0), ("100", 1.0), ("50%", 0.5), ("100.000", 1.0)];
        for (text, want) in cases {
            assert_eq!(percent(text).map(Percent::as_f64).ok(), Some(want), "{text}");
        }
        for bad in
            ["101", "-1", "NaN", "inf", "ninety", "", "1e400", "100.01", "+5", "5 %x", ".5", "5.", "0x10", "1000"]
        {
            assert!(percent(bad).is_err(), "{bad}");
        }
        // Exact: 123 of 125 is 98.4%, not below it; 122 of 125 is.
        let p = percent("98.4").unwrap();
        assert!(!p.above(123, 125));
        assert!(p.above(122, 125));
        assert!(!percent("0").unwrap().above(0, 5));
        assert!(percent("100").unwrap().above(4, 5));
        assert!(!percent("100").unwrap().above(u64::MAX, u64::MAX));
        assert!(!percent("33.333333333").unwrap().above(1, 3));
    }
}
