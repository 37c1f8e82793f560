//! The short summary printed after `mila report`. Strings from logs are escaped.

use std::fmt::Write;

use super::{pct, usd};
use crate::escape::terminal as t;
use crate::summary::Summary;

pub fn summary(s: &Summary) -> Vec<u8> {
    let mut o = String::new();
    let r = &s.records;
    let rr = &s.rerouting;
    let _ = writeln!(
        o,
        "records   {} lines, {} parsed, {} rejected, {} duplicates, {} invocation errors, {} files skipped",
        r.lines, r.parsed, r.rejected, r.duplicates, r.invocation_errors, r.skipped_objects
    );
    let _ = writeln!(
        o,
        "routes    {} requests: {} local, {} rerouted ({}), {} unknown",
        rr.requests,
        rr.local,
        rr.rerouted,
        pct(rr.rate),
        rr.unknown
    );
    let top: Vec<String> = {
        let mut flows: Vec<_> =
            rr.flows.iter().filter(|f| f.inference_region.as_deref().is_some_and(|i| i != f.source_region)).collect();
        flows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.source_region.cmp(&b.source_region)));
        flows
            .iter()
            .take(3)
            .map(|f| {
                format!(
                    "{} -> {} ({})",
                    t(&f.source_region),
                    t(f.inference_region.as_deref().unwrap_or("?")),
                    f.requests
                )
            })
            .collect()
    };
    if !top.is_empty() {
        let _ = writeln!(o, "flows     {}", top.join(", "));
    }
    let _ = writeln!(
        o,
        "latency   {} of {} successful calls with a known region have a latency",
        s.latency.known, s.latency.calls
    );
    let _ = writeln!(
        o,
        "cost      {} {} ({} unpriced requests)",
        usd(s.cost.total),
        s.cost.currency,
        s.cost.unpriced_requests
    );
    if let Some(res) = &s.residency {
        let _ = writeln!(
            o,
            "residency {} violations, {} unverifiable of {} checked ({})",
            res.violations,
            res.unverifiable,
            res.checked,
            t(&res.policy)
        );
    }
    if !s.input.problems.is_empty() {
        let _ = writeln!(o, "problems  {} sources could not be read in full (see report)", s.input.problems.len());
    }
    o.into_bytes()
}
