//! The tables the report and the terminal's summary both show, built once: each column
//! carries the terminal's header where the terminal shows it.

use super::super::table::{Cell, Column, Table};
use crate::summary::{Attributed, Summary};

/// The labels of a cost table, then the figures every cost table shows after them.
pub(super) fn with_figures(mut labels: Vec<Column>) -> Vec<Column> {
    labels.extend([
        Column::number("Requests").short("requests"),
        Column::number("Input tokens"),
        Column::number("Output tokens"),
        Column::number("Cache write 5m"),
        Column::number("Cache write 1h"),
        Column::number("USD").short("USD"),
        Column::number("Unpriced").short("unpriced"),
    ]);
    labels
}

/// A cost table's row: its labels, then requests, billed tokens, USD and unpriced requests.
pub(super) fn row(mut labels: Vec<Cell>, f: &Attributed) -> Vec<Cell> {
    labels.extend([
        Cell::count(f.requests),
        Cell::count(f.input),
        Cell::count(f.output),
        Cell::count(f.cache_write_5m),
        Cell::count(f.cache_write_1h),
        Cell::Usd(f.usd),
        Cell::count(f.unpriced),
    ]);
    labels
}

pub(super) fn rerouting(s: &Summary) -> Table {
    let n = |h, short| Column::number(h).short(short);
    Table::new(
        vec![
            Column::text("Source region").short("source region"),
            n("Requests", "requests"),
            n("Local", "local"),
            n("Rerouted", "rerouted"),
            n("Unknown", "unknown"),
            n("Rerouted %", "rate"),
        ],
        s.rerouting
            .by_source_region
            .iter()
            .map(|x| {
                vec![
                    Cell::text(&x.source_region),
                    Cell::count(x.requests),
                    Cell::count(x.local),
                    Cell::count(x.rerouted),
                    Cell::count(x.unknown),
                    Cell::Percent(x.rate),
                ]
            })
            .collect(),
    )
}

pub(super) fn latency(rows: &[crate::summary::LatencyRow]) -> Table {
    let n = Column::number;
    Table::new(
        vec![
            Column::text("Inference region").short("inference region"),
            n("Calls").short("calls"),
            n("With latency"),
            n("Coverage").short("coverage"),
            n("p50 ms").short("p50"),
            n("p90 ms").short("p90"),
            n("p99 ms").short("p99"),
            n("Mean ms"),
            n("First byte p50 ms"),
        ],
        rows.iter()
            .map(|x| {
                vec![
                    Cell::text(&x.inference_region),
                    Cell::count(x.calls),
                    Cell::count(x.requests),
                    Cell::Percent(x.coverage),
                    Cell::int(x.p50_ms),
                    Cell::int(x.p90_ms),
                    Cell::int(x.p99_ms),
                    x.mean_ms.map_or(Cell::Null, Cell::Mean),
                    Cell::int(x.first_byte_p50_ms),
                ]
            })
            .collect(),
    )
}

/// Per model; with batch jobs read, per model and kind (on-demand or batch).
pub(super) fn cost_by_model(rows: &[crate::summary::CostModel]) -> Table {
    if rows.iter().all(|x| x.kind == crate::summary::batch::ON_DEMAND) {
        return Table::new(
            with_figures(vec![Column::text("Model").short("model")]),
            rows.iter().map(|x| row(vec![Cell::text(&x.model)], &x.figures)).collect(),
        );
    }
    Table::new(
        with_figures(vec![Column::text("Model").short("model"), Column::text("Kind").short("kind")]),
        rows.iter().map(|x| row(vec![Cell::text(&x.model), Cell::text(x.kind)], &x.figures)).collect(),
    )
}

/// One row per batch inference job.
pub(super) fn batch_jobs(b: &crate::summary::batch::BatchOut) -> Table {
    let text = |v: &Option<String>| v.as_deref().map_or(Cell::Null, Cell::text);
    let count = |v: Option<u64>| v.map_or(Cell::Null, Cell::count);
    Table::new(
        vec![
            Column::text("Job").short("job"),
            Column::text("Name"),
            Column::text("Region"),
            Column::text("Model").short("model"),
            Column::text("Status").short("status"),
            Column::text("Submitted"),
            Column::text("Ended"),
            Column::number("Succeeded").short("succeeded"),
            Column::number("Failed").short("failed"),
            Column::number("Input tokens"),
            Column::number("Output tokens"),
            Column::number("USD").short("USD"),
            Column::text("Problem"),
        ],
        b.jobs
            .iter()
            .map(|j| {
                vec![
                    Cell::text(&j.job_id),
                    text(&j.job_name),
                    text(&j.region),
                    text(&j.model),
                    text(&j.status),
                    text(&j.submit_time),
                    text(&j.end_time),
                    count(j.records_succeeded),
                    count(j.records_failed),
                    count(j.input_tokens),
                    count(j.output_tokens),
                    j.usd.map_or(Cell::Null, Cell::Usd),
                    text(&j.problem),
                ]
            })
            .collect(),
    )
}

pub(super) fn residency(res: &crate::summary::Residency) -> Table {
    let n = |h, short| Column::number(h).short(short);
    Table::new(
        vec![
            Column::text("Source region").short("source region"),
            n("Checked", "checked"),
            n("Violations", "violations"),
            n("Unverifiable", "unverifiable"),
        ],
        res.by_source_region
            .iter()
            .map(|x| {
                vec![
                    Cell::text(&x.source_region),
                    Cell::count(x.checked),
                    Cell::count(x.violations),
                    Cell::count(x.unverifiable),
                ]
            })
            .collect(),
    )
}

pub(super) fn errors(s: &Summary) -> Table {
    Table::new(
        vec![Column::text("Error code").short("error code"), Column::number("Requests").short("requests")],
        s.errors.by_code.iter().map(|x| vec![Cell::text(&x.error_code), Cell::count(x.requests)]).collect(),
    )
}

/// The tables of the terminal's summary, with their titles: the report's own tables, in the
/// columns the terminal shows.
pub fn terminal_tables(s: &Summary) -> Vec<(&'static str, Table)> {
    let by_region = s.latency.as_ref().map_or(&[][..], |l| &l.by_inference_region);
    let cost = s.cost.as_ref().map_or(&[][..], |c| &c.by_model);
    let mut out = vec![
        ("Rerouting by source region", rerouting(s)),
        ("Latency by inference region (ms, nearest rank)", latency(by_region)),
        ("Cost by model", cost_by_model(cost)),
    ];
    if let Some(res) = &s.residency {
        out.push(("Residency by source region", residency(res)));
    }
    out.push(("Invocation errors by code", errors(s)));
    out.into_iter().map(|(title, t)| (title, t.for_terminal())).collect()
}
