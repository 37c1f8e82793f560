//! Athena's result rows -> the same `Tables` and `LoadStats` the local engine makes, so the
//! summary, prices, quotas and verdicts that follow are the local engine's own code.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::client::{NoColumn, ResultTable};
use super::sql::{self, records};
use crate::analysis::capacity::{self, Minute, Rules};
use crate::analysis::latency;
use crate::frame::col;
use crate::given::policy::{Policy, Verdict};
use crate::given::profiles::Profiles;
use crate::given::quotas::QuotaKind;
use crate::load::LoadStats;
use crate::record::model_id::canonicalise;
use crate::tables::{coverage, Tables};

/// How a result column is read into a frame.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Float,
}

use Kind::{Float, Int, Text};

/// Results that do not make the tables. Each is a bug in mila's SQL (or a result changed on
/// the way), never a figure to guess at.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error(transparent)]
    Column(#[from] NoColumn),
    #[error("the result of `{name}` has `{value}` in `{column}`, not an integer")]
    NotAnInteger { name: &'static str, column: String, value: String },
    #[error("`{name}` has `{value}` in `{column}`, not a number")]
    NotANumber { name: &'static str, column: String, value: String },
    #[error("no result for `{0}`")]
    Missing(String),
    #[error("model id `{id}`: Athena read it as {athena_model:?} ({athena_kind:?}), mila as {model} ({kind}); this is a bug in mila's SQL")]
    Models { id: String, athena_model: Option<String>, athena_kind: Option<String>, model: String, kind: &'static str },
    #[error("Athena listed {listed} violating requests where the policy finds {expected} in the usage table; this is a bug in mila's SQL")]
    Violations { listed: u64, expected: u64 },
    #[error("{0}")]
    Frame(#[from] PolarsError),
}

fn parse_int(table: &ResultTable, column: &str, v: &str) -> Result<i64, ResultError> {
    // Athena prints whole doubles as `12.0`; sums and counts are integers either way.
    v.parse::<i64>()
        .ok()
        .or_else(|| v.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18).map(|f| f as i64))
        .ok_or_else(|| ResultError::NotAnInteger { name: table.name, column: column.to_string(), value: v.to_string() })
}

/// The named columns of a result as a frame, typed.
fn frame(table: &ResultTable, columns: &[(&str, Kind)]) -> Result<DataFrame, ResultError> {
    let mut out = Vec::with_capacity(columns.len());
    for (name, kind) in columns {
        let at = table.column(name)?;
        let cells = table.rows.iter().map(|r| r[at].as_deref());
        let column = match kind {
            Text => Column::new((*name).into(), cells.collect::<Vec<_>>()),
            Int => Column::new(
                (*name).into(),
                cells.map(|c| c.map(|v| parse_int(table, name, v)).transpose()).collect::<Result<Vec<_>, _>>()?,
            ),
            Float => Column::new(
                (*name).into(),
                cells
                    .map(|c| {
                        c.map(|v| {
                            v.parse::<f64>().map_err(|_| ResultError::NotANumber {
                                name: table.name,
                                column: name.to_string(),
                                value: v.to_string(),
                            })
                        })
                        .transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        out.push(column);
    }
    Ok(DataFrame::new(table.rows.len(), out)?)
}

fn sums() -> [(&'static str, Kind); 1 + col::TOKENS.len()] {
    let mut out = [(col::REQUESTS, Int); 1 + col::TOKENS.len()];
    for (o, t) in out[1..].iter_mut().zip(col::TOKENS) {
        *o = (t, Int);
    }
    out
}

fn with_sums(keys: &[(&'static str, Kind)]) -> Vec<(&'static str, Kind)> {
    keys.iter().copied().chain(sums()).collect()
}

fn find<'a>(results: &'a [ResultTable], name: &str) -> Result<&'a ResultTable, ResultError> {
    results.iter().find(|r| r.name == name).ok_or_else(|| ResultError::Missing(name.to_string()))
}

fn text(table: &ResultTable, row: &[Option<String>], column: &str) -> Result<Option<String>, ResultError> {
    Ok(row[table.column(column)?].clone())
}

fn int(table: &ResultTable, row: &[Option<String>], column: &str) -> Result<u64, ResultError> {
    match &row[table.column(column)?] {
        None => Ok(0),
        Some(v) => parse_int(table, column, v).map(|n| n.max(0) as u64),
    }
}

/// The records statement -> the input figures: lines, rejects by reason, outside the window,
/// duplicates and objects read; with a CloudTrail table, its calls, other events and the calls
/// also in the logs added, as the local engine counts them.
pub fn load_stats(results: &[ResultTable]) -> Result<LoadStats, ResultError> {
    let mut stats = LoadStats::default();
    add_lines(&mut stats, find(results, sql::RECORDS)?)?;
    if let Ok(t) = find(results, sql::TRAIL_RECORDS) {
        let units = stats.units_read;
        add_lines(&mut stats, t)?;
        stats.units_read += units;
        let other = find(results, sql::TRAIL_OTHER)?;
        stats.other_events =
            other.rows.iter().map(|r| int(other, r, sql::OTHER_EVENTS)).sum::<Result<u64, ResultError>>()?;
        let c = find(results, sql::COVERAGE)?;
        for row in &c.rows {
            let (calls, only) = (int(c, row, coverage::CLOUDTRAIL_CALLS)?, int(c, row, coverage::CLOUDTRAIL_ONLY)?);
            stats.also_logged += calls.saturating_sub(only);
        }
    }
    Ok(stats)
}

/// One statement of lines by status (log lines, or a trail's calls) added to `stats`.
fn add_lines(stats: &mut LoadStats, t: &ResultTable) -> Result<(), ResultError> {
    for row in &t.rows {
        let lines = int(t, row, records::LINES)?;
        match text(t, row, records::STATUS)?.as_deref() {
            // The grand total row of the grouping sets.
            None => stats.units_read = int(t, row, records::OBJECTS)?,
            Some(sql::OK) => {
                stats.lines += lines;
                stats.duplicates += lines.saturating_sub(int(t, row, records::IDS)?);
            }
            Some(sql::OUTSIDE) => stats.outside_window += lines,
            Some(reason) => {
                stats.lines += lines;
                stats.rejected += lines;
                let first: Vec<String> = text(t, row, records::FIRST)?.into_iter().collect();
                let group = stats.rejects.entry(reason.to_string()).or_default();
                group.count += lines;
                group.first.extend(first);
                group.first.truncate(crate::load::FIRST_LOCATIONS);
            }
        }
    }
    Ok(())
}

/// Logging coverage and the calls only in CloudTrail, when a CloudTrail table was read.
fn coverage_tables(results: &[ResultTable]) -> Result<(DataFrame, DataFrame), ResultError> {
    let Ok(c) = find(results, sql::COVERAGE) else {
        return Ok((crate::tables::no_coverage(), crate::tables::no_cloudtrail_only()));
    };
    let mut keys = vec![(col::DAY, Int), (col::SOURCE_REGION, Text), (col::MODEL_ID, Text), (col::OPERATION, Text)];
    keys.extend(coverage::COUNTS.map(|n| (n, Int)));
    let covered = frame(c, &keys)?;
    let mut only = frame(
        find(results, sql::CLOUDTRAIL_ONLY)?,
        &[
            (col::REQUEST_ID, Text),
            (col::TIMESTAMP, Int),
            (col::SOURCE_REGION, Text),
            (col::MODEL_ID, Text),
            (col::OPERATION, Text),
        ],
    )?;
    as_time(&mut only)?;
    Ok((covered, only))
}

/// The identities CloudTrail saw calling with a bearer token, sorted; none without a trail.
fn api_key_callers(results: &[ResultTable]) -> Result<Vec<String>, ResultError> {
    let Ok(t) = find(results, sql::API_KEY_CALLERS) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for row in &t.rows {
        out.extend(text(t, row, col::IDENTITY_ARN)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A `timestamp` column of epoch ms as the local tables' datetime.
fn as_time(df: &mut DataFrame) -> Result<(), ResultError> {
    let ts = df
        .column(col::TIMESTAMP)
        .and_then(|c| c.as_materialized_series().cast(&DataType::Datetime(TimeUnit::Milliseconds, None)))?;
    df.with_column(ts.into_column())?;
    Ok(())
}

/// Every model id of the usage table read as Athena canonicalised it must read the same way
/// here: the SQL is generated from `model_id::SHAPES`, which `canonicalise` reads too, and a
/// difference is a bug, never a guess.
fn same_models(usage: &ResultTable, profiles: &Profiles) -> Result<(), ResultError> {
    type Read = (Option<String>, Option<String>, Option<String>);
    let mut seen: std::collections::HashSet<Read> = std::collections::HashSet::new();
    for row in &usage.rows {
        let key =
            (text(usage, row, col::MODEL_ID)?, text(usage, row, col::MODEL)?, text(usage, row, col::MODEL_ID_KIND)?);
        if !seen.insert(key.clone()) {
            continue;
        }
        let id = key.0.clone().unwrap_or_default();
        let c = canonicalise(&id);
        let model = match profiles.get(c.base) {
            Some(p) if c.kind == crate::record::ModelIdKind::ApplicationProfile => canonicalise(&p.model).base,
            _ => c.base,
        };
        if key.1.as_deref() != Some(model) || key.2.as_deref() != Some(c.kind.as_str()) {
            return Err(ResultError::Models {
                id: crate::escape::terminal(&id),
                athena_model: key.1,
                athena_kind: key.2,
                model: model.to_string(),
                kind: c.kind.as_str(),
            });
        }
    }
    Ok(())
}

const USAGE_KEYS: [(&str, Kind); 11] = [
    (col::DAY, Int),
    (col::SOURCE_REGION, Text),
    (col::MODEL_ID, Text),
    (col::MODEL, Text),
    (col::MODEL_ID_KIND, Text),
    (col::ROUTE, Text),
    (col::INFERENCE_REGION, Text),
    (col::ERROR_CODE, Text),
    (col::SERVICE_TIER, Text),
    (col::CONTEXT, Text),
    (col::RECORDED_BY, Text),
];

/// `col::PRICED`, every one text.
fn priced_keys() -> [(&'static str, Kind); col::PRICED.len()] {
    col::PRICED.map(|c| (c, Text))
}

/// What the tables are made from besides the results.
pub struct Context<'a> {
    pub rules: Rules<'a>,
    pub metadata_keys: &'a [String],
}

fn sorted(df: DataFrame, by: &[&str]) -> Result<DataFrame, ResultError> {
    Ok(crate::analysis::sort_by(df.lazy(), by).collect()?)
}

/// The tables of a report.
pub fn report(results: &[ResultTable], cx: &Context) -> Result<Tables, ResultError> {
    let usage_rows = find(results, sql::USAGE)?;
    same_models(usage_rows, cx.rules.profiles)?;
    let usage = frame(usage_rows, &with_sums(&USAGE_KEYS))?;
    let mut caller_keys = vec![(col::IDENTITY_ARN, Text)];
    caller_keys.extend(priced_keys());
    let callers = frame(find(results, sql::CALLERS)?, &with_sums(&caller_keys))?;
    let metadata = metadata(results, cx.metadata_keys)?;
    let capacity = capacity(find(results, sql::MINUTES)?, cx.rules)?;
    let by_region = frame(
        find(results, sql::LATENCY_BY_REGION)?,
        &[
            (col::INFERENCE_REGION, Text),
            (latency::CALLS, Int),
            (col::REQUESTS, Int),
            (latency::P50, Int),
            (latency::P90, Int),
            (latency::P99, Int),
            (latency::MEAN, Float),
            (latency::FIRST_BYTE_P50, Int),
        ],
    )?;
    let (coverage, cloudtrail_only) = coverage_tables(results)?;
    let by_route = frame(
        find(results, sql::LATENCY_BY_ROUTE)?,
        &[
            (col::SOURCE_REGION, Text),
            (col::MODEL, Text),
            (col::ROUTE, Text),
            (col::REQUESTS, Int),
            (latency::P50, Int),
            (latency::P90, Int),
        ],
    )?;
    let operations =
        sorted(frame(find(results, sql::OPERATIONS)?, &with_sums(&[(col::OPERATION, Text)]))?, &[col::OPERATION])?;
    Ok(Tables {
        api_key_callers: api_key_callers(results)?,
        operations,
        usage,
        callers,
        metadata,
        capacity,
        latency_by_inference_region: sorted(by_region, &[col::INFERENCE_REGION])?,
        latency_by_route: sorted(by_route, &[col::SOURCE_REGION, col::MODEL, col::ROUTE])?,
        violations: None,
        percentiles: crate::tables::Percentiles::Approximate,
        coverage,
        cloudtrail_only,
    })
}

/// The metadata table: each row's `--by-metadata` values as the JSON object the local engine
/// keeps (only the keys asked for, which is all attribution reads).
fn metadata(results: &[ResultTable], keys: &[String]) -> Result<DataFrame, ResultError> {
    let mut priced: Vec<(&str, Kind)> = vec![(col::REQUEST_METADATA, Text)];
    priced.extend(priced_keys());
    if keys.is_empty() {
        let empty = ResultTable {
            name: sql::METADATA,
            columns: priced.iter().chain(sums().iter()).map(|(c, _)| c.to_string()).collect(),
            types: Vec::new(),
            rows: Vec::new(),
        };
        return frame(&empty, &with_sums(&priced));
    }
    let t = find(results, sql::METADATA)?;
    let mut table = t.clone();
    table.columns.push(col::REQUEST_METADATA.to_string());
    let at: Vec<usize> = (0..keys.len()).map(|i| t.column(&sql::metadata_column(i))).collect::<Result<_, _>>()?;
    for row in &mut table.rows {
        let object: BTreeMap<&str, &str> =
            keys.iter().zip(&at).filter_map(|(k, i)| row[*i].as_deref().map(|v| (k.as_str(), v))).collect();
        let text = serde_json::to_string(&object).unwrap_or_default();
        row.push(Some(text));
    }
    frame(&table, &with_sums(&priced))
}

/// The minutes, one row per (source region, model, model id, minute) -> each (source region,
/// model, quota kind)'s peaks, as `tally` folds them: the quota kind is decided here, from the
/// model id, by the same function, and a minute's parts of one kind are added up first.
fn capacity(t: &ResultTable, rules: Rules) -> Result<DataFrame, ResultError> {
    type Key = (String, String, QuotaKind);
    let mut rows: BTreeMap<Key, BTreeMap<i64, Minute>> = BTreeMap::new();
    let mut kinds: BTreeMap<String, QuotaKind> = BTreeMap::new();
    for row in &t.rows {
        let source = text(t, row, col::SOURCE_REGION)?.unwrap_or_default();
        let model = text(t, row, col::MODEL)?.unwrap_or_default();
        let model_id = text(t, row, col::MODEL_ID)?.unwrap_or_default();
        let kind = *kinds.entry(model_id.clone()).or_insert_with(|| QuotaKind::of(&model_id, rules.profiles));
        let minute_ms = int(t, row, col::MINUTE)? as i64;
        let count =
            |name: &str| -> Result<u32, ResultError> { Ok(u32::try_from(int(t, row, name)?).unwrap_or(u32::MAX)) };
        let part = Minute {
            requests: count(col::REQUESTS)?,
            rerouted: count(col::REROUTED)?,
            throttled: count(capacity::THROTTLED)?,
            tokens_once: int(t, row, sql::minutes::TOKENS_ONCE)?,
            output: int(t, row, col::OUTPUT_TOKENS)?,
            reserved: int(t, row, sql::minutes::RESERVED)?,
            without_max_tokens: count(sql::minutes::WITHOUT_MAX_TOKENS)?,
        };
        rows.entry((source, model, kind)).or_default().entry(minute_ms).or_default().merge(&part);
    }
    let minutes =
        rows.iter().map(|((s, m, k), minutes)| ((s.as_str(), m.as_str(), *k), minutes.iter().map(|(t, m)| (*t, *m))));
    Ok(capacity::table(capacity::fold(minutes, rules))?)
}

/// `prices --check`'s tables: usage only.
pub fn usage(results: &[ResultTable], profiles: &Profiles) -> Result<Tables, ResultError> {
    let usage_rows = find(results, sql::USAGE)?;
    same_models(usage_rows, profiles)?;
    let usage = frame(usage_rows, &with_sums(&USAGE_KEYS))?;
    let (coverage, cloudtrail_only) = coverage_tables(results)?;
    Ok(Tables { violations: None, ..usage_tables(usage, coverage, cloudtrail_only, api_key_callers(results)?) })
}

/// The tables of a check: everything but usage, violations and coverage is empty.
fn usage_tables(usage: DataFrame, coverage: DataFrame, cloudtrail_only: DataFrame, api_keys: Vec<String>) -> Tables {
    Tables {
        usage,
        callers: DataFrame::empty(),
        metadata: DataFrame::empty(),
        capacity: DataFrame::empty(),
        latency_by_inference_region: DataFrame::empty(),
        latency_by_route: DataFrame::empty(),
        violations: None,
        percentiles: crate::tables::Percentiles::Approximate,
        coverage,
        operations: DataFrame::empty(),
        api_key_callers: api_keys,
        cloudtrail_only,
    }
}

/// The tables of a check: usage and the violating requests, which must be the requests the
/// policy calls violations in the usage table (the SQL copies `Policy::verdict`).
pub fn check(results: &[ResultTable], profiles: &Profiles, policy: &Policy) -> Result<Tables, ResultError> {
    let usage_rows = find(results, sql::USAGE)?;
    same_models(usage_rows, profiles)?;
    let usage = frame(usage_rows, &with_sums(&USAGE_KEYS))?;
    let v = find(results, sql::VIOLATIONS)?;
    let mut expected = 0;
    for row in &usage_rows.rows {
        let source = text(usage_rows, row, col::SOURCE_REGION)?.unwrap_or_default();
        let inference = text(usage_rows, row, col::INFERENCE_REGION)?;
        if policy.verdict(&source, inference.as_deref()) == Verdict::Violation {
            expected += int(usage_rows, row, col::REQUESTS)?;
        }
    }
    if expected != v.rows.len() as u64 {
        return Err(ResultError::Violations { listed: v.rows.len() as u64, expected });
    }
    let mut violations = frame(
        v,
        &[
            (col::REQUEST_ID, Text),
            (col::TIMESTAMP, Int),
            (col::SOURCE_REGION, Text),
            (col::INFERENCE_REGION, Text),
            (col::MODEL_ID, Text),
            (col::IDENTITY_ARN, Text),
        ],
    )?;
    as_time(&mut violations)?;
    let (coverage, cloudtrail_only) = coverage_tables(results)?;
    Ok(Tables {
        violations: Some(violations),
        ..usage_tables(usage, coverage, cloudtrail_only, api_key_callers(results)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::RejectGroup;

    fn table(name: &'static str, columns: &[&str], rows: &[&[Option<&str>]]) -> ResultTable {
        ResultTable {
            name,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            types: Vec::new(),
            rows: rows.iter().map(|r| r.iter().map(|c| c.map(str::to_string)).collect()).collect(),
        }
    }

    #[test]
    fn records_become_load_stats() {
        let t = table(
            sql::RECORDS,
            &[records::STATUS, records::LINES, records::IDS, records::OBJECTS, records::FIRST],
            &[
                &[Some("ok"), Some("10"), Some("8"), Some("3"), Some("s3://b/a.json.gz")],
                &[Some(sql::OUTSIDE), Some("4"), Some("4"), Some("1"), Some("s3://b/a.json.gz")],
                &[Some("timestamp is not RFC 3339"), Some("2"), Some("2"), Some("1"), Some("s3://b/c.json.gz")],
                &[None, Some("16"), Some("14"), Some("5"), Some("s3://b/a.json.gz")],
            ],
        );
        let s = load_stats(&[t]).unwrap();
        assert_eq!((s.lines, s.rejected, s.duplicates, s.outside_window, s.units_read), (12, 2, 2, 4, 5));
        assert_eq!(
            s.rejects["timestamp is not RFC 3339"],
            RejectGroup { count: 2, first: vec!["s3://b/c.json.gz".into()] }
        );
    }

    #[test]
    fn a_model_read_differently_is_an_error() {
        let cols = [col::MODEL_ID, col::MODEL, col::MODEL_ID_KIND];
        let good = table(
            sql::USAGE,
            &cols,
            &[&[Some("us.amazon.nova-lite-v1:0"), Some("amazon.nova-lite-v1:0"), Some("geo-profile")]],
        );
        assert_eq!(same_models(&good, &Profiles::default()).map_err(|e| e.to_string()), Ok(()));
        let bad = table(
            sql::USAGE,
            &cols,
            &[&[Some("us.amazon.nova-lite-v1:0"), Some("us.amazon.nova-lite-v1:0"), Some("other")]],
        );
        assert!(same_models(&bad, &Profiles::default()).unwrap_err().to_string().contains("bug in mila's SQL"));
    }

    #[test]
    fn integers_may_come_as_whole_doubles() {
        let t = table("t", &["n"], &[]);
        assert_eq!(parse_int(&t, "n", "12").map_err(|e| e.to_string()), Ok(12));
        assert_eq!(parse_int(&t, "n", "12.0").map_err(|e| e.to_string()), Ok(12));
        assert!(parse_int(&t, "n", "12.5").is_err());
        assert!(parse_int(&t, "n", "x").is_err());
    }
}
