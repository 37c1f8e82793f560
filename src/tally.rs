//! The local engine: one pass over the records that makes every table of `crate::tables`.
//!
//! Records are never kept. Each one adds to a few hash maps keyed by dictionary codes (usage,
//! callers, metadata, minutes), so memory follows the distinct data; the only per-record cost is
//! its latency (4 bytes, for exact nearest-rank percentiles) and `load`'s request-id set.

use std::collections::HashMap;

use polars::prelude::*;

use crate::analysis::capacity::{self, Rules};
use crate::analysis::latency::{self, Latencies};
use crate::frame::{
    col, count, gather, recorded_by_column, s, Batch, Interned, Seen, Sink, Translation, NULL_CODE, STRINGS,
};
use crate::given::policy::{Policy, Verdict};
use crate::given::prices::Context;
use crate::given::quotas::QuotaKind;
use crate::record::{RecordedBy, Route};
use crate::tables::Tables;
use crate::window::{DAY_MS, MINUTE_MS};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Requests and the token sums (`col::TOKENS`).
type Tokens = [u64; col::TOKENS.len()];
type Sums = [u64; 1 + col::TOKENS.len()];

/// A call's size for pricing, from its input, cache-read and cache-write tokens.
fn context_of(tokens: Tokens) -> Context {
    let [input, _, cache_read, cache_write, _] = tokens;
    Context::of(input, cache_read, cache_write)
}

fn context_column(values: impl Iterator<Item = Context>) -> Column {
    Column::new(col::CONTEXT.into(), values.map(Context::as_str).collect::<Vec<_>>())
}

fn add(into: &mut Sums, tokens: Tokens) {
    into[0] += 1;
    for (a, t) in into[1..].iter_mut().zip(tokens) {
        *a = a.saturating_add(t);
    }
}

/// The string columns of a usage row, after its day (and before which record counted it).
const USAGE: [usize; 8] = [s::SOURCE, s::MODEL_ID, s::MODEL, s::KIND, s::ROUTE, s::INFERENCE, s::ERROR, s::TIER];
type UsageKey = (i64, [u32; USAGE.len()], Context, RecordedBy);

/// The string columns of a callers or metadata row, after the identity or metadata text.
const PRICED: [usize; 6] = [s::MODEL_ID, s::MODEL, s::KIND, s::SOURCE, s::ERROR, s::TIER];
type PricedKey = (u32, [u32; PRICED.len()], Context, RecordedBy);

/// The string columns of a coverage row, after its day.
const COVERAGE: [usize; 3] = [s::SOURCE, s::MODEL_ID, s::OPERATION];
type CoverageKey = (i64, [u32; COVERAGE.len()]);

/// A capacity row: source region and model codes, and the quota kind.
type CapacityKey = (u32, u32, QuotaKind);

/// How many calls found only in CloudTrail are listed by request id (the oldest).
pub const CLOUDTRAIL_ONLY_LISTED: usize = 100;

#[derive(Default)]
struct RegionLatency {
    calls: u64,
    latency: Latencies,
    first_byte: Latencies,
}

struct Violation {
    request_id: Box<str>,
    timestamp: i64,
    codes: [u32; 4],
}

/// Columns of a violation row after the request id and time.
const VIOLATION_STRINGS: [usize; 4] = [s::SOURCE, s::INFERENCE, s::MODEL_ID, s::IDENTITY];

pub struct Tally<'a> {
    /// What `report` needs beyond usage: callers, minutes and latencies (`check` needs none).
    report: bool,
    metadata: bool,
    capacity: Option<Rules<'a>>,
    policy: Option<&'a Policy>,
    dict: [Interned; STRINGS.len()],
    /// The string columns this tally reads; the others are never translated (a metadata text
    /// is long, and interning it when no table needs it would cost a hash and its bytes).
    needed: [bool; STRINGS.len()],
    route_codes: [u32; 2],
    throttling_code: u32,
    /// Model-id code (dense) -> the quota its calls count against, once decided.
    quota_kinds: Vec<Option<QuotaKind>>,
    usage: Map<UsageKey, Sums>,
    callers: Map<PricedKey, Sums>,
    by_metadata: Map<PricedKey, Sums>,
    /// (source region, model, quota kind) -> its index in `minutes`.
    pairs: Map<CapacityKey, usize>,
    /// Per row, its minutes: one small table each, so no single table doubles at once.
    minutes: Vec<(CapacityKey, Map<i64, capacity::Minute>)>,
    by_region: Map<u32, RegionLatency>,
    by_route: Map<(u32, u32, u32), Latencies>,
    violating: Map<(u32, u32), bool>,
    violations: Vec<Violation>,
    /// Per (day, source region, model id, operation): invocation-log records, CloudTrail calls,
    /// and the CloudTrail calls no log record matched.
    coverage: Map<CoverageKey, [u64; 3]>,
    /// Per operation code: the invocation-log records' sums.
    operations: Map<u32, Sums>,
    /// Identity codes of CloudTrail events marked as called with a bearer token.
    api_keys: std::collections::HashSet<u32>,
    /// The oldest calls found only in CloudTrail: (time, request id, coverage key codes).
    trail_only: std::collections::BinaryHeap<(i64, Box<str>, [u32; COVERAGE.len()])>,
}

impl<'a> Tally<'a> {
    /// For `report`: `metadata` says whether `--by-metadata` needs the metadata table; each
    /// minute is judged with the capacity rules.
    pub fn for_report(metadata: bool, capacity: Rules<'a>) -> Tally<'a> {
        let mut t = Tally { report: true, metadata, capacity: Some(capacity), ..Tally::new() };
        t.needed[s::IDENTITY] = true;
        t.needed[s::METADATA] = metadata;
        t
    }

    /// For `check`: usage (for the counts) and the violating requests.
    pub fn for_check(policy: &'a Policy) -> Tally<'a> {
        let mut t = Tally { policy: Some(policy), ..Tally::new() };
        t.needed[s::IDENTITY] = true;
        t
    }

    /// Usage only (`prices --check`).
    pub fn for_usage() -> Tally<'a> {
        Tally::new()
    }

    fn new() -> Tally<'a> {
        let mut dict: [Interned; STRINGS.len()] = Default::default();
        let route_codes = [Route::Local, Route::Rerouted].map(|r| dict[s::ROUTE].code(Some(r.as_str())));
        let throttling_code = dict[s::ERROR].code(Some(capacity::THROTTLING));
        Tally {
            report: false,
            metadata: false,
            capacity: None,
            policy: None,
            dict,
            needed: std::array::from_fn(|k| USAGE.contains(&k) || COVERAGE.contains(&k)),
            route_codes,
            throttling_code,
            quota_kinds: Vec::new(),
            usage: Map::default(),
            callers: Map::default(),
            by_metadata: Map::default(),
            pairs: Map::default(),
            minutes: Vec::new(),
            by_region: Map::default(),
            by_route: Map::default(),
            violating: Map::default(),
            violations: Vec::new(),
            coverage: Map::default(),
            operations: Map::default(),
            api_keys: Default::default(),
            trail_only: Default::default(),
        }
    }

    fn violates(&mut self, source: u32, inference: u32) -> bool {
        let Some(policy) = self.policy else { return false };
        let dict = &self.dict;
        *self.violating.entry((source, inference)).or_insert_with(|| {
            let verdict =
                policy.verdict(dict[s::SOURCE].value(source).unwrap_or(""), dict[s::INFERENCE].value(inference));
            verdict == Verdict::Violation
        })
    }
}

impl Tally<'_> {
    /// Callers, metadata, minutes and latencies of row `i`, with its global codes `c`. A
    /// CloudTrail event counts as a caller's call; it has no metadata, tokens or latency.
    fn report_row(&mut self, batch: &Batch, i: usize, ts: i64, c: &[u32; STRINGS.len()], tokens: Tokens) {
        let priced = PRICED.map(|k| c[k]);
        let by = batch.recorded_by[i];
        let context = context_of(tokens);
        add(self.callers.entry((c[s::IDENTITY], priced, context, by)).or_default(), tokens);
        if by == RecordedBy::CloudTrail {
            return;
        }
        if self.metadata {
            add(self.by_metadata.entry((c[s::METADATA], priced, context, by)).or_default(), tokens);
        }

        if let Some(rules) = self.capacity {
            let kind = match c[s::MODEL_ID] {
                // Every record has a model id; a missing one would name no quota.
                NULL_CODE => QuotaKind::Other,
                code => {
                    let code = code as usize;
                    if self.quota_kinds.len() <= code {
                        self.quota_kinds.resize(code + 1, None);
                    }
                    let dict = &self.dict;
                    *self.quota_kinds[code].get_or_insert_with(|| {
                        QuotaKind::of(dict[s::MODEL_ID].value(code as u32).unwrap_or_default(), rules.profiles)
                    })
                }
            };
            let minute_ms = ts.div_euclid(MINUTE_MS) * MINUTE_MS;
            let row = (c[s::SOURCE], c[s::MODEL], kind);
            let minutes = &mut self.minutes;
            let at = *self.pairs.entry(row).or_insert_with(|| {
                minutes.push((row, Map::default()));
                minutes.len() - 1
            });
            let [input, output, cache_read, cache_write, _] = tokens;
            minutes[at].1.entry(minute_ms).or_default().add_call(capacity::Call {
                rerouted: c[s::ROUTE] == self.route_codes[1],
                throttled: c[s::ERROR] == self.throttling_code,
                tokens_once: input.saturating_add(cache_write),
                output,
                cache_read,
                max_tokens: batch.max_tokens[i],
            });
        }

        let ok = c[s::ERROR] == NULL_CODE;
        let (latency, first_byte) = (batch.latency_ms[i], batch.first_byte_ms[i]);
        if ok && c[s::INFERENCE] != NULL_CODE {
            let region = self.by_region.entry(c[s::INFERENCE]).or_default();
            region.calls += 1;
            if let Some(v) = latency {
                region.latency.push(v);
            }
            if let Some(v) = first_byte {
                region.first_byte.push(v);
            }
        }
        if let Some(v) = latency.filter(|_| ok && self.route_codes.contains(&c[s::ROUTE])) {
            self.by_route.entry((c[s::SOURCE], c[s::MODEL], c[s::ROUTE])).or_default().push(v);
        }
    }
}

impl Sink for Tally<'_> {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        let mut tables: [Translation; STRINGS.len()] = Default::default();
        for (i, seen) in seen.iter().enumerate().filter(|(_, s)| s.is_kept()) {
            let c: [u32; STRINGS.len()] = std::array::from_fn(|k| match self.needed[k] {
                true => tables[k].code(&mut self.dict[k], &batch.strings[k], batch.strings[k].codes[i]),
                false => NULL_CODE,
            });
            let ts = batch.timestamp[i];
            let day = ts.div_euclid(DAY_MS) * DAY_MS;
            let by = batch.recorded_by[i];
            let covered = COVERAGE.map(|k| c[k]);
            let counts = self.coverage.entry((day, covered)).or_default();
            match (by, seen) {
                (RecordedBy::InvocationLog, _) => counts[0] += 1,
                (RecordedBy::CloudTrail, Seen::Logged) => counts[1] += 1,
                (RecordedBy::CloudTrail, _) => {
                    counts[1] += 1;
                    counts[2] += 1;
                    // Only a call that goes into the list costs an allocation: with CloudTrail
                    // alone, every call is one only in CloudTrail.
                    let id = batch.request_id.get(i);
                    let full = self.trail_only.len() >= CLOUDTRAIL_ONLY_LISTED;
                    if !full || self.trail_only.peek().is_some_and(|newest| (ts, id) < (newest.0, &*newest.1)) {
                        if full {
                            self.trail_only.pop();
                        }
                        self.trail_only.push((ts, id.into(), covered));
                    }
                }
            }
            // Every event counts here, its call logged or not: the log record has no such flag.
            if by == RecordedBy::CloudTrail && batch.bearer_token[i] && c[s::IDENTITY] != NULL_CODE {
                self.api_keys.insert(c[s::IDENTITY]);
            }
            if !seen.is_new() {
                continue;
            }
            let tokens: Tokens = std::array::from_fn(|k| batch.tokens[k][i]);
            add(self.usage.entry((day, USAGE.map(|k| c[k]), context_of(tokens), by)).or_default(), tokens);
            if by == RecordedBy::InvocationLog {
                add(self.operations.entry(c[s::OPERATION]).or_default(), tokens);
            }
            if self.report {
                self.report_row(batch, i, ts, &c, tokens);
            }
            if self.violates(c[s::SOURCE], c[s::INFERENCE]) {
                self.violations.push(Violation {
                    request_id: batch.request_id.get(i).into(),
                    timestamp: ts,
                    codes: VIOLATION_STRINGS.map(|k| c[k]),
                });
            }
        }
    }
}

/// A string column from dictionary codes.
fn strings(name: &str, dict: &Interned, codes: impl Iterator<Item = u32>) -> PolarsResult<Column> {
    gather(name, dict.values.iter().map(|v| &**v), codes)
}

fn ints(name: &str, values: impl Iterator<Item = u64>) -> Column {
    Column::new(name.into(), values.map(count).collect::<Vec<_>>())
}

fn opt_ints(name: &str, values: impl Iterator<Item = Option<u64>>) -> Column {
    Column::new(name.into(), values.map(|v| v.map(count)).collect::<Vec<_>>())
}

fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns)
}

/// The request count and token sums as columns.
fn sums_columns(rows: &[&Sums]) -> Vec<Column> {
    let mut out = vec![ints(col::REQUESTS, rows.iter().map(|r| r[0]))];
    for (k, name) in col::TOKENS.iter().enumerate() {
        out.push(ints(name, rows.iter().map(|r| r[k + 1])));
    }
    out
}

impl Tally<'_> {
    /// A table keyed by a string column of `first` and the `PRICED` columns.
    fn priced_table(&self, first: usize, map: Map<PricedKey, Sums>) -> PolarsResult<DataFrame> {
        let (keys, sums): (Vec<PricedKey>, Vec<Sums>) = map.into_iter().unzip();
        let sums: Vec<&Sums> = sums.iter().collect();
        let d = &self.dict;
        let mut columns = vec![strings(STRINGS[first], &d[first], keys.iter().map(|k| k.0))?];
        for (j, k) in PRICED.into_iter().enumerate() {
            columns.push(strings(STRINGS[k], &d[k], keys.iter().map(|key| key.1[j]))?);
        }
        columns.push(context_column(keys.iter().map(|k| k.2)));
        columns.push(recorded_by_column(keys.iter().map(|k| k.3))?);
        columns.extend(sums_columns(&sums));
        frame(columns)
    }

    /// The coverage table, and the oldest calls found only in CloudTrail, oldest first.
    fn coverage_tables(&mut self) -> PolarsResult<(DataFrame, DataFrame)> {
        let d = &self.dict;
        let (keys, counts): (Vec<&CoverageKey>, Vec<&[u64; 3]>) = self.coverage.iter().unzip();
        let mut columns = vec![Column::new(col::DAY.into(), keys.iter().map(|k| k.0).collect::<Vec<_>>())];
        for (j, k) in COVERAGE.into_iter().enumerate() {
            columns.push(strings(STRINGS[k], &d[k], keys.iter().map(|key| key.1[j]))?);
        }
        for (j, name) in crate::tables::coverage::COUNTS.into_iter().enumerate() {
            columns.push(ints(name, counts.iter().map(|c| c[j])));
        }
        let coverage = frame(columns)?;
        let listed = std::mem::take(&mut self.trail_only).into_sorted_vec();
        let mut columns = vec![
            Column::new(col::REQUEST_ID.into(), listed.iter().map(|r| &*r.1).collect::<Vec<_>>()),
            Series::new(col::TIMESTAMP.into(), listed.iter().map(|r| r.0).collect::<Vec<_>>())
                .into_datetime(TimeUnit::Milliseconds, None)
                .into(),
        ];
        for (j, k) in COVERAGE.into_iter().enumerate() {
            columns.push(strings(STRINGS[k], &d[k], listed.iter().map(|r| r.2[j]))?);
        }
        Ok((coverage, DataFrame::new(listed.len(), columns)?))
    }

    pub fn finish(mut self) -> PolarsResult<Tables> {
        let (coverage, cloudtrail_only) = self.coverage_tables()?;
        let d = &self.dict;
        // Each map is given up as its table is made, so two copies of one never meet.
        let (keys, sums): (Vec<UsageKey>, Vec<Sums>) = std::mem::take(&mut self.usage).into_iter().unzip();
        let sums: Vec<&Sums> = sums.iter().collect();
        let mut columns = vec![Column::new(col::DAY.into(), keys.iter().map(|k| k.0).collect::<Vec<_>>())];
        for (j, k) in USAGE.into_iter().enumerate() {
            columns.push(strings(STRINGS[k], &d[k], keys.iter().map(|key| key.1[j]))?);
        }
        columns.push(context_column(keys.iter().map(|k| k.2)));
        columns.push(recorded_by_column(keys.iter().map(|k| k.3))?);
        columns.extend(sums_columns(&sums));
        let usage = frame(columns)?;
        let (callers, by_metadata) = (std::mem::take(&mut self.callers), std::mem::take(&mut self.by_metadata));
        let callers = self.priced_table(s::IDENTITY, callers)?;
        let metadata = self.priced_table(s::METADATA, by_metadata)?;

        let name = |dict: usize, c: u32| d[dict].value(c).unwrap_or_default();
        let capacity = match self.capacity {
            Some(rules) => {
                // Each row's minutes are freed once folded.
                let minutes = std::mem::take(&mut self.minutes).into_iter().map(|((source, model, kind), minutes)| {
                    ((name(s::SOURCE, source), name(s::MODEL, model), kind), minutes)
                });
                capacity::table(capacity::fold(minutes, rules))?
            }
            None => capacity::table(Vec::new())?,
        };

        let mut regions: Vec<(&str, &mut RegionLatency)> =
            self.by_region.iter_mut().map(|(code, r)| (d[s::INFERENCE].value(*code).unwrap_or_default(), r)).collect();
        regions.sort_by(|a, b| a.0.cmp(b.0));
        for (_, r) in regions.iter_mut() {
            r.latency.sort();
            r.first_byte.sort();
        }
        let q = |r: &RegionLatency, p: f64| r.latency.nearest_rank(p);
        let latency_by_inference_region = frame(vec![
            Column::new(col::INFERENCE_REGION.into(), regions.iter().map(|r| r.0).collect::<Vec<_>>()),
            ints(latency::CALLS, regions.iter().map(|r| r.1.calls)),
            ints(col::REQUESTS, regions.iter().map(|r| r.1.latency.len() as u64)),
            opt_ints(latency::P50, regions.iter().map(|r| q(r.1, 0.50))),
            opt_ints(latency::P90, regions.iter().map(|r| q(r.1, 0.90))),
            opt_ints(latency::P99, regions.iter().map(|r| q(r.1, 0.99))),
            Column::new(latency::MEAN.into(), regions.iter().map(|r| r.1.latency.mean()).collect::<Vec<_>>()),
            opt_ints(latency::FIRST_BYTE_P50, regions.iter().map(|r| r.1.first_byte.nearest_rank(0.50))),
        ])?;

        let mut routes: Vec<([&str; 3], &mut Latencies)> = self
            .by_route
            .iter_mut()
            .map(|((src, model, route), l)| {
                let name = |dict: usize, c: u32| d[dict].value(c).unwrap_or_default();
                ([name(s::SOURCE, *src), name(s::MODEL, *model), name(s::ROUTE, *route)], l)
            })
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, l) in routes.iter_mut() {
            l.sort();
        }
        let key = |k: usize| routes.iter().map(|r| r.0[k]).collect::<Vec<_>>();
        let latency_by_route = frame(vec![
            Column::new(col::SOURCE_REGION.into(), key(0)),
            Column::new(col::MODEL.into(), key(1)),
            Column::new(col::ROUTE.into(), key(2)),
            ints(col::REQUESTS, routes.iter().map(|r| r.1.len() as u64)),
            opt_ints(latency::P50, routes.iter().map(|r| r.1.nearest_rank(0.50))),
            opt_ints(latency::P90, routes.iter().map(|r| r.1.nearest_rank(0.90))),
        ])?;

        let violations = match self.policy {
            None => None,
            Some(_) => {
                let v = &mut self.violations;
                v.sort_by(|a, b| (a.timestamp, &a.request_id).cmp(&(b.timestamp, &b.request_id)));
                let mut columns = vec![
                    Column::new(col::REQUEST_ID.into(), v.iter().map(|r| &*r.request_id).collect::<Vec<_>>()),
                    Series::new(col::TIMESTAMP.into(), v.iter().map(|r| r.timestamp).collect::<Vec<_>>())
                        .into_datetime(TimeUnit::Milliseconds, None)
                        .into(),
                ];
                for (j, k) in VIOLATION_STRINGS.into_iter().enumerate() {
                    columns.push(strings(STRINGS[k], &self.dict[k], v.iter().map(|r| r.codes[j]))?);
                }
                Some(DataFrame::new(v.len(), columns)?)
            }
        };
        let mut ops: Vec<(&str, &Sums)> =
            self.operations.iter().map(|(c, sums)| (d[s::OPERATION].value(*c).unwrap_or_default(), sums)).collect();
        ops.sort_by(|a, b| a.0.cmp(b.0));
        let mut columns = vec![Column::new(col::OPERATION.into(), ops.iter().map(|o| o.0).collect::<Vec<_>>())];
        columns.extend(sums_columns(&ops.iter().map(|o| o.1).collect::<Vec<_>>()));
        let operations = DataFrame::new(ops.len(), columns)?;
        let mut api_key_callers: Vec<String> =
            self.api_keys.iter().filter_map(|c| d[s::IDENTITY].value(*c)).map(str::to_string).collect();
        api_key_callers.sort();
        Ok(Tables {
            usage,
            callers,
            metadata,
            capacity,
            latency_by_inference_region,
            latency_by_route,
            violations,
            percentiles: crate::tables::Percentiles::Exact,
            coverage,
            operations,
            api_key_callers,
            cloudtrail_only,
        })
    }
}
