//! Capacity: requests and quota tokens per minute per (source region, base model, quota kind),
//! their peaks, throttled calls, and how many minutes came within 20% of the account's quotas.
//! Rerouting exists because of these quotas, so each row also carries its rerouting rate.
//!
//! Quota tokens count as Bedrock counts them against a tokens-per-minute quota: input and
//! cache-write tokens once, output tokens times the model's burndown rate, cache reads not at all
//! (`given::burndown`). In-region, geographic and global calls have quotas of their own, so
//! they are separate rows (`given::quotas::QuotaKind`).
//!
//! The per-minute sums are many (one per row and minute with any request), so they are folded
//! into each row's peaks as they are read, never held as a table.

use polars::prelude::*;

use crate::frame::col::{self, REQUESTS, REROUTED};
use crate::frame::count as int;
use crate::given::burndown::{quota_tokens, Burndown};
use crate::given::profiles::Profiles;
use crate::given::quotas::{Quota, QuotaKind, Quotas};

pub const QUOTA_KIND: &str = "quota_kind";
pub const PEAK_RPM: &str = "peak_requests_per_minute";
/// The peak quota tokens in a minute.
pub const PEAK_TPM: &str = "peak_quota_tokens_per_minute";
/// The first minute with the peak request count.
pub const PEAK_MINUTE: &str = "peak_minute";
/// The first minute with the peak quota tokens.
pub const PEAK_TPM_MINUTE: &str = "peak_quota_tokens_minute";
pub const ACTIVE_MINUTES: &str = "active_minutes";
pub const QUOTA_RPM: &str = "quota_requests_per_minute";
pub const QUOTA_TPM: &str = "quota_tokens_per_minute";
/// Minutes above 80% of either quota; null when the row has no quota.
pub const HOT_MINUTES: &str = "minutes_above_80pct";
/// Calls that failed with `ThrottlingException`.
pub const THROTTLED: &str = "throttled";
/// The most throttled calls in one minute.
pub const PEAK_THROTTLED: &str = "peak_throttled_per_minute";
/// Throttled calls in the peak minute (`PEAK_MINUTE`).
pub const THROTTLED_AT_PEAK: &str = "throttled_in_peak_minute";
/// The burndown rate the quota tokens were counted with.
pub const BURNDOWN: &str = "burndown_rate";

/// The error code of a call refused for a quota.
pub const THROTTLING: &str = "ThrottlingException";

/// The share of a quota above which a minute counts as hot.
pub const HOT_SHARE: f64 = 0.8;

/// What capacity is judged with: the quotas, the burndown rates, and the profiles that say which
/// quota an application profile's calls count against.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub quotas: &'a Quotas,
    pub burndown: &'a Burndown,
    pub profiles: &'a Profiles,
}

/// One minute of one row: requests, rerouted and throttled requests, and the token sums quota
/// tokens are made of. One per row and minute.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Minute {
    pub requests: u32,
    pub rerouted: u32,
    pub throttled: u32,
    /// Input + cache-write tokens (counted once).
    pub tokens_once: u64,
    /// Output tokens (counted at the burndown rate).
    pub output: u64,
}

impl Minute {
    /// Adds one call.
    pub fn add_call(&mut self, rerouted: bool, throttled: bool, tokens_once: u64, output: u64) {
        self.requests = self.requests.saturating_add(1);
        self.rerouted = self.rerouted.saturating_add(u32::from(rerouted));
        self.throttled = self.throttled.saturating_add(u32::from(throttled));
        self.tokens_once = self.tokens_once.saturating_add(tokens_once);
        self.output = self.output.saturating_add(output);
    }

    /// Adds another part of the same minute (rows an engine returned per model id).
    pub fn merge(&mut self, other: &Minute) {
        self.requests = self.requests.saturating_add(other.requests);
        self.rerouted = self.rerouted.saturating_add(other.rerouted);
        self.throttled = self.throttled.saturating_add(other.throttled);
        self.tokens_once = self.tokens_once.saturating_add(other.tokens_once);
        self.output = self.output.saturating_add(other.output);
    }
}

/// One (source region, model, kind): the fold of its minutes, in any order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Peaks {
    pub requests: u64,
    pub rerouted: u64,
    pub throttled: u64,
    pub active_minutes: u64,
    pub peak_rpm: u64,
    /// The most quota tokens in a minute.
    pub peak_tpm: u64,
    /// Start of the first minute with `peak_tpm` quota tokens (ms).
    pub peak_tpm_minute: Option<i64>,
    /// Start of the first minute with `peak_rpm` requests (ms).
    pub peak_minute: Option<i64>,
    pub throttled_at_peak: u64,
    pub peak_throttled: u64,
    /// Minutes above `HOT_SHARE` of either quota.
    pub hot_minutes: u64,
}

fn above(n: u64, quota: Option<u64>) -> bool {
    quota.is_some_and(|q| n as f64 > HOT_SHARE * q as f64)
}

impl Peaks {
    pub fn add(&mut self, minute_ms: i64, m: &Minute, quota: Option<&Quota>, rate: f64) {
        let requests = u64::from(m.requests);
        let throttled = u64::from(m.throttled);
        let tokens = quota_tokens(m.tokens_once, m.output, rate);
        self.requests += requests;
        self.rerouted += u64::from(m.rerouted);
        self.throttled += throttled;
        self.active_minutes += 1;
        if requests > self.peak_rpm || (requests == self.peak_rpm && self.peak_minute.is_none_or(|p| minute_ms < p)) {
            (self.peak_rpm, self.peak_minute, self.throttled_at_peak) = (requests, Some(minute_ms), throttled);
        }
        if tokens > self.peak_tpm || (tokens == self.peak_tpm && self.peak_tpm_minute.is_none_or(|p| minute_ms < p)) {
            (self.peak_tpm, self.peak_tpm_minute) = (tokens, Some(minute_ms));
        }
        self.peak_throttled = self.peak_throttled.max(throttled);
        let q = quota.map_or((None, None), |q| (q.requests_per_minute, q.tokens_per_minute));
        self.hot_minutes += u64::from(above(requests, q.0) || above(tokens, q.1));
    }
}

/// One row of the capacity table.
pub struct Row<'a> {
    pub source: &'a str,
    pub model: &'a str,
    pub kind: QuotaKind,
    pub peaks: Peaks,
    /// The quota the minutes were judged against, and the burndown rate they were counted with.
    pub quota: Option<&'a Quota>,
    pub rate: f64,
}

/// Folds each row's minutes into its peaks, with its quota and burndown rate.
pub fn fold<'a, M: IntoIterator<Item = (i64, Minute)>>(
    rows: impl IntoIterator<Item = ((&'a str, &'a str, QuotaKind), M)>,
    rules: Rules<'a>,
) -> Vec<Row<'a>> {
    rows.into_iter()
        .map(|((source, model, kind), minutes)| {
            let (quota, rate) = (rules.quotas.get(source, model, kind), rules.burndown.rate(model));
            let mut peaks = Peaks::default();
            for (minute_ms, m) in minutes {
                peaks.add(minute_ms, &m, quota, rate);
            }
            Row { source, model, kind, peaks, quota, rate }
        })
        .collect()
}

/// The capacity table: one row per (source region, model, quota kind), sorted, with its quotas
/// and burndown rate.
pub fn table(mut rows: Vec<Row>) -> PolarsResult<DataFrame> {
    rows.sort_by(|a, b| (a.source, a.model, a.kind).cmp(&(b.source, b.model, b.kind)));
    let ints = |name: &str, f: &dyn Fn(&Peaks) -> u64| {
        Column::new(name.into(), rows.iter().map(|r| int(f(&r.peaks))).collect::<Vec<_>>())
    };
    let quota = |name: &str, f: fn(&Quota) -> Option<u64>| {
        Column::new(name.into(), rows.iter().map(|r| r.quota.and_then(f).map(int)).collect::<Vec<_>>())
    };
    let columns = vec![
        Column::new(col::SOURCE_REGION.into(), rows.iter().map(|r| r.source).collect::<Vec<_>>()),
        Column::new(col::MODEL.into(), rows.iter().map(|r| r.model).collect::<Vec<_>>()),
        Column::new(QUOTA_KIND.into(), rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>()),
        ints(REQUESTS, &|p| p.requests),
        ints(REROUTED, &|p| p.rerouted),
        ints(THROTTLED, &|p| p.throttled),
        ints(ACTIVE_MINUTES, &|p| p.active_minutes),
        ints(PEAK_RPM, &|p| p.peak_rpm),
        ints(PEAK_TPM, &|p| p.peak_tpm),
        Column::new(PEAK_MINUTE.into(), rows.iter().map(|r| r.peaks.peak_minute).collect::<Vec<_>>()),
        Column::new(PEAK_TPM_MINUTE.into(), rows.iter().map(|r| r.peaks.peak_tpm_minute).collect::<Vec<_>>()),
        ints(THROTTLED_AT_PEAK, &|p| p.throttled_at_peak),
        ints(PEAK_THROTTLED, &|p| p.peak_throttled),
        Column::new(BURNDOWN.into(), rows.iter().map(|r| r.rate).collect::<Vec<_>>()),
        quota(QUOTA_RPM, |q| q.requests_per_minute),
        quota(QUOTA_TPM, |q| q.tokens_per_minute),
        Column::new(
            HOT_MINUTES.into(),
            rows.iter().map(|r| r.quota.map(|_| int(r.peaks.hot_minutes))).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(rpm: Option<u64>, tpm: Option<u64>) -> Quota {
        Quota {
            region: "r".into(),
            model: "m".into(),
            kind: QuotaKind::InRegion,
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
        }
    }

    #[test]
    fn peaks_table() {
        let m = |requests, tokens, rerouted| Minute { requests, rerouted, tokens_once: tokens, ..Minute::default() };
        // (minutes in the order read, quota, want)
        let cases = [
            (
                vec![(60_000, m(3, 100, 1))],
                None,
                Peaks {
                    requests: 3,
                    rerouted: 1,
                    active_minutes: 1,
                    peak_rpm: 3,
                    peak_tpm: 100,
                    peak_tpm_minute: Some(60_000),
                    peak_minute: Some(60_000),
                    hot_minutes: 0,
                    ..Peaks::default()
                },
            ),
            // A tie on requests: the first minute wins, whatever the order read.
            (
                vec![(180_000, m(5, 10, 0)), (60_000, m(5, 90, 2)), (120_000, m(1, 500, 1))],
                None,
                Peaks {
                    requests: 11,
                    rerouted: 3,
                    active_minutes: 3,
                    peak_rpm: 5,
                    peak_tpm: 500,
                    peak_tpm_minute: Some(120_000),
                    peak_minute: Some(60_000),
                    hot_minutes: 0,
                    ..Peaks::default()
                },
            ),
            // Hot: strictly above 80% of either quota (8 of 10 requests is not; 9 is).
            (
                vec![(0, m(8, 1, 0)), (60_000, m(9, 1, 0)), (120_000, m(1, 801, 0))],
                Some(quota(Some(10), Some(1000))),
                Peaks {
                    requests: 18,
                    rerouted: 0,
                    active_minutes: 3,
                    peak_rpm: 9,
                    peak_tpm: 801,
                    peak_tpm_minute: Some(120_000),
                    peak_minute: Some(60_000),
                    hot_minutes: 2,
                    ..Peaks::default()
                },
            ),
            (
                vec![(0, m(9, 1, 0))],
                Some(quota(None, Some(1000))),
                Peaks {
                    requests: 9,
                    rerouted: 0,
                    active_minutes: 1,
                    peak_rpm: 9,
                    peak_tpm: 1,
                    peak_tpm_minute: Some(0),
                    peak_minute: Some(0),
                    hot_minutes: 0,
                    ..Peaks::default()
                },
            ),
            // Before 1970, minutes are negative and still ordered.
            (
                vec![(-60_000, m(2, 0, 0)), (-120_000, m(2, 0, 0))],
                None,
                Peaks {
                    requests: 4,
                    rerouted: 0,
                    active_minutes: 2,
                    peak_rpm: 2,
                    peak_tpm: 0,
                    peak_tpm_minute: Some(-120_000),
                    peak_minute: Some(-120_000),
                    hot_minutes: 0,
                    ..Peaks::default()
                },
            ),
        ];
        for (minutes, q, want) in cases {
            let mut p = Peaks::default();
            for (at, minute) in &minutes {
                p.add(*at, minute, q.as_ref(), 1.0);
            }
            assert_eq!(p, want, "{minutes:?}");
        }
    }

    #[test]
    fn quota_tokens_and_throttling_per_minute() {
        // A Sonnet 4.5 call (rate 5): 1,000 input + 2,000 cache write + 300 output x 5 = 4,500
        // (its 50,000 cache-read tokens are not in the minute at all). A second minute has two
        // calls, one throttled; the third has the peak requests, two of three throttled.
        let mut first = Minute::default();
        first.add_call(false, false, 1_000 + 2_000, 300);
        let mut second = Minute::default();
        second.add_call(true, false, 10, 100);
        second.add_call(false, true, 0, 0);
        let mut third = Minute::default();
        for throttled in [true, true, false] {
            third.add_call(false, throttled, 1, 0);
        }
        let q = quota(None, Some(5_000));
        let mut p = Peaks::default();
        for (at, m) in [(0, first), (60_000, second), (120_000, third)] {
            p.add(at, &m, Some(&q), 5.0);
        }
        assert_eq!(
            p,
            Peaks {
                requests: 6,
                rerouted: 1,
                throttled: 3,
                active_minutes: 3,
                peak_rpm: 3,
                peak_tpm: 4_500,
                peak_tpm_minute: Some(0),
                peak_minute: Some(120_000),
                throttled_at_peak: 2,
                peak_throttled: 2,
                // 4,500 > 80% of 5,000; 510 and 3 are not.
                hot_minutes: 1,
            }
        );
        // The same minute read in two parts folds as one.
        let mut whole = Minute::default();
        whole.merge(&second);
        whole.merge(&third);
        assert_eq!((whole.requests, whole.throttled, whole.tokens_once, whole.output), (5, 3, 13, 100));
    }

    #[test]
    fn hot_minutes_are_null_without_a_quota() {
        let q = quota(Some(1), None);
        let p = Peaks { requests: 1, active_minutes: 1, peak_rpm: 1, hot_minutes: 1, ..Peaks::default() };
        let q = Quota { region: "a".into(), ..q };
        let row = |source, peaks, quota| Row { source, model: "m", kind: QuotaKind::InRegion, peaks, quota, rate: 1.0 };
        let df = table(vec![row("b", p.clone(), None), row("a", p, Some(&q))]).unwrap();
        let rows: Vec<_> = crate::tables::row::rows(&df).collect();
        assert_eq!(rows[0].str(col::SOURCE_REGION), "a");
        assert_eq!(
            (rows[0].opt_u64(HOT_MINUTES), rows[0].opt_u64(QUOTA_RPM), rows[0].opt_u64(QUOTA_TPM)),
            (Some(1), Some(1), None)
        );
        assert_eq!((rows[1].opt_u64(HOT_MINUTES), rows[1].opt_u64(QUOTA_RPM)), (None, None));
    }
}
