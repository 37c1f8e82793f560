//! `report.md`: the readable report. Every string from a log is escaped for Markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{opt_int, pct, usd};
use crate::compare::{Change, Comparison};
use crate::escape::markdown as md;
use crate::summary::Summary;

const UNKNOWN: &str = "(unknown)";

fn table(out: &mut String, headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let align = |h: &&str| if is_text(h) { " --- |" } else { " ---: |" };
    let _ = writeln!(out, "|{}", headers.iter().map(align).collect::<String>());
    let mut any = false;
    for row in rows {
        any = true;
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if !any {
        let _ = writeln!(out, "| {} |", vec!["–"; headers.len()].join(" | "));
    }
    out.push('\n');
}

/// Text columns are left-aligned, counts right-aligned.
fn is_text(h: &str) -> bool {
    matches!(
        h,
        "Source region"
            | "Inference region"
            | "Model"
            | "Key"
            | "Value"
            | "Error code"
            | "Reason"
            | "First locations"
            | "Source"
            | "Problem"
            | "Peak minute"
            | "Figure"
    )
}

/// "+3", "-0.1250", "0": a change with its sign.
fn signed(v: Option<f64>, digits: usize) -> String {
    match v {
        None => "-".into(),
        Some(v) if v > 0.0 => format!("+{v:.digits$}"),
        Some(v) => format!("{v:.digits$}"),
    }
}

fn comparison(o: &mut String, c: &Comparison) {
    let _ = writeln!(o, "## Compared with the previous period\n");
    let _ = writeln!(
        o,
        "Previous period: {} to {} (UTC, end exclusive).\n",
        c.previous.since.as_deref().unwrap_or("-"),
        c.previous.until.as_deref().unwrap_or("-")
    );
    let ratio = |x: Option<f64>| x.map_or("-".to_string(), |r| format!("{}%", signed(Some(r * 100.0), 1)));
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let counts = |name: &str, x: &Change<i64>| {
        vec![name.to_string(), opt_int(x.current), opt_int(x.previous), signed(f(x.change), 0), ratio(x.change_ratio)]
    };
    let mut rows = vec![
        counts("Requests", &c.requests),
        counts("Input tokens", &c.input_tokens),
        counts("Output tokens", &c.output_tokens),
        counts("Cache-read tokens", &c.cache_read_tokens),
        counts("Cache-write tokens", &c.cache_write_tokens),
        vec![
            "Cost (USD)".into(),
            c.cost_usd.current.map_or("-".into(), usd),
            c.cost_usd.previous.map_or("-".into(), usd),
            signed(c.cost_usd.change, 4),
            ratio(c.cost_usd.change_ratio),
        ],
        vec![
            "Rerouting rate".into(),
            c.rerouting_rate.current.map_or("-".into(), pct),
            c.rerouting_rate.previous.map_or("-".into(), pct),
            c.rerouting_rate.change.map_or("-".into(), |d| format!("{} points", signed(Some(d * 100.0), 1))),
            ratio(c.rerouting_rate.change_ratio),
        ],
    ];
    if let Some(v) = &c.violations {
        rows.push(counts("Residency violations", v));
    }
    for l in &c.latency {
        let region = md(&l.inference_region);
        for (name, x) in [("p50", &l.p50_ms), ("p90", &l.p90_ms), ("p99", &l.p99_ms)] {
            rows.push(counts(&format!("Latency {name} ms, {region}"), x));
        }
    }
    table(o, &["Figure", "This period", "Previous", "Change", "Change %"], rows);
}

pub fn report(s: &Summary) -> Vec<u8> {
    let mut o = String::new();
    let _ = writeln!(o, "# mila report\n");
    let window = match (&s.window.since, &s.window.until) {
        (None, None) => "all records".to_string(),
        (a, b) => format!(
            "{} to {} (UTC, end exclusive)",
            a.as_deref().unwrap_or("the start"),
            b.as_deref().unwrap_or("the end")
        ),
    };
    let r = &s.records;
    let _ = writeln!(o, "- Window: {window}");
    let _ = writeln!(
        o,
        "- Records: {} lines read, {} parsed, {} rejected, {} duplicates dropped, {} invocation errors; {} non-log files skipped; {} records outside the window",
        r.lines, r.parsed, r.rejected, r.duplicates, r.invocation_errors, r.skipped_objects, r.outside_window
    );
    let _ = writeln!(o, "- Requests counted: {} (after deduplication by requestId)", s.rerouting.requests);
    let _ = writeln!(o, "- Prices: {}\n", md(&s.cost.prices));
    if let Some(c) = &s.comparison {
        comparison(&mut o, c);
    }

    let rr = &s.rerouting;
    let _ = writeln!(o, "## Rerouting by source region\n");
    let _ = writeln!(
        o,
        "Overall: {} of {} requests rerouted ({}), {} local, {} unknown (no `inferenceRegion` on a cross-region id).\n",
        rr.rerouted,
        rr.requests,
        pct(rr.rate),
        rr.local,
        rr.unknown
    );
    table(
        &mut o,
        &["Source region", "Requests", "Local", "Rerouted", "Unknown", "Rerouted %"],
        rr.by_source_region.iter().map(|x| {
            vec![
                md(&x.source_region),
                x.requests.to_string(),
                x.local.to_string(),
                x.rerouted.to_string(),
                x.unknown.to_string(),
                pct(x.rate),
            ]
        }),
    );

    let _ = writeln!(o, "## Source x inference region\n");
    let _ = writeln!(o, "Requests by the region called (rows) and the region that ran them (columns).\n");
    let cols: BTreeSet<&str> = rr.flows.iter().map(|f| f.inference_region.as_deref().unwrap_or(UNKNOWN)).collect();
    let mut cells: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for f in &rr.flows {
        *cells
            .entry(&f.source_region)
            .or_default()
            .entry(f.inference_region.as_deref().unwrap_or(UNKNOWN))
            .or_default() += f.requests;
    }
    let mut headers = vec!["Source region".to_string()];
    headers.extend(cols.iter().map(|c| md(c)));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    table(
        &mut o,
        &header_refs,
        cells.iter().map(|(src, row)| {
            let mut v = vec![md(src)];
            v.extend(cols.iter().map(|c| row.get(c).map_or_else(|| "·".to_string(), u64::to_string)));
            v
        }),
    );

    let l = &s.latency;
    let _ = writeln!(o, "## Latency by inference region\n");
    let _ = writeln!(o, "Successful calls with a known inference region: {}; latency known for {} ({}). InvokeModel logs no latency. Percentiles are nearest-rank.\n", l.calls, l.known, pct(if l.calls == 0 { 0.0 } else { l.known as f64 / l.calls as f64 }));
    table(
        &mut o,
        &[
            "Inference region",
            "Calls",
            "With latency",
            "Coverage",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "Mean ms",
            "First byte p50 ms",
        ],
        l.by_inference_region.iter().map(|x| {
            vec![
                md(&x.inference_region),
                x.calls.to_string(),
                x.requests.to_string(),
                pct(x.coverage),
                opt_int(x.p50_ms),
                opt_int(x.p90_ms),
                opt_int(x.p99_ms),
                x.mean_ms.map_or("-".into(), |m| format!("{m:.1}")),
                opt_int(x.first_byte_p50_ms),
            ]
        }),
    );

    let _ = writeln!(o, "## Tokens by model\n");
    table(
        &mut o,
        &["Model", "Requests", "Input", "Output", "Cache read", "Cache write"],
        s.tokens.by_model.iter().map(|x| {
            vec![
                md(&x.model),
                x.requests.to_string(),
                x.input.to_string(),
                x.output.to_string(),
                x.cache_read.to_string(),
                x.cache_write.to_string(),
            ]
        }),
    );

    let c = &s.cost;
    let _ = writeln!(o, "## Cost by model\n");
    let _ = writeln!(o, "Total: {} {}; unpriced requests: {} (no matching price row; not counted as zero). Failed calls cost nothing.\n", usd(c.total), c.currency, c.unpriced_requests);
    table(
        &mut o,
        &["Model", "Requests", "USD", "Unpriced"],
        c.by_model
            .iter()
            .map(|x| vec![md(&x.model), x.requests.to_string(), usd(x.usd), x.unpriced_requests.to_string()]),
    );
    let _ = writeln!(o, "## Cost by tag\n");
    if c.by_tag.is_empty() {
        let _ = writeln!(o, "No application-profile tags (pass --profiles with tagged profiles).\n");
    } else {
        table(
            &mut o,
            &["Key", "Value", "Requests", "USD", "Unpriced"],
            c.by_tag.iter().map(|x| {
                vec![md(&x.key), md(&x.value), x.requests.to_string(), usd(x.usd), x.unpriced_requests.to_string()]
            }),
        );
    }

    let _ = writeln!(o, "## Residency\n");
    match &s.residency {
        None => {
            let _ = writeln!(o, "No policy given (pass --policy).\n");
        }
        Some(res) => {
            let _ = writeln!(
                o,
                "Policy {}: {} violations, {} unverifiable (inference region unknown), {} requests checked.\n",
                md(&res.policy),
                res.violations,
                res.unverifiable,
                res.checked
            );
            table(
                &mut o,
                &["Source region", "Checked", "Violations", "Unverifiable"],
                res.by_source_region.iter().map(|x| {
                    vec![
                        md(&x.source_region),
                        x.checked.to_string(),
                        x.violations.to_string(),
                        x.unverifiable.to_string(),
                    ]
                }),
            );
        }
    }

    let cap = &s.capacity;
    let _ = writeln!(o, "## Capacity: peak per minute by source region and model\n");
    let _ = writeln!(
        o,
        "Tokens are input + output. {} Rerouting is shown beside each row: on-demand quotas are why requests move.\n",
        match &cap.quotas {
            Some(q) => format!("Quotas from {}; \"Above 80%\" counts minutes over 80% of either quota.", md(q)),
            None => "No quotas given (--quotas FILE).".to_string(),
        }
    );
    let quota = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    table(
        &mut o,
        &[
            "Source region",
            "Model",
            "Requests",
            "Rerouting rate",
            "Peak req/min",
            "Peak tokens/min",
            "Peak minute",
            "Quota req/min",
            "Quota tokens/min",
            "Above 80%",
        ],
        cap.by_source_region_model.iter().map(|x| {
            vec![
                md(&x.source_region),
                md(&x.model),
                x.requests.to_string(),
                pct(x.rerouting_rate),
                x.peak_requests_per_minute.to_string(),
                x.peak_tokens_per_minute.to_string(),
                x.peak_minute.clone().unwrap_or_else(|| "-".into()),
                quota(x.quota_requests_per_minute),
                quota(x.quota_tokens_per_minute),
                quota(x.minutes_above_80pct),
            ]
        }),
    );

    let _ = writeln!(o, "## Invocation errors by code\n");
    table(
        &mut o,
        &["Error code", "Requests"],
        s.errors.by_code.iter().map(|x| vec![md(&x.error_code), x.requests.to_string()]),
    );

    let _ = writeln!(o, "## Rejected lines\n");
    if s.input.rejects.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        table(
            &mut o,
            &["Reason", "Lines", "First locations"],
            s.input.rejects.iter().map(|x| {
                vec![md(&x.reason), x.lines.to_string(), x.first.iter().map(|f| md(f)).collect::<Vec<_>>().join(", ")]
            }),
        );
    }
    if !s.input.problems.is_empty() {
        let _ = writeln!(o, "## Unreadable input\n");
        table(&mut o, &["Source", "Problem"], s.input.problems.iter().map(|p| vec![md(&p.source), md(&p.message)]));
    }
    o.into_bytes()
}
