//! Capacity: requests and quota tokens per minute per (source region, base model, quota kind),
//! their peaks, throttled calls, and how many minutes came within 20% of the account's quotas.
//! Rerouting exists because of these quotas, so each row also carries its rerouting rate.
//!
//! Quota tokens count as Bedrock counts them against a tokens-per-minute quota: input and
//! cache-write tokens once, output tokens times the model's burndown rate, cache reads not at all
//! (`given::burndown`). In-region, geographic and global calls have quotas of their own, so
//! they are separate rows (`given::quotas::QuotaKind`).
//!
//! Beside the quota tokens a minute settles to, what its calls **reserved** when they started:
//! Bedrock takes input + cache-read + cache-write tokens + the request's most output tokens
//! (`maxTokens`, `max_tokens` ...) from the quota up front and gives back the difference when the
//! call ends, so a minute can be throttled on its reservations while its settled tokens stay
//! under the quota. A request that names no most tokens reserves the model's own maximum, which
//! mila does not know: it is counted, and its settled output stands in (so the reservation shown
//! is a floor). A throttled call reserved nothing.
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
/// The most tokens reserved in a minute.
pub const PEAK_RESERVED: &str = "peak_reserved_tokens_per_minute";
/// The first minute with the peak reservation.
pub const PEAK_RESERVED_MINUTE: &str = "peak_reserved_minute";
/// Calls (not throttled) whose request named no most output tokens.
pub const WITHOUT_MAX_TOKENS: &str = "requests_without_max_tokens";
/// Minutes whose reservations went past the tokens-per-minute quota while their settled quota
/// tokens did not; null when the row has no such quota.
pub const RESERVED_OVER_QUOTA: &str = "minutes_reserved_over_quota";

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
    /// Tokens reserved when the calls started (`reserved`).
    pub reserved: u64,
    /// Calls (not throttled) that named no most output tokens.
    pub without_max_tokens: u32,
}

/// One call as capacity counts it.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Call {
    pub rerouted: bool,
    pub throttled: bool,
    /// Input and cache-write tokens.
    pub tokens_once: u64,
    pub output: u64,
    pub cache_read: u64,
    /// The request's most output tokens, if it named them.
    pub max_tokens: Option<u64>,
}

/// What a call took from the quota when it started: input + cache read + cache write + its most
/// output tokens, or (when it named none) its settled output as a floor. A throttled call took
/// nothing.
pub fn reserved(tokens_once: u64, cache_read: u64, max_tokens: Option<u64>, output: u64, throttled: bool) -> u64 {
    match throttled {
        true => 0,
        false => tokens_once.saturating_add(cache_read).saturating_add(max_tokens.unwrap_or(output)),
    }
}

impl Minute {
    /// Adds one call.
    pub fn add_call(&mut self, c: Call) {
        let reserved = reserved(c.tokens_once, c.cache_read, c.max_tokens, c.output, c.throttled);
        self.merge(&Minute {
            requests: 1,
            rerouted: u32::from(c.rerouted),
            throttled: u32::from(c.throttled),
            tokens_once: c.tokens_once,
            output: c.output,
            reserved,
            without_max_tokens: u32::from(!c.throttled && c.max_tokens.is_none()),
        });
    }

    /// Adds another part of the same minute (rows an engine returned per model id).
    pub fn merge(&mut self, other: &Minute) {
        self.requests = self.requests.saturating_add(other.requests);
        self.rerouted = self.rerouted.saturating_add(other.rerouted);
        self.throttled = self.throttled.saturating_add(other.throttled);
        self.tokens_once = self.tokens_once.saturating_add(other.tokens_once);
        self.output = self.output.saturating_add(other.output);
        self.reserved = self.reserved.saturating_add(other.reserved);
        self.without_max_tokens = self.without_max_tokens.saturating_add(other.without_max_tokens);
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
    /// The most tokens reserved in a minute, and the first minute with them.
    pub peak_reserved: u64,
    pub peak_reserved_minute: Option<i64>,
    pub without_max_tokens: u64,
    /// Minutes reserved past the tokens-per-minute quota while settled within it.
    pub reserved_over_quota: u64,
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
        if m.reserved > self.peak_reserved
            || (m.reserved == self.peak_reserved && self.peak_reserved_minute.is_none_or(|p| minute_ms < p))
        {
            (self.peak_reserved, self.peak_reserved_minute) = (m.reserved, Some(minute_ms));
        }
        self.without_max_tokens += u64::from(m.without_max_tokens);
        self.reserved_over_quota += u64::from(q.1.is_some_and(|tpm| m.reserved > tpm && tokens <= tpm));
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
        ints(PEAK_RESERVED, &|p| p.peak_reserved),
        Column::new(PEAK_RESERVED_MINUTE.into(), rows.iter().map(|r| r.peaks.peak_reserved_minute).collect::<Vec<_>>()),
        ints(WITHOUT_MAX_TOKENS, &|p| p.without_max_tokens),
        Column::new(
            RESERVED_OVER_QUOTA.into(),
            rows.iter()
                .map(|r| r.quota.and_then(|q| q.tokens_per_minute).map(|_| int(r.peaks.reserved_over_quota)))
                .collect::<Vec<_>>(),
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
        // Each call reserved what it settled to (no output), so the reservation peaks with the tokens.
        let m = |requests, tokens, rerouted| Minute {
            requests,
            rerouted,
            tokens_once: tokens,
            reserved: tokens,
            ..Minute::default()
        };
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
                    peak_reserved: 100,
                    peak_reserved_minute: Some(60_000),
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
                    peak_reserved: 500,
                    peak_reserved_minute: Some(120_000),
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
                    peak_reserved: 801,
                    peak_reserved_minute: Some(120_000),
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
                    peak_reserved: 1,
                    peak_reserved_minute: Some(0),
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
                    peak_reserved: 0,
                    peak_reserved_minute: Some(-120_000),
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
        let call = |rerouted, throttled, tokens_once, output| Call {
            rerouted,
            throttled,
            tokens_once,
            output,
            max_tokens: Some(1_000),
            ..Call::default()
        };
        let mut first = Minute::default();
        first.add_call(Call { cache_read: 50_000, ..call(false, false, 1_000 + 2_000, 300) });
        let mut second = Minute::default();
        second.add_call(call(true, false, 10, 100));
        second.add_call(call(false, true, 0, 0));
        let mut third = Minute::default();
        for throttled in [true, true, false] {
            third.add_call(call(false, throttled, 1, 0));
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
                // 3,000 + 50,000 cache read + 1,000 most tokens, past the 5,000 quota where the
                // settled 4,500 are not; the throttled calls reserved nothing.
                peak_reserved: 54_000,
                peak_reserved_minute: Some(0),
                without_max_tokens: 0,
                reserved_over_quota: 1,
            }
        );
        // The same minute read in two parts folds as one.
        let mut whole = Minute::default();
        whole.merge(&second);
        whole.merge(&third);
        assert_eq!((whole.requests, whole.throttled, whole.tokens_once, whole.output), (5, 3, 13, 100));
        assert_eq!(whole.reserved, 1_010 + 1_001);
    }

    #[test]
    fn reservations_table() {
        // (tokens once, cache read, most tokens, output, throttled) -> reserved, counted as
        // naming no most tokens
        let cases = [
            (100, 0, Some(1_000), 20, false, 1_100, false),
            (100, 50, Some(1_000), 20, false, 1_150, false),
            // None named: the settled output stands in, and the call is counted.
            (100, 0, None, 20, false, 120, true),
            // Refused: nothing reserved, nothing counted.
            (100, 0, None, 20, true, 0, false),
            (u64::MAX, 1, Some(1), 0, false, u64::MAX, false),
        ];
        for (once, read, max, output, throttled, want, unnamed) in cases {
            let mut m = Minute::default();
            m.add_call(Call {
                tokens_once: once,
                cache_read: read,
                max_tokens: max,
                output,
                throttled,
                rerouted: false,
            });
            assert_eq!((m.reserved, m.without_max_tokens == 1), (want, unnamed), "{once} {read} {max:?} {throttled}");
        }
        // A minute reserved past the quota while settled within it counts; one settled past it
        // too does not (usage, not the reservation, met the quota there).
        let q = quota(None, Some(1_000));
        let mut p = Peaks::default();
        let minute = |tokens_once, reserved| Minute { requests: 1, tokens_once, reserved, ..Minute::default() };
        for (at, m) in [(0, minute(900, 5_000)), (60_000, minute(1_200, 6_000)), (120_000, minute(10, 1_000))] {
            p.add(at, &m, Some(&q), 1.0);
        }
        assert_eq!((p.reserved_over_quota, p.peak_reserved, p.peak_reserved_minute), (1, 6_000, Some(60_000)));
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
