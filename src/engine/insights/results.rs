//! Logs Insights rows -> the result tables the Athena statements give (`athena::tables` reads
//! them into the local engine's `Tables`). The parts of a split window are added up here, exactly:
//! every figure but a percentile is a count or a sum. Raw keys (model id, source region and
//! inference region as logged, tier as written) are resolved by `resolve::resolve` and
//! `ServiceTier::from_response`, the local engine's own functions; the copies of a request
//! delivered more than once are taken back out, as the local engine keeps only the first.

use std::collections::BTreeMap;

use super::client::Rows;
use super::ql::{self, f, s};
use super::split::Span;
use crate::engine::athena::client::ResultTable;
use crate::engine::athena::sql::{self, records};
use crate::frame::col;
use crate::given::policy::{Policy, Verdict};
use crate::given::prices::Context;
use crate::given::profiles::Profiles;
use crate::record::{RecordedBy, Route, ServiceTier};
use crate::resolve::resolve;

/// A row as Logs Insights gives it: its fields by name (a field with no value is left out).
pub type Row = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RowError {
    #[error("Logs Insights gave `{value}` for `{field}` of `{query}`, not a whole number")]
    NotAnInteger { query: &'static str, field: String, value: String },
    #[error("Logs Insights gave `{value}` for `{field}` of `{query}`, not a time")]
    NotATime { query: &'static str, field: String, value: String },
}

/// Every row of every part of one query's split window.
pub fn rows(parts: &[Rows]) -> Vec<Row> {
    parts.iter().flat_map(|p| p.rows.iter().map(|r| r.iter().cloned().collect())).collect()
}

fn text<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).map(String::as_str).filter(|v| !v.is_empty())
}

/// A count or sum: Logs Insights may print a whole number as `12.0`; absent is 0, and none is
/// below 0 (every figure read this way counts or adds up counts).
fn int(query: &'static str, row: &Row, field: &str) -> Result<i64, RowError> {
    let Some(v) = text(row, field) else { return Ok(0) };
    v.parse::<i64>()
        .ok()
        .or_else(|| v.parse::<f64>().ok().filter(|x| x.fract() == 0.0 && x.abs() < 9.0e18).map(|x| x as i64))
        .map(|n| n.max(0))
        .ok_or_else(|| RowError::NotAnInteger { query, field: field.into(), value: v.into() })
}

/// A time as Logs Insights prints `bin()` and `@timestamp` (`2026-11-09 00:00:00.000`, UTC), or
/// epoch milliseconds.
pub fn time_ms(query: &'static str, row: &Row, field: &str) -> Result<i64, RowError> {
    let bad = || RowError::NotATime { query, field: field.into(), value: text(row, field).unwrap_or("").into() };
    let v = text(row, field).ok_or_else(bad)?;
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc().timestamp_millis())
        .map_err(|_| bad())
}

/// The tier a row's raw tier fields name, as `record::body` reads them.
pub fn tier(raw: Option<&str>, performance: Option<&str>) -> ServiceTier {
    if performance.is_some_and(|p| p.eq_ignore_ascii_case("optimized")) {
        return ServiceTier::LatencyOptimized;
    }
    raw.map(ServiceTier::from_response).unwrap_or_default()
}

/// Request count and token sums, in `col::TOKENS` order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums([i64; 6]);

impl Sums {
    fn of(query: &'static str, row: &Row) -> Result<Sums, RowError> {
        let mut out = [0; 6];
        out[0] = int(query, row, s::REQUESTS)?;
        for (o, t) in out[1..].iter_mut().zip(col::TOKENS) {
            *o = int(query, row, t)?;
        }
        Ok(Sums(out))
    }
    /// Adds `b` `times` times (negative: takes copies out); saturating, so no answer, however
    /// absurd its sums, wraps around.
    fn add(&mut self, b: Sums, times: i64) {
        for (a, b) in self.0.iter_mut().zip(b.0) {
            *a = a.saturating_add(b.saturating_mul(times));
        }
    }
    /// One copy's share of a row of identical copies.
    fn per_copy(self) -> Sums {
        let n = self.0[0].max(1);
        let mut out = self.0.map(|v| v / n);
        out[0] = 1;
        Sums(out)
    }
}

/// What a row is priced and grouped by, resolved: model id, model, kind, source region, error,
/// tier, and (for usage) route and where it ran.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Priced {
    model_id: String,
    model: String,
    kind: &'static str,
    source: String,
    error: Option<String>,
    tier: &'static str,
    context: &'static str,
    route: &'static str,
    ran_in: Option<String>,
    /// The inference region as logged (for the violations' pairs).
    logged: Option<String>,
}

fn priced(row: &Row, profiles: &Profiles) -> Priced {
    let model_id = text(row, f::MODEL_ID).unwrap_or("");
    let source = text(row, f::REGION).unwrap_or("");
    let logged = text(row, f::INFERENCE);
    let r = resolve(source, model_id, logged, profiles);
    Priced {
        model_id: model_id.into(),
        model: r.model.into(),
        kind: r.kind.as_str(),
        source: source.into(),
        error: text(row, f::ERROR).map(str::to_string),
        tier: tier(text(row, f::TIER), text(row, f::PERFORMANCE)).as_str(),
        context: context(text(row, f::LONG)).as_str(),
        route: r.route.as_str(),
        ran_in: r.ran_in.map(str::to_string),
        logged: logged.map(str::to_string),
    }
}

/// One copy too many of a request: the row of the duplicates query it came from, and how many
/// extra copies there were.
struct Extra {
    row: Row,
    copies: i64,
    each: Sums,
    latency_each: Option<i64>,
    /// One copy's reservation, and whether it named its most output tokens (1 or 0).
    reserved_each: i64,
    with_max_each: i64,
}

/// The duplicates query's rows -> the copies to take back out, and how many there were.
fn extras(dups: &[Row]) -> Result<(Vec<Extra>, u64), RowError> {
    let mut out = Vec::new();
    let mut copies = 0u64;
    for row in dups {
        let sums = Sums::of(ql::DUPLICATES, row)?;
        let n = sums.0[0];
        if n < 2 {
            continue;
        }
        let latency_n = int(ql::DUPLICATES, row, s::LATENCY_N)?;
        let latency_each =
            (latency_n > 0).then(|| int(ql::DUPLICATES, row, s::LATENCY_SUM)).transpose()?.map(|v| v / n);
        copies = copies.saturating_add((n - 1) as u64);
        let reserved_each = int(ql::DUPLICATES, row, s::RESERVED)? / n;
        let with_max_each = int(ql::DUPLICATES, row, s::WITH_MAX_TOKENS)? / n;
        out.push(Extra {
            row: row.clone(),
            copies: n - 1,
            each: sums.per_copy(),
            latency_each,
            reserved_each,
            with_max_each,
        });
    }
    Ok((out, copies))
}

/// Sums by key: rows of every part added up, extra copies taken out.
struct Grouped<K: Ord> {
    sums: BTreeMap<K, Sums>,
}

impl<K: Ord> Grouped<K> {
    fn new() -> Self {
        Grouped { sums: BTreeMap::new() }
    }
    fn add(&mut self, key: K, sums: Sums, times: i64) {
        self.sums.entry(key).or_default().add(sums, times);
    }
    /// Keys whose every copy was taken out are dropped.
    fn rows(self) -> impl Iterator<Item = (K, Sums)> {
        self.sums.into_iter().filter(|(_, s)| s.0[0] > 0)
    }
}

fn cell(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

fn sum_cells(s: Sums) -> impl Iterator<Item = Option<String>> {
    s.0.into_iter().map(cell)
}

fn sum_columns() -> impl Iterator<Item = String> {
    std::iter::once(col::REQUESTS).chain(col::TOKENS).map(str::to_string)
}

fn table(name: &'static str, columns: Vec<String>, rows: Vec<Vec<Option<String>>>) -> ResultTable {
    ResultTable { name, columns, types: Vec::new(), rows }
}

/// The priced columns of callers and metadata (`col::PRICED`), after their own keys.
fn priced_cells(p: &Priced) -> [Option<String>; col::PRICED.len()] {
    [
        cell(&p.model_id),
        cell(&p.model),
        cell(p.kind),
        cell(&p.source),
        p.error.clone(),
        cell(p.tier),
        cell(p.context),
        cell(RecordedBy::InvocationLog.as_str()),
    ]
}

/// A call's size for pricing from the `m_long` field (`1` or `0`; printed as a number).
pub fn context(long: Option<&str>) -> Context {
    match long.and_then(|v| v.parse::<f64>().ok()) {
        Some(v) if v > 0.0 => Context::Long,
        _ => Context::Standard,
    }
}

/// What the question's queries gave, by query name.
pub struct Answers<'a> {
    pub by_name: BTreeMap<&'static str, Vec<Row>>,
    pub profiles: &'a Profiles,
    pub log_groups: &'a [String],
    pub metadata_keys: &'a [String],
}

impl Answers<'_> {
    fn get(&self, name: &'static str) -> &[Row] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every result table the answers make, in the Athena statements' names.
    pub fn tables(&self) -> Result<Vec<ResultTable>, RowError> {
        let (extras, duplicates) = extras(self.get(ql::DUPLICATES))?;
        let usage = self.usage(&extras)?;
        let mut out = vec![self.records(&usage, duplicates)?];
        let calls = calls_by_region(&usage);
        out.push(usage_table(usage));
        if self.by_name.contains_key(sql::CALLERS) {
            out.push(self.callers(&extras)?);
        }
        if self.by_name.contains_key(sql::METADATA) {
            out.push(self.metadata(&extras)?);
        }
        if self.by_name.contains_key(sql::OPERATIONS) {
            out.push(self.operations(&extras)?);
        }
        if self.by_name.contains_key(sql::MINUTES) {
            out.push(self.minutes(&extras)?);
        }
        if self.by_name.contains_key(ql::LATENCY_REGION) {
            out.extend(self.latency(&extras, &calls)?);
        }
        Ok(out)
    }

    fn usage(&self, extras: &[Extra]) -> Result<Grouped<(i64, Priced)>, RowError> {
        let mut g = Grouped::new();
        for row in self.get(sql::USAGE) {
            g.add((time_ms(sql::USAGE, row, f::DAY)?, priced(row, self.profiles)), Sums::of(sql::USAGE, row)?, 1);
        }
        for e in extras {
            let day =
                time_ms(ql::DUPLICATES, &e.row, f::MINUTE)?.div_euclid(crate::window::DAY_MS) * crate::window::DAY_MS;
            g.add((day, priced(&e.row, self.profiles)), e.each, -e.copies);
        }
        Ok(g)
    }

    /// Lines by status: every event of the window; those read (`ok`, with their distinct
    /// request ids); the rest, which Logs Insights cannot say why it did not read.
    fn records(&self, usage: &Grouped<(i64, Priced)>, duplicates: u64) -> Result<ResultTable, RowError> {
        let mut events = 0i64;
        for row in self.get(ql::EVENTS) {
            events = events.saturating_add(int(ql::EVENTS, row, s::LINES)?);
        }
        let read = usage.sums.values().fold(0i64, |a, s| a.saturating_add(s.0[0])).saturating_add(duplicates as i64);
        let unread = (events - read).max(0);
        let groups = self.log_groups.len();
        let mut rows = vec![vec![cell(sql::OK), cell(read), cell(read - duplicates as i64), cell(groups), None]];
        if unread > 0 {
            // Where: the log groups (Logs Insights says no more without reading the events back).
            let place = format!("log group{} {}", if groups == 1 { "" } else { "s" }, self.log_groups.join(", "));
            rows.push(vec![cell(NOT_READ), cell(unread), cell(unread), cell(groups), cell(place)]);
        }
        rows.push(vec![None, cell(events), None, cell(groups), None]);
        let columns = [records::STATUS, records::LINES, records::IDS, records::OBJECTS, records::FIRST];
        Ok(table(sql::RECORDS, columns.map(str::to_string).to_vec(), rows))
    }

    fn callers(&self, extras: &[Extra]) -> Result<ResultTable, RowError> {
        let own = |row: &Row| vec![text(row, f::ARN).map(str::to_string)];
        self.priced_table(sql::CALLERS, vec![col::IDENTITY_ARN.to_string()], own, extras)
    }

    fn metadata(&self, extras: &[Extra]) -> Result<ResultTable, RowError> {
        let n = self.metadata_keys.len();
        let own = |row: &Row| (0..n).map(|i| text(row, &ql::metadata_field(i)).map(str::to_string)).collect();
        self.priced_table(sql::METADATA, (0..n).map(sql::metadata_column).collect(), own, extras)
    }

    /// A table of sums by its own keys and the priced ones (callers, metadata): the rows of its
    /// query, the extra copies taken out.
    fn priced_table(
        &self,
        name: &'static str,
        own_columns: Vec<String>,
        own: impl Fn(&Row) -> Vec<Option<String>>,
        extras: &[Extra],
    ) -> Result<ResultTable, RowError> {
        let key = |row: &Row| (own(row), pricing(priced(row, self.profiles)));
        let mut g = Grouped::new();
        for row in self.get(name) {
            g.add(key(row), Sums::of(name, row)?, 1);
        }
        for e in extras {
            g.add(key(&e.row), e.each, -e.copies);
        }
        let rows = g
            .rows()
            .map(|((values, p), s)| values.into_iter().chain(priced_cells(&p)).chain(sum_cells(s)).collect())
            .collect();
        let columns = own_columns.into_iter().chain(col::PRICED.map(str::to_string)).chain(sum_columns()).collect();
        Ok(table(name, columns, rows))
    }

    /// Sums per operation as logged, the extra copies taken out.
    fn operations(&self, extras: &[Extra]) -> Result<ResultTable, RowError> {
        let key = |row: &Row| text(row, f::OPERATION).unwrap_or_default().to_string();
        let mut g = Grouped::new();
        for row in self.get(sql::OPERATIONS) {
            g.add(key(row), Sums::of(sql::OPERATIONS, row)?, 1);
        }
        for e in extras {
            g.add(key(&e.row), e.each, -e.copies);
        }
        let rows = g.rows().map(|(op, sums)| std::iter::once(cell(op)).chain(sum_cells(sums)).collect()).collect();
        let columns = std::iter::once(col::OPERATION.to_string()).chain(sum_columns()).collect();
        Ok(table(sql::OPERATIONS, columns, rows))
    }

    fn minutes(&self, extras: &[Extra]) -> Result<ResultTable, RowError> {
        // (source, model, model id, minute) -> requests, tokens once, output, rerouted, throttled,
        // reserved, without most tokens. A throttled call reserved nothing (`capacity::reserved`).
        let mut g: BTreeMap<(String, String, String, i64), [i64; 7]> = BTreeMap::new();
        let mut add = |row: &Row, minute: i64, v: [i64; 5], times: i64| {
            let p = priced(row, self.profiles);
            let [requests, once, output, reserved, with_max] = v;
            let rerouted = if p.route == Route::Rerouted.as_str() { requests } else { 0 };
            let throttled = p.error.as_deref() == Some(crate::analysis::capacity::THROTTLING);
            let (reserved, without) = match throttled {
                true => (0, 0),
                false => (reserved, requests - with_max),
            };
            let throttled = if throttled { requests } else { 0 };
            let e = g.entry((p.source, p.model, p.model_id, minute)).or_default();
            for (a, b) in e.iter_mut().zip([requests, once, output, rerouted, throttled, reserved, without]) {
                *a = a.saturating_add(b.saturating_mul(times));
            }
        };
        for row in self.get(sql::MINUTES) {
            let v = [
                int(sql::MINUTES, row, s::REQUESTS)?,
                int(sql::MINUTES, row, s::TOKENS_ONCE)?,
                int(sql::MINUTES, row, col::OUTPUT_TOKENS)?,
                int(sql::MINUTES, row, s::RESERVED)?,
                int(sql::MINUTES, row, s::WITH_MAX_TOKENS)?,
            ];
            add(row, time_ms(sql::MINUTES, row, f::MINUTE)?, v, 1);
        }
        for e in extras {
            let v = [1, e.each.0[1] + e.each.0[4], e.each.0[2], e.reserved_each, e.with_max_each];
            add(&e.row, time_ms(ql::DUPLICATES, &e.row, f::MINUTE)?, v, -e.copies);
        }
        let rows = g
            .into_iter()
            .filter(|(_, v)| v[0] > 0)
            .map(|((source, model, id, minute), v)| {
                [cell(source), cell(model), cell(id), cell(minute)].into_iter().chain(v.map(cell)).collect()
            })
            .collect();
        let columns = [
            col::SOURCE_REGION,
            col::MODEL,
            col::MODEL_ID,
            col::MINUTE,
            col::REQUESTS,
            sql::minutes::TOKENS_ONCE,
            col::OUTPUT_TOKENS,
            col::REROUTED,
            crate::analysis::capacity::THROTTLED,
            sql::minutes::RESERVED,
            sql::minutes::WITHOUT_MAX_TOKENS,
        ];
        Ok(table(sql::MINUTES, columns.map(str::to_string).to_vec(), rows))
    }

    /// Latency by where the call ran and by route. Counts, sums and so means are exact; each
    /// percentile is Logs Insights' `pct()` of its group: the table's row, for calls with an
    /// inference region logged (per region; per source region and model id and route). Where
    /// several groups meet in one row (model ids of one model; calls with no region logged; the
    /// windows of a query split by a timeout), read off the mixture of their curves: approximate.
    fn latency(&self, extras: &[Extra], calls: &BTreeMap<String, i64>) -> Result<Vec<ResultTable>, RowError> {
        let mut by_region: BTreeMap<String, Latency> = BTreeMap::new();
        let mut by_route: BTreeMap<(String, String, &'static str), Latency> = BTreeMap::new();
        for row in self.get(ql::LATENCY_REGION) {
            let Some(region) = text(row, f::INFERENCE) else { continue };
            by_region.entry(region.to_string()).or_default().merge(&Latency::of(ql::LATENCY_REGION, row)?);
        }
        for row in self.get(ql::LATENCY_LOCAL) {
            let logged = text(row, f::LOGGED).is_some_and(|v| v == "true" || v == "1");
            let l = Latency::of(ql::LATENCY_LOCAL, row)?;
            let p = priced(row, self.profiles);
            if logged {
                by_route.entry((p.source, p.model, Route::Local.as_str())).or_default().merge(&l);
                continue;
            }
            // No inference region logged: where the model id says the call ran, if it says.
            if let Some(ran_in) = &p.ran_in {
                by_region.entry(ran_in.clone()).or_default().merge(&l);
            }
            if p.route != Route::Unknown.as_str() {
                by_route.entry((p.source, p.model, p.route)).or_default().merge(&l);
            }
        }
        for row in self.get(ql::LATENCY_REROUTED) {
            let p = priced(row, self.profiles);
            let l = Latency::of(ql::LATENCY_REROUTED, row)?;
            by_route.entry((p.source, p.model, Route::Rerouted.as_str())).or_default().merge(&l);
        }
        for e in extras {
            let timed = text(&e.row, f::OPERATION).is_some_and(|o| ql::LATENCY_OPERATIONS.contains(&o));
            if text(&e.row, f::ERROR).is_some() || !timed {
                continue;
            }
            let p = priced(&e.row, self.profiles);
            let Some(each) = e.latency_each else { continue };
            let out = |l: &mut Latency| l.take_out(e.copies, each);
            if let Some(l) = p.ran_in.as_ref().and_then(|r| by_region.get_mut(r)) {
                out(l);
            }
            if let Some(l) = by_route.get_mut(&(p.source.clone(), p.model.clone(), p.route)) {
                out(l);
            }
        }
        let mut keys: Vec<&String> = calls.keys().collect();
        keys.extend(by_region.keys().filter(|k| !calls.contains_key(*k)));
        keys.sort();
        let none = Latency::default();
        let regions = keys
            .into_iter()
            .map(|region| {
                let l = by_region.get(region).unwrap_or(&none);
                vec![
                    cell(region),
                    cell(calls.get(region).copied().unwrap_or(0)),
                    cell(l.n),
                    l.pct(50),
                    l.pct(90),
                    l.pct(99),
                    (l.n > 0).then(|| (l.sum as f64 / l.n as f64).to_string()),
                    l.first_byte(),
                ]
            })
            .collect();
        let routes = by_route
            .into_iter()
            .filter(|(_, l)| l.n > 0)
            .map(|((source, model, route), l)| {
                vec![cell(source), cell(model), cell(route), cell(l.n), l.pct(50), l.pct(90)]
            })
            .collect();
        use crate::analysis::latency as lat;
        Ok(vec![
            table(
                sql::LATENCY_BY_REGION,
                [
                    col::INFERENCE_REGION,
                    lat::CALLS,
                    col::REQUESTS,
                    lat::P50,
                    lat::P90,
                    lat::P99,
                    lat::MEAN,
                    lat::FIRST_BYTE_P50,
                ]
                .map(str::to_string)
                .to_vec(),
                regions,
            ),
            table(
                sql::LATENCY_BY_ROUTE,
                [col::SOURCE_REGION, col::MODEL, col::ROUTE, col::REQUESTS, lat::P50, lat::P90]
                    .map(str::to_string)
                    .to_vec(),
                routes,
            ),
        ])
    }
}

/// A distribution as Logs Insights describes a group: points (value, share of requests at or
/// below it) through its min, percentiles and max, and the requests it weighs.
#[derive(Clone, Debug, PartialEq)]
struct Curve {
    weight: i64,
    points: Vec<(f64, f64)>,
}

impl Curve {
    fn of(row: &Row, prefix: &str, qs: &[u32], weight: i64) -> Option<Curve> {
        let value = |name: String| number(row, &name);
        let mut points = vec![(value(format!("{prefix}min"))?, 0.0)];
        for q in qs {
            points.push((value(format!("{prefix}p{q}"))?, *q as f64 / 100.0));
        }
        points.push((value(format!("{prefix}max"))?, 1.0));
        (weight > 0).then_some(Curve { weight, points })
    }
    /// Share of requests at or below `x`, drawn straight between the points.
    fn at(&self, x: f64) -> f64 {
        let p = &self.points;
        if x < p[0].0 {
            return 0.0;
        }
        for w in p.windows(2) {
            let ((x0, q0), (x1, q1)) = (w[0], w[1]);
            if x <= x1 {
                return if x1 > x0 { q0 + (q1 - q0) * (x - x0) / (x1 - x0) } else { q1 };
            }
        }
        1.0
    }
}

/// The `q` quantile of several groups met in one row: the group's own percentile when there is
/// one group (exactly what Logs Insights said), else read off the mixture of their curves.
fn quantile(curves: &[Curve], asked: u32) -> Option<i64> {
    let q = asked as f64 / 100.0;
    match curves {
        [] => None,
        [one] => one
            .points
            .iter()
            .find(|(_, share)| (*share - asked as f64 / 100.0).abs() < 1e-9)
            .map(|(v, _)| v.round() as i64),
        many => {
            let total: f64 = many.iter().map(|c| c.weight as f64).sum();
            let mix = |x: f64| many.iter().map(|c| c.weight as f64 * c.at(x)).sum::<f64>() / total;
            let (mut lo, mut hi) = (
                many.iter().map(|c| c.points[0].0).fold(f64::INFINITY, f64::min),
                many.iter().map(|c| c.points[c.points.len() - 1].0).fold(f64::NEG_INFINITY, f64::max),
            );
            for _ in 0..60 {
                let mid = (lo + hi) / 2.0;
                if mix(mid) >= q {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Some(hi.round() as i64)
        }
    }
}

/// One latency row: exact counts and sums, and the curves of the groups (and windows) it gathers.
#[derive(Default, Clone)]
struct Latency {
    n: i64,
    sum: i64,
    curves: Vec<Curve>,
    first_byte: Vec<Curve>,
}

impl Latency {
    fn of(query: &'static str, row: &Row) -> Result<Latency, RowError> {
        let n = int(query, row, s::LATENCY_N)?;
        let fb_n = int(query, row, s::FIRST_BYTE_N)?;
        Ok(Latency {
            n,
            sum: int(query, row, s::LATENCY_SUM)?,
            curves: Curve::of(row, s::LATENCY_POINT, &ql::LATENCY_POINTS, n).into_iter().collect(),
            first_byte: Curve::of(row, s::FIRST_BYTE_POINT, &ql::FIRST_BYTE_POINTS, fb_n).into_iter().collect(),
        })
    }
    fn merge(&mut self, b: &Latency) {
        self.n = self.n.saturating_add(b.n);
        self.sum = self.sum.saturating_add(b.sum);
        self.curves.extend(b.curves.iter().cloned());
        self.first_byte.extend(b.first_byte.iter().cloned());
    }
    /// Extra copies of a request: out of the count and the sum (the curves keep them).
    fn take_out(&mut self, copies: i64, each: i64) {
        self.n = self.n.saturating_sub(copies);
        self.sum = self.sum.saturating_sub(copies.saturating_mul(each));
    }
    fn pct(&self, q: u32) -> Option<String> {
        if self.n <= 0 {
            return None;
        }
        quantile(&self.curves, q).and_then(cell)
    }
    fn first_byte(&self) -> Option<String> {
        quantile(&self.first_byte, 50).and_then(cell)
    }
}

/// A percentile as Logs Insights gives it: a number (maybe with a fraction), or absent.
fn number(row: &Row, field: &str) -> Option<f64> {
    text(row, field).and_then(|v| v.parse::<f64>().ok()).filter(|x| x.is_finite())
}

/// The windows the minutes are asked in, planned from the usage so that few results fill the
/// limit (each full one was scanned for nothing). A window of `m` minutes of a day holds at most
/// `groups x m` rows (its (source region, model id, inference region, error) groups, each minute),
/// and about `2 x requests x m / 1440` (the day's requests, at twice the day's mean rate): a busy
/// day is cut into windows of as many whole minutes as keep the smaller under nine tenths of the
/// limit, and consecutive days that fit together are one window. Where the estimate is short, the
/// window is split as any other.
pub fn minute_windows(usage: &[Row], span: Span, limit: usize) -> Result<Vec<Span>, RowError> {
    use std::collections::BTreeSet;
    /// A day's (source region, model id, inference region, error) groups, and its requests.
    type Day<'a> = (BTreeSet<[Option<&'a str>; 4]>, i64);
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for row in usage {
        let day = time_ms(sql::USAGE, row, f::DAY)?.div_euclid(1000);
        let key = [f::REGION, f::MODEL_ID, f::INFERENCE, f::ERROR].map(|k| text(row, k));
        let d = days.entry(day).or_default();
        d.0.insert(key);
        d.1 = d.1.saturating_add(int(sql::USAGE, row, s::REQUESTS)?);
    }
    const DAY: i64 = 86_400;
    let budget = limit as f64 * 0.9;
    let mut out = Vec::new();
    // Quiet days are gathered into one window while their rows fit together.
    let mut open: Option<(i64, f64)> = None;
    let mut day = span.start.div_euclid(DAY) * DAY;
    while day < span.end {
        let (groups, requests) = days.get(&day).map_or((0, 0), |(g, r)| (g.len(), *r));
        let per_minute = (groups as f64).min(2.0 * requests as f64 / 1440.0).max(1e-9);
        let (from, to) = (day.max(span.start), (day + DAY).min(span.end));
        let rows = per_minute * ((to - from) / 60 + 1) as f64;
        match open {
            Some((start, held)) if held + rows <= budget => open = Some((start, held + rows)),
            _ if rows <= budget => {
                out.extend(open.map(|(start, _)| Span { start, end: from }));
                open = Some((from, rows));
            }
            _ => {
                out.extend(open.take().map(|(start, _)| Span { start, end: from }));
                let minutes = ((budget / per_minute).floor() as i64).clamp(1, 1440);
                let mut at = from;
                while at < to {
                    // Whole minutes from the day's start, so no minute is cut in two.
                    let end = (day + ((at - day) / 60 + minutes) * 60).min(to);
                    out.push(Span { start: at, end });
                    at = end;
                }
            }
        }
        day += DAY;
    }
    out.extend(open.map(|(start, _)| Span { start, end: span.end }));
    Ok(out)
}

/// The status of the events Logs Insights did not read as records (it cannot say why: not JSON,
/// another source's events, a required field missing).
pub const NOT_READ: &str = "not read as a ModelInvocationLog record (as Logs Insights reads it)";

/// The usage key without route and where it ran (callers and metadata are not by route).
fn pricing(p: Priced) -> Priced {
    Priced { route: "", ran_in: None, logged: None, ..p }
}

/// Successful calls per where they ran: the latency tables' `calls`.
fn calls_by_region(usage: &Grouped<(i64, Priced)>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for ((_, p), s) in &usage.sums {
        if let (None, Some(r)) = (&p.error, &p.ran_in) {
            let calls: &mut i64 = out.entry(r.clone()).or_default();
            *calls = calls.saturating_add(s.0[0]);
        }
    }
    out.retain(|_, v| *v > 0);
    out
}

fn usage_table(usage: Grouped<(i64, Priced)>) -> ResultTable {
    // Rows that differ only in the logged inference region (resolved the same) are one row.
    let mut merged: BTreeMap<(i64, Priced), Sums> = BTreeMap::new();
    for ((day, p), s) in usage.rows() {
        merged.entry((day, Priced { logged: None, ..p })).or_default().add(s, 1);
    }
    let rows = merged
        .into_iter()
        .map(|((day, p), s)| {
            [
                cell(day),
                cell(&p.source),
                cell(&p.model_id),
                cell(&p.model),
                cell(p.kind),
                cell(p.route),
                p.ran_in.clone(),
                p.error.clone(),
                cell(p.tier),
                cell(p.context),
                cell(RecordedBy::InvocationLog.as_str()),
            ]
            .into_iter()
            .chain(sum_cells(s))
            .collect()
        })
        .collect();
    let columns = [
        col::DAY,
        col::SOURCE_REGION,
        col::MODEL_ID,
        col::MODEL,
        col::MODEL_ID_KIND,
        col::ROUTE,
        col::INFERENCE_REGION,
        col::ERROR_CODE,
        col::SERVICE_TIER,
        col::CONTEXT,
        col::RECORDED_BY,
    ]
    .map(str::to_string)
    .into_iter()
    .chain(sum_columns())
    .collect();
    table(sql::USAGE, columns, rows)
}

/// The source regions of a usage, sorted.
pub fn source_regions(usage: &[Row]) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = usage.iter().filter_map(|r| text(r, f::REGION)).collect();
    set.into_iter().map(str::to_string).collect()
}

/// The (source region, logged inference region, model id) groups of a usage whose requests the
/// policy calls violations; the model id only where no inference region is logged.
pub fn violating_pairs(answers: &Answers, policy: &Policy) -> Vec<ql::Pair> {
    let mut out = std::collections::BTreeSet::new();
    for row in answers.get(sql::USAGE) {
        let p = priced(row, answers.profiles);
        if policy.verdict(&p.source, p.ran_in.as_deref()) == Verdict::Violation {
            let id = if p.logged.is_some() { String::new() } else { p.model_id.clone() };
            out.insert((p.source, p.logged, id));
        }
    }
    out.into_iter().collect()
}

/// The violations query's rows -> the violations table: one row per request (a copy delivered
/// again is listed once, at its first time).
pub fn violations(rows: &[Row], profiles: &Profiles) -> Result<ResultTable, RowError> {
    let mut first: BTreeMap<String, (i64, Row)> = BTreeMap::new();
    for row in rows {
        let Some(id) = text(row, f::REQUEST) else { continue };
        let at = time_ms(sql::VIOLATIONS, row, f::AT)?;
        match first.get(id) {
            Some((t, _)) if *t <= at => {}
            _ => {
                first.insert(id.to_string(), (at, row.clone()));
            }
        }
    }
    let mut listed: Vec<(i64, String, Row)> = first.into_iter().map(|(id, (at, row))| (at, id, row)).collect();
    listed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let rows = listed
        .into_iter()
        .map(|(at, id, row)| {
            let p = priced(&row, profiles);
            vec![
                cell(id),
                cell(at),
                cell(&p.source),
                p.ran_in.clone(),
                cell(&p.model_id),
                text(&row, f::ARN).map(str::to_string),
            ]
        })
        .collect();
    let columns =
        [col::REQUEST_ID, col::TIMESTAMP, col::SOURCE_REGION, col::INFERENCE_REGION, col::MODEL_ID, col::IDENTITY_ARN];
    Ok(table(sql::VIOLATIONS, columns.map(str::to_string).to_vec(), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[(&str, &str)]) -> Row {
        fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn minutes_are_asked_in_windows_the_usage_says_fit() {
        let day = |d: &str, region: &str, n: &str| {
            row(&[("day", d), (f::REGION, region), (f::MODEL_ID, "m"), ("requests", n)])
        };
        const MON: i64 = 1_794_182_400;
        let week = Span { start: MON, end: MON + 7 * 86_400 };
        // Quiet days (or none at all) are one window each; a busy day with 30 groups (29 and
        // us-east-1) at a limit
        // of 1,000 gets windows of 30 minutes (900 rows at most): 48 of them.
        let usage =
            [day("2026-11-09 00:00:00.000", "us-east-1", "100"), day("2026-11-10 00:00:00.000", "us-east-1", "500000")];
        let mut busy: Vec<Row> = (0..29).map(|i| day("2026-11-10 00:00:00.000", &format!("r{i}"), "100000")).collect();
        busy.extend(usage);
        let w = minute_windows(&busy, week, 1_000).unwrap();
        assert_eq!(w.len(), 1 + 48 + 1, "{w:?}");
        assert_eq!(w[0], Span { start: MON, end: MON + 86_400 });
        assert_eq!(w[1], Span { start: MON + 86_400, end: MON + 86_400 + 1_800 });
        assert!(w.windows(2).all(|p| p[0].end == p[1].start) && w.last().unwrap().end == week.end);
        assert_eq!(w[49], Span { start: MON + 2 * 86_400, end: week.end });
        // A thousand years without usage is one window, not one a day.
        let ages = Span { start: 0, end: 1000 * 365 * 86_400 };
        assert_eq!(minute_windows(&[], ages, 1_000).unwrap(), [ages]);
        // A window that starts inside a minute keeps the day's minute boundaries.
        let odd = Span { start: MON + 86_400 + 30, end: MON + 86_400 + 3_600 };
        let w = minute_windows(&busy, odd, 1_000).unwrap();
        assert_eq!(
            w,
            [Span { start: MON + 86_430, end: MON + 88_200 }, Span { start: MON + 88_200, end: MON + 90_000 }]
        );
    }

    #[test]
    fn absurd_figures_are_refused_or_held_not_wrapped() {
        let r = row(&[("a", "-5"), ("b", "9e300"), ("c", "12.5"), ("d", "9223372036854775807"), ("e", "x")]);
        assert_eq!(int("q", &r, "a"), Ok(0));
        for bad in ["b", "c", "e"] {
            assert!(int("q", &r, bad).is_err(), "{bad}");
        }
        let big = Sums::of("q", &row(&[("requests", "9223372036854775807"), ("input_tokens", "9223372036854775807")]))
            .unwrap();
        let mut total = Sums::default();
        total.add(big, 1);
        total.add(big, 3);
        assert_eq!(total.0[..2], [i64::MAX, i64::MAX]);
    }

    #[test]
    fn times_come_as_insights_prints_them() {
        let r = row(&[("day", "2026-11-09 00:00:00.000"), ("minute", "1794182460000"), ("bad", "monday")]);
        assert_eq!(time_ms("q", &r, "day"), Ok(1_794_182_400_000));
        assert_eq!(time_ms("q", &r, "minute"), Ok(1_794_182_460_000));
        assert!(time_ms("q", &r, "bad").is_err());
        assert!(time_ms("q", &r, "absent").is_err());
    }

    #[test]
    fn tiers_read_as_the_parser_reads_them() {
        let cases = [
            (None, None, ServiceTier::Standard),
            (Some("priority"), None, ServiceTier::Priority),
            (Some("default"), None, ServiceTier::Standard),
            (Some("FLEX"), None, ServiceTier::Flex),
            (Some("turbo"), None, ServiceTier::Other),
            (Some("priority"), Some("Optimized"), ServiceTier::LatencyOptimized),
            (None, Some("standard"), ServiceTier::Standard),
        ];
        for (raw, perf, want) in cases {
            assert_eq!(tier(raw, perf), want, "{raw:?} {perf:?}");
        }
    }

    #[test]
    fn split_parts_add_up_and_extra_copies_come_out() {
        let profiles = Profiles::default();
        let usage = |day: &str, n: &str, input: &str| {
            row(&[
                ("day", day),
                (f::REGION, "us-east-1"),
                (f::MODEL_ID, "us.amazon.nova-lite-v1:0"),
                (f::INFERENCE, "us-west-2"),
                ("requests", n),
                ("input_tokens", input),
            ])
        };
        let dup = row(&[
            (f::REQUEST, "r1"),
            ("minute", "2026-11-09 10:01:00.000"),
            (f::REGION, "us-east-1"),
            (f::MODEL_ID, "us.amazon.nova-lite-v1:0"),
            (f::INFERENCE, "us-west-2"),
            ("requests", "3"),
            ("input_tokens", "30"),
        ]);
        let mut by_name = BTreeMap::new();
        // One day in two parts of a split window: 4 + 6 requests, 3 of them copies of one (2 extra).
        by_name.insert(
            sql::USAGE,
            vec![usage("2026-11-09 00:00:00.000", "4", "40"), usage("2026-11-09 00:00:00.000", "6", "60.0")],
        );
        by_name.insert(ql::DUPLICATES, vec![dup]);
        by_name.insert(ql::EVENTS, vec![row(&[("lines", "7")]), row(&[("lines", "5")])]);
        let groups = ["g".to_string()];
        let a = Answers { by_name, profiles: &profiles, log_groups: &groups, metadata_keys: &[] };
        let t = a.tables().unwrap();
        let u = t.iter().find(|t| t.name == sql::USAGE).unwrap();
        let at = |c: &str| u.column(c).unwrap();
        assert_eq!(u.rows.len(), 1);
        let r = &u.rows[0];
        assert_eq!(r[at(col::REQUESTS)].as_deref(), Some("8"));
        assert_eq!(r[at(col::INPUT_TOKENS)].as_deref(), Some("80"));
        assert_eq!(r[at(col::MODEL)].as_deref(), Some("amazon.nova-lite-v1:0"));
        assert_eq!(r[at(col::ROUTE)].as_deref(), Some("rerouted"));
        let rec = t.iter().find(|t| t.name == sql::RECORDS).unwrap();
        let stats = crate::engine::athena::tables::load_stats(std::slice::from_ref(rec)).unwrap();
        // 12 events: 10 read (2 of them extra copies), 2 not read.
        assert_eq!((stats.lines, stats.rejected, stats.duplicates), (12, 2, 2));
    }
}
