//! The report as a document of headings, paragraphs, bullet lists and tables of plain strings.
//! report.md and report.html render the same document, so they show the same sections and
//! numbers; each renderer escapes every string for where it goes. In paragraphs, text between
//! backticks is code (only mila's own prose uses them).

use std::collections::{BTreeMap, BTreeSet};

use super::charts::{self, Drawing};
use super::{opt_int, pct, usd};
use crate::summary::{Attributed, Summary};
use crate::summary::{Change, Comparison};

const UNKNOWN: &str = "(unknown)";

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title(String),
    Heading(String),
    Paragraph(String),
    Bullets(Vec<String>),
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A chart: `NAME.png` and `NAME.svg` beside the report; `svg` is the drawing itself.
    Chart {
        name: String,
        title: String,
        svg: String,
    },
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    fn title(&mut self, t: &str) {
        self.blocks.push(Block::Title(t.into()));
    }

    fn heading(&mut self, t: &str) {
        self.blocks.push(Block::Heading(t.into()));
    }

    fn para(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Paragraph(t.into()));
    }

    fn bullets(&mut self, items: Vec<String>) {
        self.blocks.push(Block::Bullets(items));
    }

    fn table<H: AsRef<str>>(&mut self, headers: &[H], rows: impl IntoIterator<Item = Vec<String>>) {
        let headers = headers.iter().map(|h| h.as_ref().to_string()).collect();
        self.blocks.push(Block::Table { headers, rows: rows.into_iter().collect() });
    }
}

/// The chart of that name, when the charts were drawn (they are for `--out`), or why it was not.
fn figure(d: &mut Doc, charts: &[Drawing], name: &str) {
    match charts.iter().find(|c| c.as_ref().map_or_else(|e| e.name, |c| c.name) == name) {
        Some(Ok(c)) => {
            d.blocks.push(Block::Chart { name: c.name.to_string(), title: c.title.clone(), svg: c.svg.clone() })
        }
        Some(Err(e)) => d.para(format!("The chart {} could not be drawn: {}", e.name, e.message)),
        None => {}
    }
}

/// The profiles file in use, and how many requests named a profile it does not have.
fn profiles_line(s: &Summary) -> String {
    let (Some(tokens), Some(cost)) = (&s.tokens, &s.cost) else {
        return "not used (CloudTrail alone: no tokens to price)".into();
    };
    let unresolved: u64 = tokens
        .by_model
        .iter()
        .filter(|m| {
            crate::record::model_id::canonicalise(&m.model).kind == crate::record::ModelIdKind::ApplicationProfile
        })
        .map(|m| m.requests)
        .sum();
    match unresolved {
        0 => cost.profiles.clone(),
        n => format!("{}; {n} requests named an application profile not in it (left unresolved)", cost.profiles),
    }
}

/// Text columns are left-aligned, counts right-aligned.
pub fn is_text(h: &str) -> bool {
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
            | "Quota kind"
            | "Service tier"
            | "Figure"
            | "Day"
            | "Account"
            | "Principal"
            | "Model-id kind"
            | "Model id"
            | "Operation"
            | "Status"
            | "Request id"
            | "Time"
            | "Session"
    )
}

/// Splits a paragraph into (is code, text) runs at backticks.
pub fn runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    text.split('`').enumerate().filter(|(_, t)| !t.is_empty()).map(|(i, t)| (i % 2 == 1, t))
}

/// Cost by caller (sessions folded into their principal; summary.json keeps them apart) and by
/// the requestMetadata keys asked for.
fn attribution(d: &mut Doc, c: &crate::summary::Cost) {
    d.heading("Cost by caller");
    d.para("The caller's identity ARN as account and principal (IAM Identity Center roles without their random suffix). Tokens are those of successful calls.");
    let mut callers: BTreeMap<(&str, &str), (u64, Attributed)> = BTreeMap::new();
    for x in &c.by_identity {
        let (sessions, figures) = callers.entry((&x.account, &x.principal)).or_default();
        *sessions += 1;
        figures.add(&x.figures);
    }
    d.table(
        &with_figures(&["Account", "Principal", "Sessions"]),
        callers
            .iter()
            .map(|((account, principal), (sessions, f))| row(&[account, principal, &sessions.to_string()], f)),
    );
    if c.by_request_metadata.is_empty() {
        return;
    }
    d.heading("Cost by request metadata");
    d.para("Per `--by-metadata` key and value; `(none)`: the record's requestMetadata has no such key. requestMetadata is the caller's own label, not a billing tag.");
    d.table(
        &with_figures(&["Key", "Value"]),
        c.by_request_metadata.iter().map(|x| row(&[&x.key, &x.value], &x.figures)),
    );
}

/// The figures every cost table shows after its labels.
const FIGURES: [&str; 7] =
    ["Requests", "Input tokens", "Output tokens", "Cache write 5m", "Cache write 1h", "USD", "Unpriced"];

fn with_figures<'a>(labels: &[&'a str]) -> Vec<&'a str> {
    labels.iter().copied().chain(FIGURES).collect()
}

/// A cost table's row: its labels, then requests, billed tokens, USD and unpriced requests.
fn row(labels: &[&str], f: &Attributed) -> Vec<String> {
    let mut out: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    out.extend([
        f.requests.to_string(),
        f.input.to_string(),
        f.output.to_string(),
        f.cache_write_5m.to_string(),
        f.cache_write_1h.to_string(),
        usd(f.usd),
        f.unpriced.to_string(),
    ]);
    out
}

/// Totals per UTC day over every source region (the charts split them by region).
fn per_day(d: &mut Doc, s: &Summary) {
    d.heading("Per day");
    let mut days: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for r in &s.daily.by_source_region {
        let t = days.entry(&r.day).or_default();
        let tokens = [r.input_tokens, r.output_tokens].map(|v| v.unwrap_or(0));
        for (i, v) in [r.requests, r.rerouted, tokens[0], tokens[1]].into_iter().enumerate() {
            t[i] += v;
        }
    }
    // CloudTrail alone: tokens and cost are unknown, shown as "-" rather than 0.
    let known = s.tokens.is_some();
    let known_or_dash = |v: String| if known { v } else { "-".to_string() };
    let mut cost: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &s.daily.cost_by_model {
        *cost.entry(&r.day).or_default() += r.usd;
    }
    d.para("Every record of the day (UTC), all source regions; cost at the prices in force.");
    d.table(
        &["Day", "Requests", "Rerouted", "Rerouted %", "Input tokens", "Output tokens", "USD"],
        days.iter().map(|(day, t)| {
            vec![
                day.to_string(),
                t[0].to_string(),
                t[1].to_string(),
                pct(if t[0] == 0 { 0.0 } else { t[1] as f64 / t[0] as f64 }),
                known_or_dash(t[2].to_string()),
                known_or_dash(t[3].to_string()),
                known_or_dash(usd(cost.get(day).copied().unwrap_or(0.0))),
            ]
        }),
    );
}

/// "+3", "-0.1250", "0": a change with its sign.
fn signed(v: Option<f64>, digits: usize) -> String {
    match v {
        None => "-".into(),
        Some(v) if v > 0.0 => format!("+{v:.digits$}"),
        Some(v) => format!("{v:.digits$}"),
    }
}

fn comparison(d: &mut Doc, c: &Comparison) {
    d.heading("Compared with the previous period");
    d.para(format!(
        "Previous period: {} to {} (UTC, end exclusive).",
        c.previous.since.as_deref().unwrap_or("-"),
        c.previous.until.as_deref().unwrap_or("-")
    ));
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
    d.table(&["Figure", "This period", "Previous", "Change", "Change %"], rows);
    d.para("Latency percentiles by inference region, ms: this period and the previous one.");
    d.table(
        &["Inference region", "p50", "p50 before", "p90", "p90 before", "p99", "p99 before"],
        c.latency.iter().map(|l| {
            let mut row = vec![l.inference_region.clone()];
            for x in [&l.p50_ms, &l.p90_ms, &l.p99_ms] {
                row.extend([opt_int(x.current), opt_int(x.previous)]);
            }
            row
        }),
    );
}

/// The report as a document: what report.md and report.html both show.
/// How the percentiles were computed, as summary.json's `latency.percentiles` says.
fn percentiles_note(how: &str) -> &'static str {
    match how {
        "exact" => "Percentiles are nearest-rank.",
        _ => "Percentiles are approximate (approx_percentile: a rank error of about 1%).",
    }
}

/// Which engine computed the figures, when it was not this machine, and what that cost.
fn engine_line(s: &Summary) -> Option<String> {
    let e = &s.engine;
    let queries = e.queries?;
    Some(format!(
        "Computed by: {} ({} queries, {} bytes scanned, {} bytes billed, {} USD)",
        e.name,
        queries,
        e.data_scanned_bytes.unwrap_or(0),
        e.billed_bytes.unwrap_or(0),
        e.cost_usd.map_or_else(String::new, |c| format!("{c:.4}"))
    ))
}

pub fn report(s: &Summary, charts: &[Drawing]) -> Doc {
    let mut d = Doc::default();
    d.title("mila report");
    let window = match (&s.window.since, &s.window.until) {
        (None, None) => "all records".to_string(),
        (a, b) => format!(
            "{} to {} (UTC, end exclusive)",
            a.as_deref().unwrap_or("the start"),
            b.as_deref().unwrap_or("the end")
        ),
    };
    let r = &s.records;
    d.bullets(vec![
        format!("Window: {window}"),
        format!(
            "Records: {} lines read, {} parsed, {} rejected, {} duplicates dropped, {} invocation errors; {} non-log files skipped; {} records outside the window",
            r.lines, r.parsed, r.rejected, r.duplicates, r.invocation_errors, r.skipped_objects, r.outside_window
        ),
        format!("Requests counted: {} (after deduplication by requestId)", s.rerouting.requests),
        format!("Prices: {}", s.cost.as_ref().map_or("not used (CloudTrail alone: no tokens to price)", |c| &c.prices)),
        format!("Application profiles: {}", profiles_line(s)),
    ]);
    if let Some(line) = engine_line(s) {
        d.bullets(vec![line]);
    }
    if let Some(c) = &s.comparison {
        comparison(&mut d, c);
    }

    let rr = &s.rerouting;
    d.heading("Rerouting by source region");
    d.para(format!(
        "Overall: {} of {} requests rerouted ({}), {} local, {} unknown (no `inferenceRegion` on a cross-region id).",
        rr.rerouted,
        rr.requests,
        pct(rr.rate),
        rr.local,
        rr.unknown
    ));
    d.table(
        &["Source region", "Requests", "Local", "Rerouted", "Unknown", "Rerouted %"],
        rr.by_source_region.iter().map(|x| {
            vec![
                x.source_region.to_string(),
                x.requests.to_string(),
                x.local.to_string(),
                x.rerouted.to_string(),
                x.unknown.to_string(),
                pct(x.rate),
            ]
        }),
    );

    figure(&mut d, charts, charts::RATE);

    d.heading("Source x inference region");
    d.para("Requests by the region called (rows) and the region that ran them (columns).");
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
    headers.extend(cols.iter().map(|c| c.to_string()));
    d.table(
        &headers,
        cells.iter().map(|(src, row)| {
            let mut v = vec![src.to_string()];
            v.extend(cols.iter().map(|c| row.get(c).map_or_else(|| "·".to_string(), u64::to_string)));
            v
        }),
    );

    figure(&mut d, charts, charts::MATRIX);

    if s.sources.cloudtrail_calls > 0 {
        sources(&mut d, s);
    }
    if let Some(c) = &s.coverage {
        coverage(&mut d, c, charts);
    }
    match &s.latency {
        Some(l) => latency(&mut d, l, charts),
        None => not_available(&mut d, "Latency by inference region", "latency"),
    }
    per_day(&mut d, s);
    figure(&mut d, charts, charts::VOLUME);

    match (&s.tokens, &s.cost) {
        (Some(t), Some(c)) => tokens_and_cost(&mut d, t, c, charts),
        _ => {
            not_available(&mut d, "Tokens by model", "tokens");
            not_available(&mut d, "Cost", "cost");
        }
    }

    d.heading("Residency");
    match &s.residency {
        None => {
            d.para("No policy given (pass --policy).");
        }
        Some(res) => {
            d.para(format!(
                "Policy {}: {} violations, {} unverifiable (inference region unknown), {} requests checked.",
                res.policy, res.violations, res.unverifiable, res.checked
            ));
            d.table(
                &["Source region", "Checked", "Violations", "Unverifiable"],
                res.by_source_region.iter().map(|x| {
                    vec![
                        x.source_region.to_string(),
                        x.checked.to_string(),
                        x.violations.to_string(),
                        x.unverifiable.to_string(),
                    ]
                }),
            );
        }
    }

    match &s.capacity {
        Some(cap) => capacity(&mut d, cap, charts),
        None => not_available(
            &mut d,
            "Capacity: peak per minute by source region, model and quota kind",
            "tokens per minute",
        ),
    }

    if s.sources.cloudtrail_calls > 0 {
        callers(&mut d, s);
    }

    d.heading("Invocation errors by code");
    d.table(
        &["Error code", "Requests"],
        s.errors.by_code.iter().map(|x| vec![x.error_code.to_string(), x.requests.to_string()]),
    );

    d.heading("Rejected lines");
    if s.read.rejects.is_empty() {
        d.para("None.");
    } else {
        d.table(
            &["Reason", "Lines", "First locations"],
            s.read.rejects.iter().map(|x| {
                vec![
                    x.reason.to_string(),
                    x.lines.to_string(),
                    x.first.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", "),
                ]
            }),
        );
    }
    if !s.read.problems.is_empty() {
        d.heading("Unreadable input");
        d.table(
            &["Source", "Problem"],
            s.read.problems.iter().map(|p| vec![p.source.to_string(), p.message.to_string()]),
        );
    }
    d
}

fn not_available(d: &mut Doc, heading: &str, what: &str) {
    d.heading(heading);
    d.para(format!(
        "Not available: only CloudTrail was read, and CloudTrail records no {what}. Read the invocation logs too for this section."
    ));
}

fn latency(d: &mut Doc, l: &crate::summary::Latency, charts: &[Drawing]) {
    d.heading("Latency by inference region");
    d.para(format!("Successful calls with a known inference region: {}; latency known for {} ({}). InvokeModel logs no latency. {}", l.calls, l.known, pct(if l.calls == 0 { 0.0 } else { l.known as f64 / l.calls as f64 }), percentiles_note(l.percentiles)));
    d.table(
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
                x.inference_region.to_string(),
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

    figure(d, charts, charts::LATENCY_BY_REGION);

    d.heading("Latency cost of rerouting");
    d.para(format!(
        "Local and rerouted successful calls of the same source region and model, where both have a known latency. {}",
        percentiles_note(l.percentiles)
    ));
    d.table(
        &[
            "Source region",
            "Model",
            "Local calls",
            "Local p50 ms",
            "Local p90 ms",
            "Rerouted calls",
            "Rerouted p50 ms",
            "Rerouted p90 ms",
        ],
        l.local_vs_rerouted.iter().filter(|x| x.local_requests > 0 && x.rerouted_requests > 0).map(|x| {
            vec![
                x.source_region.to_string(),
                x.model.to_string(),
                x.local_requests.to_string(),
                opt_int(x.local_p50_ms),
                opt_int(x.local_p90_ms),
                x.rerouted_requests.to_string(),
                opt_int(x.rerouted_p50_ms),
                opt_int(x.rerouted_p90_ms),
            ]
        }),
    );
    figure(d, charts, charts::LOCAL_VS_REROUTED);
}

fn tokens_and_cost(d: &mut Doc, t: &crate::summary::Tokens, c: &crate::summary::Cost, charts: &[Drawing]) {
    d.heading("Tokens by model");
    d.table(
        &["Model", "Requests", "Input", "Output", "Cache read", "Cache write 5m", "Cache write 1h"],
        t.by_model.iter().map(|x| {
            vec![
                x.model.to_string(),
                x.requests.to_string(),
                x.input.to_string(),
                x.output.to_string(),
                x.cache_read.to_string(),
                (x.cache_write - x.cache_write_1h).to_string(),
                x.cache_write_1h.to_string(),
            ]
        }),
    );

    d.heading("Cost by model");
    d.para(format!(
        "Total: {} {}; unpriced requests: {} (no matching price row; not counted as zero). Failed calls cost nothing.",
        usd(c.total),
        c.currency,
        c.unpriced_requests
    ));
    let unpriced: Vec<String> = c
        .by_model
        .iter()
        .filter(|x| x.figures.unpriced > 0)
        .map(|x| format!("{}: {} unpriced of {} requests", x.model, x.figures.unpriced, x.figures.requests))
        .collect();
    if !unpriced.is_empty() {
        d.para("No price for these models (add rows to a --prices file; see `mila prices`):");
        d.bullets(unpriced);
    }
    d.table(&with_figures(&["Model"]), c.by_model.iter().map(|x| row(&[&x.model], &x.figures)));
    d.heading("Cost by tag");
    if c.by_tag.is_empty() {
        d.para("No application-profile tags (pass --profiles with tagged profiles).");
    } else {
        d.table(&with_figures(&["Key", "Value"]), c.by_tag.iter().map(|x| row(&[&x.key, &x.value], &x.figures)));
    }
    d.heading("Cost by source region and model-id kind");
    d.para("Prices that differ by region apply by source region. Kind is how the caller named the model: a foundation model, a geographic or global cross-region profile, or an application profile.");
    d.table(&with_figures(&["Source region"]), c.by_source_region.iter().map(|x| row(&[&x.source_region], &x.figures)));
    d.table(&with_figures(&["Model-id kind"]), c.by_model_id_kind.iter().map(|x| row(&[&x.model_id_kind], &x.figures)));
    d.para("Service tier is how the response says the call was served (priority, flex, latency-optimized); a call whose response names none was standard. A tier without a price row is unpriced, never priced as standard.");
    d.table(&with_figures(&["Service tier"]), c.by_service_tier.iter().map(|x| row(&[&x.service_tier], &x.figures)));

    figure(d, charts, charts::COST);
    attribution(d, c);
}

fn capacity(d: &mut Doc, cap: &crate::summary::Capacity, charts: &[Drawing]) {
    d.heading("Capacity: peak per minute by source region, model and quota kind");
    d.para(format!(
        "Quota tokens are counted as Bedrock counts them: input + cache-write tokens + output tokens x the model's burndown rate ({}); cache reads do not count. In-region, geographic and global cross-region calls have quotas of their own. {} Rerouting and throttled calls (`ThrottlingException`) are shown beside each row: on-demand quotas are why requests move.",
        cap.burndown,
        match &cap.quotas {
            Some(q) => format!("Quotas from {}; \"Above 80%\" counts minutes over 80% of either quota.", q),
            None => "No quotas given (--quotas FILE).".to_string(),
        }
    ));
    let quota = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    d.table(
        &[
            "Source region",
            "Model",
            "Quota kind",
            "Requests",
            "Rerouting rate",
            "Peak req/min",
            "Peak quota tokens/min",
            "Burndown",
            "Peak minute",
            "Throttled",
            "Throttled in peak minute",
            "Peak throttled/min",
            "Quota req/min",
            "Quota tokens/min",
            "Above 80%",
        ],
        cap.by_source_region_model_kind.iter().map(|x| {
            vec![
                x.source_region.to_string(),
                x.model.to_string(),
                x.quota_kind.to_string(),
                x.requests.to_string(),
                pct(x.rerouting_rate),
                x.peak_requests_per_minute.to_string(),
                x.peak_quota_tokens_per_minute.to_string(),
                format!("{}x", x.burndown_rate),
                x.peak_minute.clone().unwrap_or_else(|| "-".into()),
                x.throttled.to_string(),
                x.throttled_in_peak_minute.to_string(),
                x.peak_throttled_per_minute.to_string(),
                quota(x.quota_requests_per_minute),
                quota(x.quota_tokens_per_minute),
                quota(x.minutes_above_80pct),
            ]
        }),
    );
    figure(d, charts, charts::CAPACITY);
}

/// Which records the figures come from, when CloudTrail was read.
fn sources(d: &mut Doc, s: &Summary) {
    let x = &s.sources;
    d.heading("Sources");
    d.bullets(vec![
        format!("Invocation-log records: {}", x.invocation_log_records),
        format!(
            "CloudTrail: {} Bedrock runtime calls, {} of them without an invocation-log record (counted from CloudTrail); {} other events skipped",
            x.cloudtrail_calls, x.cloudtrail_only, x.cloudtrail_other_events
        ),
    ]);
    d.para("A call is counted once: by its invocation-log record when there is one, else by its CloudTrail event. CloudTrail gives the source region, model, caller, error and, for a cross-region call, `inferenceRegion`; it records no tokens, latency or cost.");
}

fn coverage(d: &mut Doc, c: &crate::summary::Coverage, charts: &[Drawing]) {
    d.heading("Logging coverage");
    d.para(format!(
        "CloudTrail records every call; invocation logging only where it is on. {} CloudTrail calls, {} invocation-log records; {} of the CloudTrail calls have a log record (counts compared per source region, day, model id and operation).",
        c.cloudtrail_calls,
        c.invocation_log_records,
        c.coverage.map_or("-".into(), pct)
    ));
    let logged = c.by_source_region_day.iter().filter(|x| x.status == "logged").count();
    d.para(format!(
        "Source regions' days where logging was missing, partial or where CloudTrail has no calls ({logged} fully logged region-days not listed; summary.json lists all):"
    ));
    d.table(
        &["Day", "Source region", "CloudTrail calls", "Calls logged", "Log records", "Coverage", "Status"],
        c.by_source_region_day.iter().filter(|x| x.status != "logged").map(|x| {
            vec![
                x.day.clone(),
                x.source_region.clone(),
                x.cloudtrail_calls.to_string(),
                x.cloudtrail_calls_logged.to_string(),
                x.invocation_log_records.to_string(),
                x.coverage.map_or("-".into(), pct),
                x.status.to_string(),
            ]
        }),
    );
    figure(d, charts, charts::COVERAGE);
    if c.request_ids_match {
        d.para(format!(
            "Request ids match across the two: {} calls are only in CloudTrail, {} records only in the invocation logs (of region-days CloudTrail has calls for).",
            c.only_in_cloudtrail, c.only_in_invocation_logs
        ));
    } else {
        d.para("No CloudTrail request id matched an invocation-log record: only counts are compared.");
    }
    if !c.gaps.is_empty() {
        d.para("Where the counts differ:");
        d.table(
            &["Day", "Source region", "Model id", "Operation", "CloudTrail calls", "Log records"],
            c.gaps.iter().map(|x| {
                vec![
                    x.day.clone(),
                    x.source_region.clone(),
                    x.model_id.clone(),
                    x.operation.clone(),
                    x.cloudtrail_calls.to_string(),
                    x.invocation_log_records.to_string(),
                ]
            }),
        );
    }
    if !c.only_in_cloudtrail_listed.is_empty() {
        d.para(format!(
            "The oldest calls only in CloudTrail ({} of {}):",
            c.only_in_cloudtrail_listed.len(),
            c.only_in_cloudtrail
        ));
        d.table(
            &["Request id", "Time", "Source region", "Model id", "Operation"],
            c.only_in_cloudtrail_listed.iter().map(|x| {
                vec![
                    x.request_id.clone(),
                    x.time.clone(),
                    x.source_region.clone(),
                    x.model_id.clone(),
                    x.operation.clone(),
                ]
            }),
        );
    }
}

/// Calls per caller, from either record: the audit's "who".
fn callers(d: &mut Doc, s: &Summary) {
    d.heading("Calls by caller");
    d.para("Every call counted, from invocation logs or CloudTrail, by the caller's identity ARN.");
    d.table(
        &["Account", "Principal", "Session", "Requests", "Errors"],
        s.callers.iter().map(|x| {
            vec![
                x.account.clone(),
                x.principal.clone(),
                x.session.clone(),
                x.requests.to_string(),
                x.errors.to_string(),
            ]
        }),
    );
}
