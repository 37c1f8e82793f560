//! Capacity: each (source region, model)'s peak quota tokens in a minute, one bar per quota kind
//! (in-region, geographic, global), with that kind's tokens-per-minute quota as a red tick.

use super::latency::{Bars, Row, MAX_PAIRS};
use super::{label, thousands};
use crate::given::quotas::QuotaKind;
use crate::summary::Capacity;

pub fn peaks(cap: &Capacity) -> Bars {
    // The kinds present, in their order; then the (source, model) pairs, busiest peak first.
    let kinds: Vec<QuotaKind> = QuotaKind::ALL
        .into_iter()
        .filter(|k| cap.by_source_region_model_kind.iter().any(|r| r.quota_kind == k.as_str()))
        .collect();
    let mut pairs: Vec<(&str, &str)> =
        cap.by_source_region_model_kind.iter().map(|r| (r.source_region.as_str(), r.model.as_str())).collect();
    pairs.dedup();
    let peak = |pair: &(&str, &str)| {
        cap.by_source_region_model_kind
            .iter()
            .filter(|r| (r.source_region.as_str(), r.model.as_str()) == *pair)
            .map(|r| r.peak_quota_tokens_per_minute)
            .max()
            .unwrap_or(0)
    };
    let all = pairs.len();
    // Highest peak first; ties keep the summary's (source, model) order.
    pairs.sort_by_key(|p| std::cmp::Reverse(peak(p)));
    pairs.truncate(MAX_PAIRS);
    let rows = pairs
        .iter()
        .map(|pair| {
            let of = |k: &QuotaKind| {
                cap.by_source_region_model_kind
                    .iter()
                    .find(|r| (r.source_region.as_str(), r.model.as_str()) == *pair && r.quota_kind == k.as_str())
            };
            let throttled: u64 = kinds.iter().filter_map(of).map(|r| r.throttled).sum();
            let requests: u64 = kinds.iter().filter_map(of).map(|r| r.requests).sum();
            Row {
                name: format!("{} · {}", label(pair.0, 20), label(pair.1, 44)),
                detail: format!("{} calls, {} throttled", thousands(requests), thousands(throttled)),
                values: kinds.iter().map(|k| of(k).map(|r| r.peak_quota_tokens_per_minute as f64)).collect(),
                whiskers: Vec::new(),
                marks: kinds.iter().map(|k| of(k).and_then(|r| r.quota_tokens_per_minute).map(|q| q as f64)).collect(),
            }
        })
        .collect();
    let shown = if all > MAX_PAIRS {
        format!("the {MAX_PAIRS} of {all} source region and model pairs with the highest peaks")
    } else {
        "every source region and model".to_string()
    };
    let quotas = match cap.quotas {
        Some(_) => "a red tick is that kind's tokens-per-minute quota",
        None => "no quotas given (--quotas FILE)",
    };
    Bars {
        id: super::Id::Capacity,
        title: "Peak quota tokens per minute, by quota kind".into(),
        subtitle: format!("Input + cache write + output x burndown rate; {quotas}; {shown}."),
        series: kinds.iter().enumerate().map(|(i, k)| (k.as_str().to_string(), super::colour(i))).collect(),
        rows,
        axis: "quota tokens in the peak minute",
        empty: "No invocation-log record in this window.",
    }
}
