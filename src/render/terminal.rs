//! What `mila report` prints without `--format json`: a few summary lines, then the main
//! tables, within the terminal's width. Strings from logs are escaped (render::table).

use std::fmt::Write;

use super::{pct, usd};
use crate::escape::terminal as t;
use crate::summary::{CoverageStatus, Summary};
use crate::tables::Percentiles;

pub fn summary(s: &Summary, width: Option<usize>) -> Vec<u8> {
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
    if s.sources.cloudtrail_calls > 0 {
        let x = &s.sources;
        let _ = writeln!(
            o,
            "sources   {} invocation-log records; {} CloudTrail calls, {} only in CloudTrail; {} other events skipped",
            x.invocation_log_records, x.cloudtrail_calls, x.cloudtrail_only, x.cloudtrail_other_events
        );
    }
    match &s.latency {
        Some(l) => {
            let _ = writeln!(
                o,
                "latency   {} of {} successful calls with a known region have a latency{}",
                l.known,
                l.calls,
                if l.percentiles == Percentiles::Exact { "" } else { " (percentiles approximate)" }
            );
        }
        None => {
            let _ = writeln!(o, "latency   not available (CloudTrail records none)");
        }
    }
    match &s.cost {
        Some(c) => {
            let _ =
                writeln!(o, "cost      {} {} ({} unpriced requests)", usd(c.total), c.currency, c.unpriced_requests);
        }
        None => {
            let _ = writeln!(o, "cost      not available (CloudTrail records no tokens)");
        }
    }
    if let Some(c) = &s.coverage {
        let _ = writeln!(
            o,
            "coverage  {} of {} CloudTrail calls have an invocation-log record; {} region-days missing, {} partial",
            c.coverage.map_or("-".into(), pct),
            c.cloudtrail_calls,
            c.by_source_region_day.iter().filter(|d| d.status == CoverageStatus::Missing).count(),
            c.by_source_region_day.iter().filter(|d| d.status == CoverageStatus::Partial).count()
        );
    }
    if let Some(m) = &s.metrics {
        let t = &m.totals;
        let _ = writeln!(
            o,
            "metrics   {} calls counted, {} not in the logs ({} on bedrock-mantle; {} of tokens); {} model-days not fully logged",
            t.calls,
            t.not_in_logs,
            t.mantle_calls,
            usd(t.usd_not_in_logs),
            m.coverage_by_day.iter().filter(|d| d.status != CoverageStatus::Logged).count()
        );
    }
    if let Some(b) = &s.batch {
        let t = &b.totals;
        let _ = writeln!(
            o,
            "batch     {} jobs, {} records, {} at batch rates (in the cost above); {} unpriced, {} without counts",
            t.jobs,
            t.records_succeeded + t.records_failed,
            usd(t.usd),
            t.unpriced_jobs,
            t.jobs_without_counts
        );
    }
    // Operations mila does not know: kept and counted, and said here so that nobody misses them.
    let unknown: Vec<String> = s
        .tokens
        .iter()
        .flat_map(|t| &t.by_operation)
        .filter(|o| !o.known)
        .map(|o| format!("{} ({})", t(&o.operation), o.requests))
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(o, "operation {} not known to mila, counted: {}", unknown.len(), unknown.join(", "));
    }
    if let Some(c) = &s.capacity {
        let rows = &c.by_source_region_model_kind;
        let over: u64 = rows.iter().filter_map(|r| r.minutes_reserved_over_quota).sum();
        if over > 0 {
            let _ = writeln!(
                o,
                "reserved  {over} minutes reserved past a quota while their settled tokens stayed within it (maxTokens); {} calls named none",
                rows.iter().map(|r| r.requests_without_max_tokens).sum::<u64>()
            );
        }
    }
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
    if !s.read.problems.is_empty() {
        let _ = writeln!(o, "problems  {} sources could not be read in full (see report)", s.read.problems.len());
    }
    let mut out = o.into_bytes();
    for (title, table) in super::doc::terminal_tables(s) {
        if !table.rows.is_empty() {
            out.extend_from_slice(format!("\n{title}\n").as_bytes());
            out.extend(table.to_terminal(width));
        }
    }
    out
}
