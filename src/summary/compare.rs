//! `--compare previous`: this window's figures beside the previous window of the same length
//! (the previous ISO week for `--week`). Both sides are whole summaries built the same way, so
//! the comparison is only arithmetic on them.

use std::collections::BTreeSet;

use crate::summary::{Change, Comparison, LatencyChange, LatencyRow, Summary, TokenRow, WindowOut};

fn row<'a>(s: &'a Summary, region: &str) -> Option<&'a LatencyRow> {
    s.latency.as_ref()?.by_inference_region.iter().find(|r| r.inference_region == region)
}

fn count(current: u64, previous: u64) -> Change<i64> {
    Change::new(Some(current as i64), Some(previous as i64))
}

/// A token sum, or none when the summary has no tokens (CloudTrail alone).
fn tokens(s: &Summary, of: fn(&TokenRow) -> u64) -> Option<i64> {
    Some(s.tokens.as_ref()?.by_model.iter().map(of).sum::<u64>() as i64)
}

pub fn compare(current: &Summary, previous: &Summary) -> Comparison {
    let regions: BTreeSet<&str> = [current, previous]
        .iter()
        .flat_map(|s| s.latency.iter().flat_map(|l| l.by_inference_region.iter().map(|r| r.inference_region.as_str())))
        .collect();
    let latency = regions
        .into_iter()
        .map(|region| {
            let (c, p) = (row(current, region), row(previous, region));
            let pick = |f: fn(&LatencyRow) -> Option<i64>| Change::new(c.and_then(f), p.and_then(f));
            LatencyChange {
                inference_region: region.to_string(),
                p50_ms: pick(|r| r.p50_ms),
                p90_ms: pick(|r| r.p90_ms),
                p99_ms: pick(|r| r.p99_ms),
            }
        })
        .collect();
    let token_change = |of: fn(&TokenRow) -> u64| Change::new(tokens(current, of), tokens(previous, of));
    Comparison {
        previous: WindowOut { since: previous.window.since.clone(), until: previous.window.until.clone() },
        requests: count(current.rerouting.requests, previous.rerouting.requests),
        input_tokens: token_change(|r| r.input),
        output_tokens: token_change(|r| r.output),
        cache_read_tokens: token_change(|r| r.cache_read),
        cache_write_tokens: token_change(|r| r.cache_write),
        cost_usd: Change::new(current.cost.as_ref().map(|c| c.total), previous.cost.as_ref().map(|c| c.total)),
        rerouting_rate: Change::new(Some(current.rerouting.rate), Some(previous.rerouting.rate)),
        violations: current
            .residency
            .as_ref()
            .map(|c| count(c.violations, previous.residency.as_ref().map_or(0, |p| p.violations))),
        latency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        assert_eq!(
            Change::new(Some(3i64), Some(2)),
            Change { current: Some(3), previous: Some(2), change: Some(1), change_ratio: Some(0.5) }
        );
        assert_eq!(
            Change::new(Some(3i64), Some(0)),
            Change { current: Some(3), previous: Some(0), change: Some(3), change_ratio: None }
        );
        assert_eq!(
            Change::new(None, Some(7i64)),
            Change { current: None, previous: Some(7), change: None, change_ratio: None }
        );
        assert_eq!(Change::new(Some(0.25f64), Some(0.5)).change_ratio, Some(-0.5));
    }
}
