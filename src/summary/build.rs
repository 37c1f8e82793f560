//! One builder per section of `summary.json`, each reading the small tables of `crate::tables`
//! through the analyses.

use polars::prelude::*;

use super::schema::*;
use crate::analysis::attribution::Attributed;
use crate::analysis::cost::PricedGroups;
use crate::analysis::{attribution, capacity, cost, daily, errors, latency, rerouting, residency, tokens};
use crate::frame::col;
use crate::given::burndown::Burndown;
use crate::given::policy::Policy;
use crate::given::prices::Prices;
use crate::given::profiles::Profiles;
use crate::given::quotas::Quotas;
use crate::load::LoadStats;
use crate::record::{RecordedBy, Route};
use crate::tables::row::{rows, Row};
use crate::tables::Tables;
use crate::window::Window;

/// What the user gave besides the logs (prices, profiles, policy, quotas, burndown, metadata
/// keys): the rules the sections apply to the tables.
pub struct Given<'a> {
    pub prices: &'a Prices,
    pub profiles: &'a Profiles,
    pub policy: Option<&'a Policy>,
    pub quotas: &'a Quotas,
    pub burndown: &'a Burndown,
    pub metadata_keys: &'a [String],
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The sections CloudTrail cannot fill: it records no tokens, latency or cost.
pub const NOT_FROM_CLOUDTRAIL: [&str; 4] = ["tokens", "latency", "cost", "capacity"];

/// Only the rows counted from invocation-log records: tokens, latency and cost come from them.
fn logged(table: &DataFrame) -> LazyFrame {
    table.clone().lazy().filter(col(col::RECORDED_BY).eq(lit(RecordedBy::InvocationLog.as_str())))
}

fn requests_by(table: &DataFrame, by: RecordedBy) -> PolarsResult<u64> {
    let df = table
        .clone()
        .lazy()
        .filter(col(col::RECORDED_BY).eq(lit(by.as_str())))
        .select([col(col::REQUESTS).sum().cast(DataType::UInt64)])
        .collect()?;
    Ok(df.column(col::REQUESTS)?.u64()?.get(0).unwrap_or(0))
}

pub fn build(tables: &Tables, stats: &LoadStats, window: Window, given: &Given) -> PolarsResult<Summary> {
    let usage = || tables.usage.clone().lazy();
    let errors = errors_section(usage())?;
    let mut sources = sources_section(tables, stats)?;
    sources.cloudtrail_tokens = cloudtrail_tokens(tables, given)?;
    // Without a single invocation-log record, tokens, latency and cost are unknown, not zero.
    let known = sources.not_available.is_empty();
    let cost = known.then(|| cost_section(tables, given)).transpose()?;
    Ok(Summary {
        schema: SCHEMA,
        window: WindowOut { since: window.since_rfc3339(), until: window.until_rfc3339() },
        records: records_section(stats, &errors),
        rerouting: rerouting_section(usage())?,
        latency: known.then(|| latency_section(tables)).transpose()?,
        tokens: known.then(|| tokens_section(logged(&tables.usage), &tables.operations)).transpose()?,
        cost,
        residency: given.policy.map(|p| residency_section(usage(), p)).transpose()?,
        errors,
        callers: callers_section(&tables.callers, &tables.api_key_callers)?,
        coverage: coverage_section(tables, &sources, false)?,
        sources,
        comparison: None,
        metrics: None,
        batch: None,
        capacity: known.then(|| capacity_section(tables, given)),
        daily: daily_section(usage(), given, known)?,
        read: read_section(stats),
        engine: EngineOut::local(),
    })
}

fn sources_section(tables: &Tables, stats: &LoadStats) -> PolarsResult<Sources> {
    let logs = requests_by(&tables.usage, RecordedBy::InvocationLog)?;
    let trail_only = requests_by(&tables.usage, RecordedBy::CloudTrail)?;
    let trail = trail_only + stats.also_logged;
    Ok(Sources {
        invocation_log_records: logs,
        cloudtrail_calls: trail,
        cloudtrail_only: trail_only,
        cloudtrail_other_events: stats.other_events,
        bedrock_mantle_calls: mantle_calls(tables)?,
        cloudtrail_tokens: None,
        not_available: if logs == 0 && trail > 0 { NOT_FROM_CLOUDTRAIL.to_vec() } else { Vec::new() },
    })
}

/// Whether a coverage cell's operation is a bedrock-mantle call's.
fn is_mantle(operation: &str) -> bool {
    operation.starts_with(crate::record::trail::MANTLE_OPERATION_PREFIX)
}

/// bedrock-mantle calls read in CloudTrail (each request id once).
fn mantle_calls(tables: &Tables) -> PolarsResult<u64> {
    use crate::tables::coverage::CLOUDTRAIL_CALLS;
    Ok(rows(&tables.coverage).filter(|r| is_mantle(&r.str(col::OPERATION))).map(|r| r.u64(CLOUDTRAIL_CALLS)).sum())
}

/// The tokens CloudTrail recorded for the calls counted from it alone, priced.
fn cloudtrail_tokens(tables: &Tables, given: &Given) -> PolarsResult<Option<CloudTrailTokens>> {
    let trail = || tables.usage.clone().lazy().filter(col(col::RECORDED_BY).eq(lit(RecordedBy::CloudTrail.as_str())));
    let sums = trail()
        .select([
            col(col::INPUT_TOKENS).sum().cast(DataType::UInt64),
            col(col::OUTPUT_TOKENS).sum().cast(DataType::UInt64),
        ])
        .collect()?;
    let get = |c: &str| sums.column(c).ok().and_then(|c| c.u64().ok()?.get(0)).unwrap_or(0);
    let (input, output) = (get(col::INPUT_TOKENS), get(col::OUTPUT_TOKENS));
    if input == 0 && output == 0 {
        return Ok(None);
    }
    let priced = cost::priced(trail(), given.prices, &[])?.select([col(cost::USD).sum()]).collect()?;
    let usd = priced.column(cost::USD)?.f64()?.get(0).unwrap_or(0.0);
    Ok(Some(CloudTrailTokens { input_tokens: input, output_tokens: output, usd }))
}

fn callers_section(callers: &DataFrame, api_keys: &[String]) -> PolarsResult<Vec<CallerCalls>> {
    let df = callers
        .clone()
        .lazy()
        .group_by([col(col::IDENTITY_ARN)])
        .agg([
            crate::analysis::requests().alias(col::REQUESTS),
            crate::analysis::requests_where(col(col::ERROR_CODE).is_not_null()).alias(col::ERROR_CODE),
        ])
        .collect()?;
    let mut out: std::collections::BTreeMap<crate::record::caller::Caller, (u64, u64)> = Default::default();
    for r in rows(&df) {
        let who = match r.opt_str(col::IDENTITY_ARN) {
            Some(arn) => crate::record::caller::caller_of(&arn, api_keys),
            None => crate::record::caller::Caller {
                account: String::new(),
                principal: attribution::NO_IDENTITY.into(),
                session: String::new(),
                kind: crate::record::caller::CallerKind::Other,
            },
        };
        let e = out.entry(who).or_default();
        e.0 += r.u64(col::REQUESTS);
        e.1 += r.opt_u64(col::ERROR_CODE).unwrap_or(0);
    }
    Ok(out
        .into_iter()
        .map(|(c, (requests, errors))| CallerCalls {
            kind: c.kind.as_str(),
            account: c.account,
            principal: c.principal,
            session: c.session,
            requests,
            errors,
        })
        .collect())
}

/// Coverage status of a region's day, from its CloudTrail calls and how many of them are logged.
fn coverage_status(trail: u64, logged: u64) -> CoverageStatus {
    match (trail, logged) {
        (0, _) => CoverageStatus::NoCloudtrail,
        (_, 0) => CoverageStatus::Missing,
        (t, l) if l >= t => CoverageStatus::Logged,
        _ => CoverageStatus::Partial,
    }
}

/// Logging coverage for `check --fail-on-coverage-below`: judged whenever CloudTrail has calls,
/// a window without any invocation-log record included (that is a coverage of 0).
pub fn coverage(tables: &Tables, stats: &LoadStats) -> PolarsResult<Option<Coverage>> {
    coverage_section(tables, &sources_section(tables, stats)?, true)
}

/// In a report, coverage is shown when both kinds of record were read.
fn coverage_section(tables: &Tables, sources: &Sources, without_logs: bool) -> PolarsResult<Option<Coverage>> {
    use crate::tables::coverage::{CLOUDTRAIL_CALLS, CLOUDTRAIL_ONLY, LOG_RECORDS};
    // bedrock-mantle calls are never logged: they are no gap in logging.
    let runtime_calls = sources.cloudtrail_calls.saturating_sub(sources.bedrock_mantle_calls);
    if (sources.invocation_log_records == 0 && !without_logs) || runtime_calls == 0 {
        return Ok(None);
    }
    // Per (day, source region): CloudTrail calls, log records, log records of no CloudTrail
    // call, and calls logged (each (model id, operation) cell's min(logs, calls)).
    let mut days: std::collections::BTreeMap<(String, String), [u64; 4]> = Default::default();
    let mut gaps = Vec::new();
    let (mut trail_total, mut covered, mut logs_only) = (0, 0, 0);
    let cells = crate::analysis::sort_by(
        tables.coverage.clone().lazy(),
        &[col::DAY, col::SOURCE_REGION, col::MODEL_ID, col::OPERATION],
    )
    .collect()?;
    for r in rows(&cells).filter(|r| !is_mantle(&r.str(col::OPERATION))) {
        let (logs, trail, only) = (r.u64(LOG_RECORDS), r.u64(CLOUDTRAIL_CALLS), r.u64(CLOUDTRAIL_ONLY));
        let key = (day(&r), r.str(col::SOURCE_REGION));
        let d = days.entry(key.clone()).or_default();
        d[0] += trail;
        d[1] += logs;
        d[2] += logs.saturating_sub(trail - only);
        d[3] += logs.min(trail);
        trail_total += trail;
        covered += logs.min(trail);
        if logs != trail {
            gaps.push(CoverageCell {
                day: key.0,
                source_region: key.1,
                model_id: r.str(col::MODEL_ID),
                operation: r.str(col::OPERATION),
                cloudtrail_calls: trail,
                invocation_log_records: logs,
            });
        }
    }
    let by_source_region_day: Vec<CoverageDay> = days
        .iter()
        .map(|((day, region), [trail, logs, only_logs, logged])| {
            if *trail > 0 {
                logs_only += only_logs;
            }
            CoverageDay {
                day: day.clone(),
                source_region: region.clone(),
                cloudtrail_calls: *trail,
                invocation_log_records: *logs,
                cloudtrail_calls_logged: *logged,
                coverage: (*trail > 0).then(|| ratio(*logged, *trail)),
                status: coverage_status(*trail, *logged),
            }
        })
        .collect();
    let matched = sources.cloudtrail_calls - sources.cloudtrail_only;
    let only_in_cloudtrail_listed = rows(&tables.cloudtrail_only)
        .filter(|r| !is_mantle(&r.str(col::OPERATION)))
        .map(|r| CoverageCall {
            request_id: r.str(col::REQUEST_ID),
            time: r.opt_i64(col::TIMESTAMP).map(crate::window::rfc3339).unwrap_or_default(),
            source_region: r.str(col::SOURCE_REGION),
            model_id: r.str(col::MODEL_ID),
            operation: r.str(col::OPERATION),
        })
        .collect();
    Ok(Some(Coverage {
        cloudtrail_calls: trail_total,
        invocation_log_records: sources.invocation_log_records,
        coverage: (trail_total > 0).then(|| ratio(covered, trail_total)),
        request_ids_match: matched > 0,
        only_in_cloudtrail: if matched > 0 {
            sources.cloudtrail_only.saturating_sub(sources.bedrock_mantle_calls)
        } else {
            0
        },
        only_in_invocation_logs: if matched > 0 { logs_only } else { 0 },
        by_source_region_day,
        gaps,
        only_in_cloudtrail_listed,
    }))
}

fn records_section(stats: &LoadStats, errors: &Errors) -> Records {
    Records {
        lines: stats.lines,
        parsed: stats.parsed(),
        rejected: stats.rejected,
        duplicates: stats.duplicates,
        invocation_errors: errors.by_code.iter().map(|r| r.requests).sum(),
        skipped_objects: stats.skipped_objects,
        outside_window: stats.outside_window,
    }
}

fn route_row(r: &Row) -> RegionRoutes {
    let (requests, rerouted) = (r.u64(col::REQUESTS), r.u64(col::REROUTED));
    RegionRoutes {
        source_region: r.str(col::SOURCE_REGION),
        requests,
        local: r.u64(col::LOCAL),
        rerouted,
        unknown: r.u64(col::UNKNOWN),
        rate: ratio(rerouted, requests),
    }
}

fn rerouting_section(usage: LazyFrame) -> PolarsResult<Rerouting> {
    let by_source_region: Vec<RegionRoutes> =
        rows(&rerouting::by_source_region(usage.clone()).collect()?).map(|r| route_row(&r)).collect();
    let flows = rows(&rerouting::flows(usage).collect()?)
        .map(|r| Flow {
            source_region: r.str(col::SOURCE_REGION),
            inference_region: r.opt_str(col::INFERENCE_REGION),
            requests: r.u64(col::REQUESTS),
        })
        .collect();
    let sum = |f: fn(&RegionRoutes) -> u64| by_source_region.iter().map(f).sum::<u64>();
    let (requests, rerouted) = (sum(|r| r.requests), sum(|r| r.rerouted));
    Ok(Rerouting {
        requests,
        local: sum(|r| r.local),
        rerouted,
        unknown: sum(|r| r.unknown),
        rate: ratio(rerouted, requests),
        by_source_region,
        flows,
    })
}

fn latency_section(tables: &Tables) -> PolarsResult<Latency> {
    let regions: Vec<LatencyRow> = rows(&tables.latency_by_inference_region)
        .map(|r| {
            let (known, calls) = (r.u64(col::REQUESTS), r.u64(latency::CALLS));
            LatencyRow {
                inference_region: r.str(col::INFERENCE_REGION),
                requests: known,
                p50_ms: r.opt_i64(latency::P50),
                p90_ms: r.opt_i64(latency::P90),
                p99_ms: r.opt_i64(latency::P99),
                mean_ms: r.opt_f64(latency::MEAN),
                calls,
                coverage: ratio(known, calls),
                first_byte_p50_ms: r.opt_i64(latency::FIRST_BYTE_P50),
            }
        })
        .collect();
    Ok(Latency {
        percentiles: tables.percentiles,
        known: regions.iter().map(|r| r.requests).sum(),
        calls: regions.iter().map(|r| r.calls).sum(),
        // Every region with calls, at 0% coverage where none has a latency, so the calls add up.
        by_inference_region: regions,
        local_vs_rerouted: local_vs_rerouted(&tables.latency_by_route),
    })
}

/// Local and rerouted side by side, one row per (source region, model). Input: the latency by
/// route table, sorted by (source, model, route), so a pair's rows are adjacent.
fn local_vs_rerouted(df: &DataFrame) -> Vec<RouteLatencyRow> {
    let mut out: Vec<RouteLatencyRow> = Vec::new();
    for r in rows(df) {
        let (src, model) = (r.str(col::SOURCE_REGION), r.str(col::MODEL));
        if out.last().is_none_or(|o| o.source_region != src || o.model != model) {
            out.push(RouteLatencyRow {
                source_region: src,
                model,
                local_requests: 0,
                local_p50_ms: None,
                local_p90_ms: None,
                rerouted_requests: 0,
                rerouted_p50_ms: None,
                rerouted_p90_ms: None,
            });
        }
        let row = out.last_mut().expect("pushed above");
        let figures = (r.u64(col::REQUESTS), r.opt_i64(latency::P50), r.opt_i64(latency::P90));
        if r.opt_str(col::ROUTE).as_deref() == Some(Route::Local.as_str()) {
            (row.local_requests, row.local_p50_ms, row.local_p90_ms) = figures;
        } else {
            (row.rerouted_requests, row.rerouted_p50_ms, row.rerouted_p90_ms) = figures;
        }
    }
    out
}

fn tokens_section(usage: LazyFrame, operations: &DataFrame) -> PolarsResult<Tokens> {
    let by_model = rows(&tokens::by_model(usage).collect()?)
        .map(|r| TokenRow {
            model: r.str(col::MODEL),
            requests: r.u64(col::REQUESTS),
            input: r.u64(col::INPUT_TOKENS),
            output: r.u64(col::OUTPUT_TOKENS),
            cache_read: r.u64(col::CACHE_READ_TOKENS),
            cache_write: r.u64(col::CACHE_WRITE_TOKENS),
            cache_write_1h: r.u64(col::CACHE_WRITE_1H_TOKENS),
        })
        .collect();
    let by_operation = rows(operations)
        .map(|r| {
            let operation = r.str(col::OPERATION);
            OperationTokens {
                known: crate::record::KNOWN_OPERATIONS.contains(&operation.as_str()),
                operation,
                requests: r.u64(col::REQUESTS),
                input: r.u64(col::INPUT_TOKENS),
                output: r.u64(col::OUTPUT_TOKENS),
                cache_read: r.u64(col::CACHE_READ_TOKENS),
                cache_write: r.u64(col::CACHE_WRITE_TOKENS),
            }
        })
        .collect();
    Ok(Tokens { by_model, by_operation })
}

fn cost_section(tables: &Tables, given: &Given) -> PolarsResult<Cost> {
    let priced = cost::priced(logged(&tables.usage), given.prices, &[])?;
    let grouped = |keys: &[&str]| cost::grouped(priced.clone(), keys).collect();
    let by_model: Vec<CostModel> = rows(&cost::by_model(priced.clone(), &[]).collect()?)
        .map(|r| CostModel {
            model: r.str(col::MODEL),
            kind: super::batch::ON_DEMAND,
            figures: Attributed::from_row(&r),
        })
        .collect();
    let by_source_region = rows(&grouped(&[col::SOURCE_REGION])?)
        .map(|r| CostRegion { source_region: r.str(col::SOURCE_REGION), figures: Attributed::from_row(&r) })
        .collect();
    let by_model_id_kind = rows(&grouped(&[col::MODEL_ID_KIND])?)
        .map(|r| CostKind { model_id_kind: r.str(col::MODEL_ID_KIND), figures: Attributed::from_row(&r) })
        .collect();
    let by_service_tier = rows(&grouped(&[col::SERVICE_TIER])?)
        .map(|r| CostServiceTier { service_tier: r.str(col::SERVICE_TIER), figures: Attributed::from_row(&r) })
        .collect();
    let by_tag = rows(&cost::by_tag(priced, given.profiles, &[])?.collect()?)
        .map(|r| CostTag {
            key: r.str(cost::TAG_KEY),
            value: r.str(cost::TAG_VALUE),
            figures: Attributed::from_row(&r),
        })
        .collect();
    let by_identity = attribution::by_identity(
        PricedGroups::new(&tables.callers, given.prices, col::IDENTITY_ARN, true)?,
        &tables.api_key_callers,
    )
    .into_iter()
    .map(|(c, figures)| CostIdentity {
        kind: c.kind.as_str(),
        account: c.account,
        principal: c.principal,
        session: c.session,
        figures,
    })
    .collect();
    let by_request_metadata = match given.metadata_keys {
        [] => Vec::new(),
        keys => attribution::by_request_metadata(
            PricedGroups::new(&tables.metadata, given.prices, col::REQUEST_METADATA, false)?,
            keys,
        )
        .into_iter()
        .map(|((key, value), figures)| CostMetadata { key, value, figures })
        .collect(),
    };
    Ok(Cost {
        currency: "USD",
        // An empty f64 sum is -0.0; adding 0.0 makes it the 0 a reader expects.
        total: by_model.iter().map(|m| m.figures.usd).sum::<f64>() + 0.0,
        unpriced_requests: by_model.iter().map(|m| m.figures.unpriced).sum(),
        by_model,
        by_tag,
        by_identity,
        by_request_metadata,
        by_source_region,
        by_model_id_kind,
        by_service_tier,
        prices: given.prices.source.clone(),
        profiles: profiles_in_use(given.profiles),
    })
}

fn profiles_in_use(p: &Profiles) -> String {
    match &p.source {
        None => "none given (application-profile ARNs stay unresolved: pass --profiles)".into(),
        Some(path) => {
            let n = p.iter().count();
            let snapshot = p.snapshot_date.map(|d| format!(", snapshot of {d}")).unwrap_or_default();
            format!("{path}: {n} application profile{}{snapshot}", if n == 1 { "" } else { "s" })
        }
    }
}

fn residency_section(usage: LazyFrame, policy: &Policy) -> PolarsResult<Residency> {
    let counts = residency::by_source_region(&residency::pairs(usage, policy)?).collect()?;
    let by_source_region: Vec<ResidencyRow> = rows(&counts)
        .map(|r| ResidencyRow {
            source_region: r.str(col::SOURCE_REGION),
            violations: r.u64(residency::VIOLATIONS),
            unverifiable: r.u64(residency::UNVERIFIABLE),
            checked: r.u64(residency::CHECKED),
        })
        .collect();
    Ok(Residency {
        policy: policy.name.clone(),
        violations: by_source_region.iter().map(|r| r.violations).sum(),
        unverifiable: by_source_region.iter().map(|r| r.unverifiable).sum(),
        checked: by_source_region.iter().map(|r| r.checked).sum(),
        by_source_region,
    })
}

fn capacity_section(tables: &Tables, given: &Given) -> Capacity {
    let rows = rows(&tables.capacity)
        .map(|r| {
            let (requests, rerouted) = (r.u64(col::REQUESTS), r.u64(col::REROUTED));
            CapacityRow {
                source_region: r.str(col::SOURCE_REGION),
                model: r.str(col::MODEL),
                quota_kind: r.str(capacity::QUOTA_KIND),
                requests,
                rerouted,
                rerouting_rate: ratio(rerouted, requests),
                throttled: r.u64(capacity::THROTTLED),
                active_minutes: r.u64(capacity::ACTIVE_MINUTES),
                peak_requests_per_minute: r.u64(capacity::PEAK_RPM),
                peak_quota_tokens_per_minute: r.u64(capacity::PEAK_TPM),
                peak_minute: r.opt_i64(capacity::PEAK_MINUTE).map(crate::window::rfc3339),
                peak_quota_tokens_minute: r.opt_i64(capacity::PEAK_TPM_MINUTE).map(crate::window::rfc3339),
                throttled_in_peak_minute: r.u64(capacity::THROTTLED_AT_PEAK),
                peak_throttled_per_minute: r.u64(capacity::PEAK_THROTTLED),
                burndown_rate: r.f64(capacity::BURNDOWN),
                quota_requests_per_minute: r.opt_u64(capacity::QUOTA_RPM),
                quota_tokens_per_minute: r.opt_u64(capacity::QUOTA_TPM),
                minutes_above_80pct: r.opt_u64(capacity::HOT_MINUTES),
                peak_reserved_tokens_per_minute: r.u64(capacity::PEAK_RESERVED),
                peak_reserved_minute: r.opt_i64(capacity::PEAK_RESERVED_MINUTE).map(crate::window::rfc3339),
                requests_without_max_tokens: r.u64(capacity::WITHOUT_MAX_TOKENS),
                minutes_reserved_over_quota: r.opt_u64(capacity::RESERVED_OVER_QUOTA),
            }
        })
        .collect();
    Capacity {
        quotas: given.quotas.name.clone(),
        burndown: given.burndown.source.clone(),
        hot_share: capacity::HOT_SHARE,
        by_source_region_model_kind: rows,
    }
}

fn errors_section(usage: LazyFrame) -> PolarsResult<Errors> {
    let by_code = rows(&errors::by_code(usage).collect()?)
        .map(|r| ErrorRow { error_code: r.str(col::ERROR_CODE), requests: r.u64(col::REQUESTS) })
        .collect();
    Ok(Errors { by_code })
}

fn day(r: &Row) -> String {
    r.opt_i64(col::DAY).map(crate::window::date).unwrap_or_default()
}

fn daily_section(usage: LazyFrame, given: &Given, tokens_known: bool) -> PolarsResult<Daily> {
    let known = |v: u64| tokens_known.then_some(v);
    let by_source_region = rows(&daily::by_source_region(usage.clone()).collect()?)
        .map(|r| {
            let routes = route_row(&r);
            DayRegion {
                day: day(&r),
                source_region: routes.source_region,
                requests: routes.requests,
                local: routes.local,
                rerouted: routes.rerouted,
                unknown: routes.unknown,
                rerouting_rate: routes.rate,
                input_tokens: known(r.u64(col::INPUT_TOKENS)),
                output_tokens: known(r.u64(col::OUTPUT_TOKENS)),
                cache_read_tokens: known(r.u64(col::CACHE_READ_TOKENS)),
                cache_write_tokens: known(r.u64(col::CACHE_WRITE_TOKENS)),
            }
        })
        .collect();
    let logged = usage.filter(col(col::RECORDED_BY).eq(lit(RecordedBy::InvocationLog.as_str())));
    let priced = cost::priced(logged, given.prices, &[col::DAY])?;
    let cost_by_model = rows(&cost::by_model(priced.clone(), &[col::DAY]).collect()?)
        .map(|r| {
            let a = Attributed::from_row(&r);
            DayCost {
                day: day(&r),
                model: r.str(col::MODEL),
                kind: super::batch::ON_DEMAND,
                usd: a.usd,
                requests: a.requests,
                unpriced_requests: a.unpriced,
            }
        })
        .collect();
    let cost_by_tag = rows(&cost::by_tag(priced, given.profiles, &[col::DAY])?.collect()?)
        .map(|r| {
            let a = Attributed::from_row(&r);
            DayTagCost {
                day: day(&r),
                key: r.str(cost::TAG_KEY),
                value: r.str(cost::TAG_VALUE),
                usd: a.usd,
                requests: a.requests,
                unpriced_requests: a.unpriced,
            }
        })
        .collect();
    Ok(Daily { by_source_region, cost_by_model, cost_by_tag })
}

fn read_section(stats: &LoadStats) -> Read {
    Read {
        units_read: stats.units_read,
        rejects: stats
            .rejects
            .iter()
            .map(|(reason, g)| RejectRow { reason: reason.clone(), lines: g.count, first: g.first.clone() })
            .collect(),
        problems: stats
            .problems
            .iter()
            .map(|p| ProblemRow { source: p.unit.to_string(), message: p.message.clone() })
            .collect(),
        skipped_examples: stats.skipped_examples.clone(),
    }
}
