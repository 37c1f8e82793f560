//! What `mila report` prints without `--format json`: a few summary lines, then the main
//! tables, within the terminal's width. Strings from logs are escaped (render::table).

use std::fmt::Write;

use super::table::{Cell, Table};
use super::{pct, usd};
use crate::escape::terminal as t;
use crate::summary::Summary;

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
                if l.percentiles == "exact" { "" } else { " (percentiles approximate)" }
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
            c.by_source_region_day.iter().filter(|d| d.status == "missing").count(),
            c.by_source_region_day.iter().filter(|d| d.status == "partial").count()
        );
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
    for (title, table) in tables(s) {
        if !table.rows.is_empty() {
            out.extend_from_slice(format!("\n{title}\n").as_bytes());
            out.extend(table.to_terminal(width));
        }
    }
    out
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn int(n: u64) -> Cell {
    Cell::Int(n as i64)
}

fn headers(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn tables(s: &Summary) -> Vec<(&'static str, Table)> {
    let opt = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
    let no_latency = Vec::new();
    let by_region = s.latency.as_ref().map_or(&no_latency, |l| &l.by_inference_region);
    let no_cost = Vec::new();
    let cost_by_model = s.cost.as_ref().map_or(&no_cost, |c| &c.by_model);
    let mut out = vec![
        (
            "Rerouting by source region",
            Table {
                headers: headers(&["source region", "requests", "local", "rerouted", "unknown", "rate"]),
                rows: s
                    .rerouting
                    .by_source_region
                    .iter()
                    .map(|r| {
                        let counts = [r.requests, r.local, r.rerouted, r.unknown].map(int);
                        [vec![text(&r.source_region)], counts.to_vec(), vec![Cell::Formatted(pct(r.rate))]].concat()
                    })
                    .collect(),
            },
        ),
        (
            "Latency by inference region (ms, nearest rank)",
            Table {
                headers: headers(&["inference region", "calls", "coverage", "p50", "p90", "p99"]),
                rows: by_region
                    .iter()
                    .map(|r| {
                        vec![
                            text(&r.inference_region),
                            int(r.calls),
                            Cell::Formatted(pct(r.coverage)),
                            opt(r.p50_ms),
                            opt(r.p90_ms),
                            opt(r.p99_ms),
                        ]
                    })
                    .collect(),
            },
        ),
        (
            "Cost by model",
            Table {
                headers: headers(&["model", "requests", "USD", "unpriced"]),
                rows: cost_by_model
                    .iter()
                    .map(|r| {
                        let f = &r.figures;
                        vec![text(&r.model), int(f.requests), Cell::Formatted(usd(f.usd)), int(f.unpriced)]
                    })
                    .collect(),
            },
        ),
    ];
    if let Some(res) = &s.residency {
        out.push((
            "Residency by source region",
            Table {
                headers: headers(&["source region", "checked", "violations", "unverifiable"]),
                rows: res
                    .by_source_region
                    .iter()
                    .map(|r| vec![text(&r.source_region), int(r.checked), int(r.violations), int(r.unverifiable)])
                    .collect(),
            },
        ));
    }
    out.push((
        "Invocation errors by code",
        Table {
            headers: headers(&["error code", "requests"]),
            rows: s.errors.by_code.iter().map(|r| vec![text(&r.error_code), int(r.requests)]).collect(),
        },
    ));
    out
}
