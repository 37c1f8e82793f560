//! Capacity: requests and tokens per minute per (source region, base model), their peaks, and
//! how many minutes came within 20% of the account's quotas. Rerouting exists because of these
//! quotas, so each row also carries its rerouting rate.
//!
//! Tokens per minute count input and output tokens, as Bedrock's on-demand quotas do; cache
//! reads and writes are not counted.
//!
//! The per-minute sums are many (one per pair and minute with any request), so they are folded
//! into each pair's peaks as they are read, never held as a table.

use polars::prelude::*;

use crate::frame::col::{self, REQUESTS, REROUTED};
use crate::frame::count as int;
use crate::inputs::quotas::Quota;

pub const PEAK_RPM: &str = "peak_requests_per_minute";
pub const PEAK_TPM: &str = "peak_tokens_per_minute";
/// The first minute with the peak request count.
pub const PEAK_MINUTE: &str = "peak_minute";
pub const ACTIVE_MINUTES: &str = "active_minutes";
pub const QUOTA_RPM: &str = "quota_requests_per_minute";
pub const QUOTA_TPM: &str = "quota_tokens_per_minute";
/// Minutes above 80% of either quota; null when the pair has no quota.
pub const HOT_MINUTES: &str = "minutes_above_80pct";

/// The share of a quota above which a minute counts as hot.
pub const HOT_SHARE: f64 = 0.8;

/// One minute of one (source region, model): requests, quota tokens, rerouted requests. 16
/// bytes, as there is one per pair and minute; a pair's requests in one minute fit in 32 bits
/// many times over (quotas are thousands).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Minute {
    pub requests: u32,
    pub rerouted: u32,
    pub tokens: u64,
}

/// One (source region, model): the fold of its minutes, in any order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Peaks {
    pub requests: u64,
    pub rerouted: u64,
    pub active_minutes: u64,
    pub peak_rpm: u64,
    pub peak_tpm: u64,
    /// Start of the first minute with `peak_rpm` requests (ms).
    pub peak_minute: Option<i64>,
    /// Minutes above `HOT_SHARE` of either quota.
    pub hot_minutes: u64,
}

fn above(n: u64, quota: Option<u64>) -> bool {
    quota.is_some_and(|q| n as f64 > HOT_SHARE * q as f64)
}

impl Peaks {
    pub fn add(&mut self, minute_ms: i64, m: &Minute, quota: Option<&Quota>) {
        let requests = u64::from(m.requests);
        self.requests += requests;
        self.rerouted += u64::from(m.rerouted);
        self.active_minutes += 1;
        if requests > self.peak_rpm || (requests == self.peak_rpm && self.peak_minute.is_none_or(|p| minute_ms < p)) {
            (self.peak_rpm, self.peak_minute) = (requests, Some(minute_ms));
        }
        self.peak_tpm = self.peak_tpm.max(m.tokens);
        let q = quota.map_or((None, None), |q| (q.requests_per_minute, q.tokens_per_minute));
        self.hot_minutes += u64::from(above(requests, q.0) || above(m.tokens, q.1));
    }
}

/// The capacity table: one row per (source region, model), sorted, with its quotas.
pub fn table(mut rows: Vec<(&str, &str, Peaks, Option<&Quota>)>) -> PolarsResult<DataFrame> {
    rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let ints = |name: &str, f: &dyn Fn(&Peaks) -> u64| {
        Column::new(name.into(), rows.iter().map(|r| int(f(&r.2))).collect::<Vec<_>>())
    };
    let quota = |name: &str, f: fn(&Quota) -> Option<u64>| {
        Column::new(name.into(), rows.iter().map(|r| r.3.and_then(f).map(int)).collect::<Vec<_>>())
    };
    let columns = vec![
        Column::new(col::SOURCE_REGION.into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new(col::MODEL.into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        ints(REQUESTS, &|p| p.requests),
        ints(REROUTED, &|p| p.rerouted),
        ints(ACTIVE_MINUTES, &|p| p.active_minutes),
        ints(PEAK_RPM, &|p| p.peak_rpm),
        ints(PEAK_TPM, &|p| p.peak_tpm),
        Column::new(PEAK_MINUTE.into(), rows.iter().map(|r| r.2.peak_minute).collect::<Vec<_>>()),
        quota(QUOTA_RPM, |q| q.requests_per_minute),
        quota(QUOTA_TPM, |q| q.tokens_per_minute),
        Column::new(HOT_MINUTES.into(), rows.iter().map(|r| r.3.map(|_| int(r.2.hot_minutes))).collect::<Vec<_>>()),
    ];
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(rpm: Option<u64>, tpm: Option<u64>) -> Quota {
        Quota { region: "r".into(), model: "m".into(), requests_per_minute: rpm, tokens_per_minute: tpm }
    }

    #[test]
    fn peaks_table() {
        let m = |requests, tokens, rerouted| Minute { requests, rerouted, tokens };
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
                    peak_minute: Some(60_000),
                    hot_minutes: 0,
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
                    peak_minute: Some(60_000),
                    hot_minutes: 0,
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
                    peak_minute: Some(60_000),
                    hot_minutes: 2,
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
                    peak_minute: Some(0),
                    hot_minutes: 0,
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
                    peak_minute: Some(-120_000),
                    hot_minutes: 0,
                },
            ),
        ];
        for (minutes, q, want) in cases {
            let mut p = Peaks::default();
            for (at, minute) in &minutes {
                p.add(*at, minute, q.as_ref());
            }
            assert_eq!(p, want, "{minutes:?}");
        }
    }

    #[test]
    fn hot_minutes_are_null_without_a_quota() {
        let q = quota(Some(1), None);
        let p = Peaks { requests: 1, active_minutes: 1, peak_rpm: 1, hot_minutes: 1, ..Peaks::default() };
        let df = table(vec![("b", "m", p.clone(), None), ("a", "m", p, Some(&q))]).unwrap();
        let rows: Vec<_> = crate::tables::row::rows(&df).collect();
        assert_eq!(rows[0].str(col::SOURCE_REGION), "a");
        assert_eq!(
            (rows[0].opt_u64(HOT_MINUTES), rows[0].opt_u64(QUOTA_RPM), rows[0].opt_u64(QUOTA_TPM)),
            (Some(1), Some(1), None)
        );
        assert_eq!((rows[1].opt_u64(HOT_MINUTES), rows[1].opt_u64(QUOTA_RPM)), (None, None));
    }
}
