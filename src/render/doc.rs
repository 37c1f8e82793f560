//! The report as a document of headings, paragraphs, bullet lists, typed tables and charts.
//! report.md and report.html render the same document, so they show the same sections and
//! numbers; each renderer escapes every string for where it goes. In paragraphs, text between
//! backticks is code (only mila's own prose uses them). The tables the terminal's summary shows
//! are built here too, once (`terminal_tables`): their columns carry the terminal's headers.

use std::collections::{BTreeMap, BTreeSet};

use super::charts::{Drawing, Id};
mod tables;

use super::table::{Cell, Column, Table};

use super::{pct, usd};
use crate::summary::{views, Attributed, Change, Comparison, CoverageStatus, EngineName, Summary};
use crate::tables::Percentiles;
pub use tables::terminal_tables;

const UNKNOWN: &str = "(unknown)";

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title(String),
    Heading(String),
    Paragraph(String),
    Bullets(Vec<String>),
    Table(Table),
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

    fn table(&mut self, columns: Vec<Column>, rows: impl IntoIterator<Item = Vec<Cell>>) {
        self.blocks.push(Block::Table(Table::new(columns, rows.into_iter().collect())));
    }
}

/// The chart, when the charts were drawn (they are for `--out`), or why it was not.
fn figure(d: &mut Doc, charts: &[Drawing], id: Id) {
    match charts.iter().find(|c| c.as_ref().map_or_else(|e| e.id, |c| c.id) == id) {
        Some(Ok(c)) => {
            d.blocks.push(Block::Chart { name: c.id.name().to_string(), title: c.title.clone(), svg: c.svg.clone() })
        }
        Some(Err(e)) => d.para(format!("The chart {} could not be drawn: {}", e.id, e.message)),
        None => {}
    }
}

/// The profiles file in use, and how many requests named a profile it does not have.
fn profiles_line(s: &Summary) -> String {
    let (Some(_), Some(cost)) = (&s.tokens, &s.cost) else {
        return "not used (CloudTrail alone: no tokens to price)".into();
    };
    match views::unresolved_profile_requests(s) {
        0 => cost.profiles.clone(),
        n => format!("{}; {n} requests named an application profile not in it (left unresolved)", cost.profiles),
    }
}

/// Splits a paragraph into (is code, text) runs at backticks.
pub fn runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    text.split('`').enumerate().filter(|(_, t)| !t.is_empty()).map(|(i, t)| (i % 2 == 1, t))
}

/// Cost by caller (sessions folded into their principal; summary.json keeps them apart) and by
/// the requestMetadata keys asked for.
fn attribution(d: &mut Doc, c: &crate::summary::Cost) {
    d.heading("Cost by caller");
    d.para("The caller's identity ARN as account and principal (IAM Identity Center roles without their random suffix); kind `api-key` is the IAM user of a Bedrock API key (`BedrockAPIKey-...`). Tokens are those of successful calls.");
    d.table(
        tables::with_figures(vec![
            Column::text("Account"),
            Column::text("Principal"),
            Column::text("Kind"),
            Column::number("Sessions"),
        ]),
        views::principals(c).iter().map(|p| {
            tables::row(
                vec![Cell::text(p.account), Cell::text(p.principal), Cell::text(p.kind), Cell::count(p.sessions)],
                &p.figures,
            )
        }),
    );
    if c.by_request_metadata.is_empty() {
        return;
    }
    d.heading("Cost by request metadata");
    d.para("Per `--by-metadata` key and value; `(none)`: the record's requestMetadata has no such key. requestMetadata is the caller's own label, not a billing tag.");
    d.table(
        tables::with_figures(vec![Column::text("Key"), Column::text("Value")]),
        c.by_request_metadata.iter().map(|x| tables::row(vec![Cell::text(&x.key), Cell::text(&x.value)], &x.figures)),
    );
}

/// A count that is unknown when only CloudTrail was read.
fn known_count(v: Option<u64>) -> Cell {
    v.map_or(Cell::Null, Cell::count)
}

/// Totals per UTC day over every source region (the charts split them by region).
fn per_day(d: &mut Doc, s: &Summary) {
    d.heading("Per day");
    d.para("Every record of the day (UTC), all source regions; cost at the prices in force.");
    let columns = ["Requests", "Rerouted", "Rerouted %", "Input tokens", "Output tokens", "USD"];
    d.table(
        [Column::text("Day")].into_iter().chain(columns.map(Column::number)).collect(),
        views::days(s).into_iter().map(|t| {
            vec![
                Cell::Text(t.day),
                Cell::count(t.requests),
                Cell::count(t.rerouted),
                Cell::Percent(t.rerouting_rate),
                known_count(t.input_tokens),
                known_count(t.output_tokens),
                t.usd.map_or(Cell::Null, Cell::Usd),
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
    let ratio =
        |x: Option<f64>| Cell::Formatted(x.map_or("-".to_string(), |r| format!("{}%", signed(Some(r * 100.0), 1))));
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let counts = |name: &str, x: &Change<i64>| {
        vec![
            Cell::text(name),
            Cell::int(x.current),
            Cell::int(x.previous),
            Cell::Formatted(signed(f(x.change), 0)),
            ratio(x.change_ratio),
        ]
    };
    let or_null = |v: Option<f64>, cell: fn(f64) -> Cell| v.map_or(Cell::Null, cell);
    let mut rows = vec![
        counts("Requests", &c.requests),
        counts("Input tokens", &c.input_tokens),
        counts("Output tokens", &c.output_tokens),
        counts("Cache-read tokens", &c.cache_read_tokens),
        counts("Cache-write tokens", &c.cache_write_tokens),
        vec![
            Cell::text("Cost (USD)"),
            or_null(c.cost_usd.current, Cell::Usd),
            or_null(c.cost_usd.previous, Cell::Usd),
            Cell::Formatted(signed(c.cost_usd.change, 4)),
            ratio(c.cost_usd.change_ratio),
        ],
        vec![
            Cell::text("Rerouting rate"),
            or_null(c.rerouting_rate.current, Cell::Percent),
            or_null(c.rerouting_rate.previous, Cell::Percent),
            Cell::Formatted(
                c.rerouting_rate.change.map_or("-".into(), |d| format!("{} points", signed(Some(d * 100.0), 1))),
            ),
            ratio(c.rerouting_rate.change_ratio),
        ],
    ];
    if let Some(v) = &c.violations {
        rows.push(counts("Residency violations", v));
    }
    let figures = ["This period", "Previous", "Change", "Change %"];
    d.table([Column::text("Figure")].into_iter().chain(figures.map(Column::number)).collect(), rows);
    d.para("Latency percentiles by inference region, ms: this period and the previous one.");
    let figures = ["p50", "p50 before", "p90", "p90 before", "p99", "p99 before"];
    d.table(
        [Column::text("Inference region")].into_iter().chain(figures.map(Column::number)).collect(),
        c.latency.iter().map(|l| {
            let mut row = vec![Cell::text(&l.inference_region)];
            for x in [&l.p50_ms, &l.p90_ms, &l.p99_ms] {
                row.extend([Cell::int(x.current), Cell::int(x.previous)]);
            }
            row
        }),
    );
}

/// The report as a document: what report.md and report.html both show.
/// How the percentiles were computed, as summary.json's `latency.percentiles` says.
fn percentiles_note(how: Percentiles, engine: EngineName) -> &'static str {
    match (how, engine) {
        (Percentiles::Exact, _) => "Percentiles are nearest-rank.",
        (Percentiles::Approximate, EngineName::Insights) => {
            "Percentiles are approximate (Logs Insights' pct(); where several groups or split windows make one row, read off the mixture of their curves)."
        }
        (Percentiles::Approximate, _) => "Percentiles are approximate (approx_percentile: a rank error of about 1%).",
    }
}

/// Which engine computed the figures, when it was not this machine, and what that cost.
fn engine_line(s: &Summary) -> Option<String> {
    let e = &s.engine;
    let queries = e.queries?;
    if let Some(groups) = &e.log_groups {
        return Some(format!(
            "Computed by: Logs Insights over {} ({} queries over {} windows, {} split; {} bytes scanned, {} USD)",
            groups.join(", "),
            queries,
            e.windows.unwrap_or(0),
            e.windows_split.unwrap_or(0),
            e.data_scanned_bytes.unwrap_or(0),
            e.cost_usd.map_or_else(String::new, |c| format!("{c:.4}"))
        ));
    }
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
    header(&mut d, s);
    if let Some(c) = &s.comparison {
        comparison(&mut d, c);
    }
    rerouting(&mut d, s, charts);
    if s.sources.cloudtrail_calls > 0 {
        sources(&mut d, s);
    }
    if let Some(c) = &s.coverage {
        coverage(&mut d, c, charts);
    }
    if let Some(m) = &s.metrics {
        metrics(&mut d, m);
    }
    match &s.latency {
        Some(l) => latency(&mut d, l, s.engine.name, charts),
        None => not_available(&mut d, "Latency by inference region", "latency"),
    }
    per_day(&mut d, s);
    figure(&mut d, charts, Id::Volume);

    match (&s.tokens, &s.cost) {
        (Some(t), Some(c)) => tokens_and_cost(&mut d, t, c, charts),
        _ => {
            not_available(&mut d, "Tokens by model", "tokens");
            not_available(&mut d, "Cost", "cost");
        }
    }
    if let Some(b) = &s.batch {
        batch(&mut d, b);
    }
    residency(&mut d, s);
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
    d.blocks.push(Block::Table(tables::errors(s)));
    reading(&mut d, s);
    d
}

/// The window, the record counts, the prices and profiles in use, and the engine.
fn header(d: &mut Doc, s: &Summary) {
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
}

/// Rerouting by source region, and the source x inference region matrix.
fn rerouting(d: &mut Doc, s: &Summary, charts: &[Drawing]) {
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
    d.blocks.push(Block::Table(tables::rerouting(s)));

    figure(d, charts, Id::Rate);

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
    let mut columns = vec![Column::text("Source region")];
    columns.extend(cols.iter().map(|c| Column::number(c)));
    d.table(
        columns,
        cells.iter().map(|(src, row)| {
            let mut v = vec![Cell::text(src)];
            v.extend(cols.iter().map(|c| row.get(c).map_or(Cell::Absent, |n| Cell::count(*n))));
            v
        }),
    );

    figure(d, charts, Id::Matrix);
}

fn residency(d: &mut Doc, s: &Summary) {
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
            d.blocks.push(Block::Table(tables::residency(res)));
        }
    }
}

/// Rejected lines and unreadable input.
fn reading(d: &mut Doc, s: &Summary) {
    d.heading("Rejected lines");
    if s.read.rejects.is_empty() {
        d.para("None.");
    } else {
        d.table(
            vec![Column::text("Reason"), Column::number("Lines"), Column::text("First locations")],
            s.read
                .rejects
                .iter()
                .map(|x| vec![Cell::text(&x.reason), Cell::count(x.lines), Cell::Text(x.first.join(", "))]),
        );
    }
    if !s.read.problems.is_empty() {
        d.heading("Unreadable input");
        d.table(
            vec![Column::text("Source"), Column::text("Problem")],
            s.read.problems.iter().map(|p| vec![Cell::text(&p.source), Cell::text(&p.message)]),
        );
    }
}

fn not_available(d: &mut Doc, heading: &str, what: &str) {
    d.heading(heading);
    d.para(format!(
        "Not available: only CloudTrail was read, and CloudTrail records no {what}. Read the invocation logs too for this section."
    ));
}

fn latency(d: &mut Doc, l: &crate::summary::Latency, engine: EngineName, charts: &[Drawing]) {
    d.heading("Latency by inference region");
    d.para(format!("Successful calls with a known inference region: {}; latency known for {} ({}). InvokeModel logs no latency. {}", l.calls, l.known, pct(if l.calls == 0 { 0.0 } else { l.known as f64 / l.calls as f64 }), percentiles_note(l.percentiles, engine)));
    d.blocks.push(Block::Table(tables::latency(&l.by_inference_region)));

    figure(d, charts, Id::LatencyByRegion);

    d.heading("Latency cost of rerouting");
    d.para(format!(
        "Local and rerouted successful calls of the same source region and model, where both have a known latency. {}",
        percentiles_note(l.percentiles, engine)
    ));
    let figures =
        ["Local calls", "Local p50 ms", "Local p90 ms", "Rerouted calls", "Rerouted p50 ms", "Rerouted p90 ms"];
    d.table(
        [Column::text("Source region"), Column::text("Model")].into_iter().chain(figures.map(Column::number)).collect(),
        l.local_vs_rerouted.iter().filter(|x| x.local_requests > 0 && x.rerouted_requests > 0).map(|x| {
            vec![
                Cell::text(&x.source_region),
                Cell::text(&x.model),
                Cell::count(x.local_requests),
                Cell::int(x.local_p50_ms),
                Cell::int(x.local_p90_ms),
                Cell::count(x.rerouted_requests),
                Cell::int(x.rerouted_p50_ms),
                Cell::int(x.rerouted_p90_ms),
            ]
        }),
    );
    figure(d, charts, Id::LocalVsRerouted);
}

fn tokens_and_cost(d: &mut Doc, t: &crate::summary::Tokens, c: &crate::summary::Cost, charts: &[Drawing]) {
    d.heading("Tokens by model");
    let figures = ["Requests", "Input", "Output", "Cache read", "Cache write 5m", "Cache write 1h"];
    d.table(
        [Column::text("Model")].into_iter().chain(figures.map(Column::number)).collect(),
        t.by_model.iter().map(|x| {
            vec![
                Cell::text(&x.model),
                Cell::count(x.requests),
                Cell::count(x.input),
                Cell::count(x.output),
                Cell::count(x.cache_read),
                Cell::count(x.cache_write - x.cache_write_1h),
                Cell::count(x.cache_write_1h),
            ]
        }),
    );
    operations(d, &t.by_operation);

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
    d.blocks.push(Block::Table(tables::cost_by_model(&c.by_model)));
    d.heading("Cost by tag");
    if c.by_tag.is_empty() {
        d.para("No application-profile tags (pass --profiles with tagged profiles).");
    } else {
        d.table(
            tables::with_figures(vec![Column::text("Key"), Column::text("Value")]),
            c.by_tag.iter().map(|x| tables::row(vec![Cell::text(&x.key), Cell::text(&x.value)], &x.figures)),
        );
    }
    d.heading("Cost by source region and model-id kind");
    d.para("Prices that differ by region apply by source region. Kind is how the caller named the model: a foundation model, a geographic or global cross-region profile, or an application profile.");
    let by = |label: &str, rows: Vec<(&str, &Attributed)>| -> (Vec<Column>, Vec<Vec<Cell>>) {
        (
            tables::with_figures(vec![Column::text(label)]),
            rows.into_iter().map(|(l, f)| tables::row(vec![Cell::text(l)], f)).collect(),
        )
    };
    let (columns, rows) =
        by("Source region", c.by_source_region.iter().map(|x| (x.source_region.as_str(), &x.figures)).collect());
    d.table(columns, rows);
    let (columns, rows) =
        by("Model-id kind", c.by_model_id_kind.iter().map(|x| (x.model_id_kind.as_str(), &x.figures)).collect());
    d.table(columns, rows);
    d.para("Service tier is how the response says the call was served (priority, flex, latency-optimized); a call whose response names none was standard. A tier without a price row is unpriced, never priced as standard.");
    let (columns, rows) =
        by("Service tier", c.by_service_tier.iter().map(|x| (x.service_tier.as_str(), &x.figures)).collect());
    d.table(columns, rows);

    figure(d, charts, Id::Cost);
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
    let n = Column::number;
    d.table(
        capacity_key_columns()
            .into_iter()
            .chain([
                n("Requests"),
                n("Rerouting rate"),
                n("Peak req/min"),
                n("Peak quota tokens/min"),
                n("Burndown"),
                Column::text("Peak minute"),
                n("Throttled"),
                n("Throttled in peak minute"),
                n("Peak throttled/min"),
                n("Quota req/min"),
                n("Quota tokens/min"),
                n("Above 80%"),
            ])
            .collect(),
        cap.by_source_region_model_kind.iter().map(|x| {
            let [source, model, kind] = capacity_key(x);
            vec![
                source,
                model,
                kind,
                Cell::count(x.requests),
                Cell::Percent(x.rerouting_rate),
                Cell::count(x.peak_requests_per_minute),
                Cell::count(x.peak_quota_tokens_per_minute),
                Cell::Formatted(format!("{}x", x.burndown_rate)),
                x.peak_minute.clone().map_or(Cell::Null, Cell::Text),
                Cell::count(x.throttled),
                Cell::count(x.throttled_in_peak_minute),
                Cell::count(x.peak_throttled_per_minute),
                known_count(x.quota_requests_per_minute),
                known_count(x.quota_tokens_per_minute),
                known_count(x.minutes_above_80pct),
            ]
        }),
    );
    figure(d, charts, Id::Capacity);
    reservations(d, cap);
}

/// Tokens per operation, the ones mila does not know named as such.
fn operations(d: &mut Doc, ops: &[crate::summary::OperationTokens]) {
    let unknown: Vec<&str> = ops.iter().filter(|x| !x.known).map(|x| x.operation.as_str()).collect();
    d.heading("Tokens by operation");
    d.para(match unknown.len() {
        0 => "Every record is of an operation mila knows (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream).".to_string(),
        n => format!(
            "{n} operation{} mila does not know ({}): kept and counted like the others. Their tokens are the log's counts or, where the log has none, the response's OpenAI usage (prompt tokens less cached ones, completion tokens, cached tokens as cache reads). mila reads no latency for them.",
            if n == 1 { "" } else { "s" },
            unknown.join(", ")
        ),
    });
    let figures = ["Requests", "Input", "Output", "Cache read", "Cache write"];
    d.table(
        [Column::text("Operation"), Column::text("Known")].into_iter().chain(figures.map(Column::number)).collect(),
        ops.iter().map(|x| {
            vec![
                Cell::text(&x.operation),
                Cell::text(if x.known { "yes" } else { "no" }),
                Cell::count(x.requests),
                Cell::count(x.input),
                Cell::count(x.output),
                Cell::count(x.cache_read),
                Cell::count(x.cache_write),
            ]
        }),
    );
}

/// A capacity row's key cells, and its key columns.
fn capacity_key(x: &crate::summary::CapacityRow) -> [Cell; 3] {
    [Cell::text(&x.source_region), Cell::text(&x.model), Cell::text(&x.quota_kind)]
}

fn capacity_key_columns() -> [Column; 3] {
    [Column::text("Source region"), Column::text("Model"), Column::text("Quota kind")]
}

/// What calls reserved when they started, beside what they settled to.
fn reservations(d: &mut Doc, cap: &crate::summary::Capacity) {
    let rows = &cap.by_source_region_model_kind;
    let over: u64 = rows.iter().filter_map(|x| x.minutes_reserved_over_quota).sum();
    let unnamed: u64 = rows.iter().map(|x| x.requests_without_max_tokens).sum();
    d.para(format!(
        "Reservations: Bedrock takes input + cache-read + cache-write tokens + the request's most output tokens (`maxTokens`, `max_tokens` ...) from the quota when a call starts, and gives back what it did not use when it ends, so a minute can be throttled on its reservations while its settled quota tokens stay under the quota. The most output tokens count once in the reservation, while output settles at the burndown rate, so a 5x model's settled tokens can pass what it reserved. {} minute{} reserved past the quota while settling within it. {} call{} named no most output tokens (or had no body logged): such a call reserves the model's own maximum, which mila does not know, so its settled output stands in and the reservation shown is a floor.",
        over,
        if over == 1 { "" } else { "s" },
        unnamed,
        if unnamed == 1 { "" } else { "s" },
    ));
    let n = Column::number;
    d.table(
        capacity_key_columns()
            .into_iter()
            .chain([
                n("Peak reserved tokens/min"),
                Column::text("Peak reserved minute"),
                n("Peak quota tokens/min"),
                n("Without maxTokens"),
                n("Quota tokens/min"),
                n("Reserved over quota"),
            ])
            .collect(),
        rows.iter().map(|x| {
            let [source, model, kind] = capacity_key(x);
            vec![
                source,
                model,
                kind,
                Cell::count(x.peak_reserved_tokens_per_minute),
                x.peak_reserved_minute.clone().map_or(Cell::Null, Cell::Text),
                Cell::count(x.peak_quota_tokens_per_minute),
                Cell::count(x.requests_without_max_tokens),
                known_count(x.quota_tokens_per_minute),
                known_count(x.minutes_reserved_over_quota),
            ]
        }),
    );
}

/// Which records the figures come from, when CloudTrail was read.
fn sources(d: &mut Doc, s: &Summary) {
    let x = &s.sources;
    d.heading("Sources");
    let mut lines = vec![
        format!("Invocation-log records: {}", x.invocation_log_records),
        format!(
            "CloudTrail: {} Bedrock calls, {} of them without an invocation-log record (counted from CloudTrail); {} other events skipped",
            x.cloudtrail_calls, x.cloudtrail_only, x.cloudtrail_other_events
        ),
    ];
    if x.bedrock_mantle_calls > 0 {
        lines.push(format!(
            "Of the CloudTrail calls, {} are bedrock-mantle calls (operation `bedrock-mantle:EVENT`): that endpoint is never logged, so they are no logging gap",
            x.bedrock_mantle_calls
        ));
    }
    if let Some(t) = &x.cloudtrail_tokens {
        lines.push(format!(
            "Tokens CloudTrail recorded for the calls only it saw (`additionalEventData`): {} input, {} output, {}; these come from CloudTrail and are not in the tokens and cost sections, which come from the invocation logs",
            t.input_tokens,
            t.output_tokens,
            usd(t.usd)
        ));
    }
    d.bullets(lines);
    d.para("A call is counted once: by its invocation-log record when there is one, else by its CloudTrail event. CloudTrail gives the source region, model, caller, error and, for a cross-region call, `inferenceRegion`; latency and cache tokens only the invocation logs record.");
}

fn coverage(d: &mut Doc, c: &crate::summary::Coverage, charts: &[Drawing]) {
    d.heading("Logging coverage");
    d.para(format!(
        "CloudTrail records every call; invocation logging only where it is on. {} CloudTrail calls, {} invocation-log records; {} of the CloudTrail calls have a log record (counts compared per source region, day, model id and operation).",
        c.cloudtrail_calls,
        c.invocation_log_records,
        c.coverage.map_or("-".into(), pct)
    ));
    let logged = c.by_source_region_day.iter().filter(|x| x.status == CoverageStatus::Logged).count();
    d.para(format!(
        "Source regions' days where logging was missing, partial or where CloudTrail has no calls ({logged} fully logged region-days not listed; summary.json lists all):"
    ));
    let text = Column::text;
    let n = Column::number;
    d.table(
        vec![
            text("Day"),
            text("Source region"),
            n("CloudTrail calls"),
            n("Calls logged"),
            n("Log records"),
            n("Coverage"),
            text("Status"),
        ],
        c.by_source_region_day.iter().filter(|x| x.status != CoverageStatus::Logged).map(|x| {
            vec![
                Cell::text(&x.day),
                Cell::text(&x.source_region),
                Cell::count(x.cloudtrail_calls),
                Cell::count(x.cloudtrail_calls_logged),
                Cell::count(x.invocation_log_records),
                x.coverage.map_or(Cell::Null, Cell::Percent),
                Cell::text(x.status.as_str()),
            ]
        }),
    );
    figure(d, charts, Id::Coverage);
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
            vec![
                text("Day"),
                text("Source region"),
                text("Model id"),
                text("Operation"),
                n("CloudTrail calls"),
                n("Log records"),
            ],
            c.gaps.iter().map(|x| {
                vec![
                    Cell::text(&x.day),
                    Cell::text(&x.source_region),
                    Cell::text(&x.model_id),
                    Cell::text(&x.operation),
                    Cell::count(x.cloudtrail_calls),
                    Cell::count(x.invocation_log_records),
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
            ["Request id", "Time", "Source region", "Model id", "Operation"].map(text).to_vec(),
            c.only_in_cloudtrail_listed.iter().map(|x| {
                [&x.request_id, &x.time, &x.source_region, &x.model_id, &x.operation].map(|v| Cell::text(v)).to_vec()
            }),
        );
    }
}

/// Batch inference jobs: never in the invocation logs, billed at the batch rate.
fn batch(d: &mut Doc, b: &crate::summary::batch::BatchOut) {
    let t = &b.totals;
    d.heading("Batch inference jobs");
    d.para(format!(
        "{} jobs, {} records succeeded and {} failed, {} input and {} output tokens as their manifests count them: {} USD at the batch rows of the price table (in the cost above as kind batch, never as on-demand calls). {} jobs unpriced; {} jobs without counts (no manifest read: their tokens are not known, not zero).",
        t.jobs,
        t.records_succeeded,
        t.records_failed,
        t.input_tokens,
        t.output_tokens,
        usd(t.usd),
        t.unpriced_jobs,
        t.jobs_without_counts
    ));
    d.blocks.push(Block::Table(tables::batch_jobs(b)));
}

/// What Bedrock's CloudWatch metrics count beside the logs: traffic the logs lack, logging
/// coverage by day, latency per model id.
fn metrics(d: &mut Doc, m: &crate::summary::metrics::MetricsOut) {
    let text = Column::text;
    let n = Column::number;
    let t = &m.totals;
    d.heading("Traffic the invocation logs do not hold (CloudWatch metrics)");
    d.para(format!(
        "Read from AWS/Bedrock and AWS/BedrockMantle in {} at {} s: {} calls counted, {} of them in the invocation logs, {} not ({} on bedrock-mantle, which is never logged). Their tokens come to {}{}{}. Reading the metrics: {} calls, {} metrics requested, {:.4} USD.",
        m.regions.join(", "),
        m.period_seconds,
        t.calls,
        t.logged_requests,
        t.not_in_logs,
        t.mantle_calls,
        usd(t.usd_not_in_logs),
        t.share_of_cost_from_metrics.map_or(String::new(), |s| format!(", {} of the cost of logs and metrics together", pct(s))),
        if t.unpriced_calls > 0 { format!(" ({} calls of models without a price row unpriced)", t.unpriced_calls) } else { String::new() },
        m.calls,
        m.metrics_requested,
        m.cost_usd,
    ));
    for note in &m.notes {
        d.para(format!("Note: {note}."));
    }
    d.table(
        vec![
            text("Source region"),
            text("Endpoint"),
            text("Model"),
            text("Project"),
            text("Tier"),
            n("Calls"),
            n("Logged"),
            n("Not in logs"),
            n("Input tokens not in logs"),
            n("Output tokens not in logs"),
            n("USD not in logs"),
        ],
        m.traffic.iter().map(|x| {
            vec![
                Cell::text(&x.source_region),
                Cell::text(x.endpoint.as_str()),
                Cell::text(&x.model),
                x.project.as_deref().map_or(Cell::Null, Cell::text),
                Cell::text(x.service_tier),
                Cell::count(x.calls),
                Cell::count(x.logged_requests),
                Cell::count(x.not_in_logs),
                Cell::count(x.input_tokens_not_in_logs),
                Cell::count(x.output_tokens_not_in_logs),
                x.usd_not_in_logs.map_or(Cell::Null, Cell::Usd),
            ]
        }),
    );
    let gaps: Vec<_> = m.coverage_by_day.iter().filter(|x| x.status != CoverageStatus::Logged).collect();
    d.para(format!(
        "Logging coverage from the metrics: {} of {} (source region, model, day) cells have every call the metrics count in the logs; the others:",
        m.coverage_by_day.len() - gaps.len(),
        m.coverage_by_day.len()
    ));
    d.table(
        vec![text("Day"), text("Source region"), text("Model"), n("Calls"), n("Logged"), n("Coverage"), text("Status")],
        gaps.iter().map(|x| {
            vec![
                Cell::text(&x.day),
                Cell::text(&x.source_region),
                Cell::text(&x.model),
                Cell::count(x.calls),
                Cell::count(x.logged_requests),
                x.coverage.map_or(Cell::Null, Cell::Percent),
                Cell::text(x.status.as_str()),
            ]
        }),
    );
    if !m.capacity.is_empty() {
        d.para("Quota usage as Bedrock estimates it (EstimatedTPMQuotaUsage, per minute) beside the peak quota tokens the logs add up to, and the share of the tokens-per-minute quota used at the busiest and the p90 minute (flagged above 80%):");
        let share = |v: Option<f64>| v.map_or(Cell::Null, Cell::Percent);
        d.table(
            vec![
                text("Source region"),
                text("Model id"),
                text("Quota kind"),
                n("AWS peak TPM"),
                text("AWS peak minute"),
                n("AWS p90 TPM"),
                n("Logs' peak TPM"),
                text("Logs' peak minute"),
                n("AWS at that minute"),
                n("Difference"),
                n("Peak share"),
                n("p90 share"),
                text("Above 80%"),
            ],
            m.capacity.iter().map(|x| {
                vec![
                    Cell::text(&x.source_region),
                    Cell::text(&x.model_id),
                    Cell::text(x.quota_kind),
                    Cell::count(x.aws_peak_tpm),
                    Cell::text(&x.aws_peak_minute),
                    Cell::count(x.aws_p90_tpm),
                    x.log_peak_tpm.map_or(Cell::Null, Cell::count),
                    x.log_peak_minute.as_deref().map_or(Cell::Null, Cell::text),
                    x.aws_at_log_peak.map_or(Cell::Null, Cell::count),
                    x.difference.map_or(Cell::Null, Cell::Int),
                    share(x.peak_share),
                    share(x.p90_share),
                    Cell::text(if x.above_80pct { "yes" } else { "no" }),
                ]
            }),
        );
    }
    if !m.latency.is_empty() {
        d.para("Latency per model id over the window, as CloudWatch computes it (InvokeModel calls log none):");
        let ms = |v: Option<f64>| v.map_or(Cell::Null, Cell::Mean);
        d.table(
            vec![
                text("Source region"),
                text("Model id"),
                n("Samples"),
                n("p50 ms"),
                n("p90 ms"),
                n("p99 ms"),
                n("First token p50 ms"),
            ],
            m.latency.iter().map(|x| {
                vec![
                    Cell::text(&x.source_region),
                    Cell::text(&x.model_id),
                    x.samples.map_or(Cell::Null, Cell::count),
                    ms(x.p50_ms),
                    ms(x.p90_ms),
                    ms(x.p99_ms),
                    ms(x.first_token_p50_ms),
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
        vec![
            Column::text("Account"),
            Column::text("Principal"),
            Column::text("Kind"),
            Column::text("Session"),
            Column::number("Requests"),
            Column::number("Errors"),
        ],
        s.callers.iter().map(|x| {
            vec![
                Cell::text(&x.account),
                Cell::text(&x.principal),
                Cell::text(x.kind),
                Cell::text(&x.session),
                Cell::count(x.requests),
                Cell::count(x.errors),
            ]
        }),
    );
}
