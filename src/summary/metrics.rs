//! The `metrics` section: what Bedrock's CloudWatch metrics count beside what the logs hold.
//! Calls and tokens the logs lack (all of bedrock-mantle's, and runtime calls logging missed),
//! priced; logging coverage per (source region, model, day) from the metrics, for accounts
//! without CloudTrail; latency percentiles per model id where logs have none (InvokeModel).
//!
//! Both sides are compared per (source region, base model, service tier): a metric's `ModelId`
//! is the id as called, and logs may name the same model by an ARN or another profile.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Serialize;

use super::schema::{CapacityRow, CoverageStatus};
use crate::analysis::cost::tier_of;
use crate::fetch::metrics::{self as m, Endpoint, MetricsRead};
use crate::frame::col;
use crate::given::prices::{self, Context, Prices};
use crate::given::profiles::Profiles;
use crate::record::{RecordedBy, ServiceTier};
use crate::tables::row::rows;
use crate::tables::Tables;

/// Metrics count no throttled call (`Invocations` excludes them); neither do these figures.
pub const THROTTLED: &str = "ThrottlingException";

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct MetricsOut {
    /// The regions read (`metrics:REGION`).
    pub regions: Vec<String>,
    /// The period the sums were read at, seconds.
    pub period_seconds: i64,
    /// Metrics requested from GetMetricData (what CloudWatch bills), calls made, and the price.
    pub metrics_requested: u64,
    pub calls: u64,
    pub cost_usd: f64,
    /// Datapoints that were no count (NaN, infinite, negative), left out.
    pub bad_values: u64,
    pub notes: Vec<String>,
    /// Per (source region, endpoint, model, project, service tier).
    pub traffic: Vec<MetricsTraffic>,
    pub totals: MetricsTotals,
    /// Per (source region, model, day): calls the metrics count against the logs' records.
    pub coverage_by_day: Vec<MetricsCoverageDay>,
    /// Per (source region, model id): `InvocationLatency` and `TimeToFirstToken` over the window.
    pub latency: Vec<MetricsLatency>,
    /// Per (source region, model id): Bedrock's `EstimatedTPMQuotaUsage` per minute beside the
    /// log-derived peak quota tokens of its (source region, model, quota kind), and headroom.
    pub capacity: Vec<MetricsCapacity>,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct MetricsCapacity {
    pub source_region: String,
    pub model_id: String,
    pub model: String,
    pub quota_kind: &'static str,
    /// Minutes with a datapoint.
    pub minutes: u64,
    /// AWS's figure at its busiest minute (the first, on a tie) and at the p90 minute (nearest rank).
    pub aws_peak_tpm: u64,
    pub aws_peak_minute: String,
    pub aws_p90_tpm: u64,
    /// The logs' peak quota tokens per minute of the row, its first minute, AWS's figure for that
    /// minute, and the logs' figure less AWS's; null without a capacity row.
    pub log_peak_tpm: Option<u64>,
    pub log_peak_minute: Option<String>,
    pub aws_at_log_peak: Option<u64>,
    pub difference: Option<i64>,
    /// The row's tokens-per-minute quota and the share AWS's busiest and p90 minutes used of it.
    pub quota_tpm: Option<u64>,
    pub peak_share: Option<f64>,
    pub p90_share: Option<f64>,
    /// The busiest minute used more than 80% of the quota.
    pub above_80pct: bool,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct MetricsTraffic {
    pub source_region: String,
    pub endpoint: Endpoint,
    pub model: String,
    pub project: Option<String>,
    pub service_tier: &'static str,
    /// Calls the metrics count (`Invocations`, mantle's `Inferences`).
    pub calls: u64,
    /// Invocation-log records of the same source region, model and tier (throttled ones left out).
    pub logged_requests: u64,
    pub not_in_logs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub input_tokens_not_in_logs: u64,
    pub output_tokens_not_in_logs: u64,
    /// The tokens not in the logs, priced; null without a price row.
    pub usd_not_in_logs: Option<f64>,
}

#[derive(Debug, Serialize, PartialEq, Clone, Default)]
pub struct MetricsTotals {
    pub calls: u64,
    pub logged_requests: u64,
    pub not_in_logs: u64,
    pub mantle_calls: u64,
    pub usd_not_in_logs: f64,
    /// Calls not in the logs whose model has no price row.
    pub unpriced_calls: u64,
    /// Of the cost of logs and metrics together, the share only the metrics show; null when
    /// there is no cost at all.
    pub share_of_cost_from_metrics: Option<f64>,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct MetricsCoverageDay {
    pub day: String,
    pub source_region: String,
    pub model: String,
    pub calls: u64,
    pub logged_requests: u64,
    /// `min(logged, calls) / calls`; null where the metrics count no call.
    pub coverage: Option<f64>,
    pub status: CoverageStatus,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct MetricsLatency {
    pub source_region: String,
    pub model_id: String,
    pub samples: Option<u64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub first_token_p50_ms: Option<f64>,
}

/// A metric `ModelId` split into the model id and the tier its suffix names: Bedrock publishes
/// non-default tiers as `<model>+priority`, `<model>+flex`.
pub fn model_and_tier(model_id: &str) -> (&str, ServiceTier) {
    match model_id.rsplit_once('+') {
        Some((id, tier)) if !id.is_empty() => match ServiceTier::from_response(tier) {
            ServiceTier::Other => (model_id, ServiceTier::Standard),
            t => (id, t),
        },
        _ => (model_id, ServiceTier::Standard),
    }
}

/// Counts are read as floats; a count is never negative and is rounded to the nearest call.
fn whole(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// (source region, base model, tier).
type Key = (String, String, &'static str);
/// Per key: invocation-log records, input and output tokens.
type Logged = BTreeMap<Key, [u64; 3]>;
/// Per (key, day): invocation-log records.
type LoggedDaily = BTreeMap<(Key, i64), u64>;
/// (source region, endpoint, base model, project, tier).
type TrafficKey = (String, Endpoint, String, Option<String>, &'static str);

/// The logs' side: per (source region, base model, tier) and per (that, day), invocation-log
/// records (throttled ones left out) and their input and output tokens.
fn logged(tables: &Tables) -> PolarsResult<(Logged, LoggedDaily)> {
    let df = tables
        .usage
        .clone()
        .lazy()
        .filter(
            col(col::RECORDED_BY)
                .eq(lit(RecordedBy::InvocationLog.as_str()))
                .and(col(col::ERROR_CODE).is_null().or(col(col::ERROR_CODE).neq(lit(THROTTLED)))),
        )
        .collect()?;
    let (mut total, mut daily): (Logged, LoggedDaily) = Default::default();
    for r in rows(&df) {
        let tier = ServiceTier::parse(&r.str(col::SERVICE_TIER)).unwrap_or(ServiceTier::Other).as_str();
        let key = (r.str(col::SOURCE_REGION), r.str(col::MODEL), tier);
        let t = total.entry(key.clone()).or_default();
        let n = r.u64(col::REQUESTS);
        t[0] += n;
        t[1] += r.u64(col::INPUT_TOKENS);
        t[2] += r.u64(col::OUTPUT_TOKENS);
        *daily.entry((key, r.opt_i64(col::DAY).unwrap_or(0))).or_default() += n;
    }
    Ok((total, daily))
}

/// A series' base model and the tier its model id names.
fn base_model(s: &m::Series, profiles: &Profiles) -> (String, ServiceTier) {
    let (id, tier) = model_and_tier(&s.model);
    (crate::resolve::resolve(&s.region, id, None, profiles).model.to_string(), tier)
}

/// Logging coverage per (source region, model, day) from the metrics: runtime calls they count
/// against the logs' records (`check --fail-on-coverage-below` where CloudTrail has none).
pub fn coverage_by_day(
    read: &MetricsRead,
    tables: &Tables,
    profiles: &Profiles,
) -> PolarsResult<Vec<MetricsCoverageDay>> {
    Ok(coverage(read, &logged(tables)?.1, profiles))
}

fn coverage(
    read: &MetricsRead,
    logged_daily: &BTreeMap<(Key, i64), u64>,
    profiles: &Profiles,
) -> Vec<MetricsCoverageDay> {
    let mut days: BTreeMap<(Key, i64), f64> = BTreeMap::new();
    for ((s, day), sums) in read.daily.iter().filter(|((s, _), _)| s.endpoint == Endpoint::BedrockRuntime) {
        let (model, tier) = base_model(s, profiles);
        *days.entry(((s.region.clone(), model, tier.as_str()), *day)).or_default() += sums[m::INVOCATIONS];
    }
    // Coverage per (region, model, day), tiers added up: a day the metrics count calls for.
    let mut per_day: BTreeMap<(i64, String, String), (f64, u64)> = BTreeMap::new();
    for (((region, model, tier), day), calls) in &days {
        let logged = logged_daily.get(&((region.clone(), model.clone(), *tier), *day)).copied().unwrap_or(0);
        let d = per_day.entry((*day, region.clone(), model.clone())).or_default();
        d.0 += calls;
        d.1 += logged;
    }
    per_day
        .into_iter()
        .filter(|(_, (calls, _))| whole(*calls) > 0)
        .map(|((day, region, model), (calls, logged))| {
            let calls = whole(calls);
            MetricsCoverageDay {
                day: crate::window::date(day),
                source_region: region,
                model,
                calls,
                logged_requests: logged,
                coverage: (calls > 0).then(|| logged.min(calls) as f64 / calls as f64),
                status: match (calls, logged) {
                    (_, 0) => CoverageStatus::Missing,
                    (c, l) if l >= c => CoverageStatus::Logged,
                    _ => CoverageStatus::Partial,
                },
            }
        })
        .collect()
}

/// Bedrock's quota usage per minute beside the capacity rows the logs made.
fn capacity(read: &MetricsRead, rows: &[CapacityRow], profiles: &Profiles) -> Vec<MetricsCapacity> {
    read.quota_minutes
        .iter()
        .filter(|(_, minutes)| !minutes.is_empty())
        .map(|(s, minutes)| {
            let (id, _) = model_and_tier(&s.model);
            let model = crate::resolve::resolve(&s.region, id, None, profiles).model.to_string();
            let kind = crate::given::quotas::QuotaKind::of(id, profiles).as_str();
            // The first busiest minute: minutes are in time order.
            let (peak_minute, peak) =
                minutes.iter().fold((minutes[0].0, minutes[0].1), |best, m| if m.1 > best.1 { *m } else { best });
            let mut values: Vec<f64> = minutes.iter().map(|m| m.1).collect();
            values.sort_by(f64::total_cmp);
            let p90 = values[(values.len() * 9).div_ceil(10).max(1) - 1];
            let row = rows.iter().find(|r| r.source_region == s.region && r.model == model && r.quota_kind == kind);
            let log_minute = row
                .and_then(|r| r.peak_quota_tokens_minute.as_deref())
                .and_then(crate::record::parse::parse_timestamp_ms);
            let aws_at = log_minute.map(|at| whole(minutes.iter().filter(|m| m.0 == at).map(|m| m.1).sum()));
            let log_peak = row.map(|r| r.peak_quota_tokens_per_minute);
            let quota = row.and_then(|r| r.quota_tokens_per_minute).filter(|q| *q > 0);
            let share = |v: f64| quota.map(|q| v / q as f64);
            MetricsCapacity {
                source_region: s.region.clone(),
                model_id: s.model.clone(),
                model,
                quota_kind: kind,
                minutes: minutes.len() as u64,
                aws_peak_tpm: whole(peak),
                aws_peak_minute: crate::window::rfc3339(peak_minute),
                aws_p90_tpm: whole(p90),
                log_peak_tpm: log_peak,
                log_peak_minute: row.and_then(|r| r.peak_quota_tokens_minute.clone()),
                aws_at_log_peak: aws_at,
                difference: log_peak.zip(aws_at).map(|(l, a)| l as i64 - a as i64),
                quota_tpm: quota,
                peak_share: share(peak),
                p90_share: share(p90),
                above_80pct: share(peak).is_some_and(|s| s > crate::analysis::capacity::HOT_SHARE),
            }
        })
        .collect()
}

/// The section, from what the metrics read and the window's tables. `logs_usd` is the cost the
/// logs' records came to (the report's `cost.total`), `capacity` its capacity rows.
pub fn section(
    read: &MetricsRead,
    tables: &Tables,
    prices: &Prices,
    profiles: &Profiles,
    logs_usd: f64,
    capacity_rows: &[CapacityRow],
) -> PolarsResult<MetricsOut> {
    let (logged_total, logged_daily) = logged(tables)?;
    // The metrics' side, per (region, endpoint, model, project, tier) and per (region, model,
    // tier, day) for runtime calls.
    let mut traffic: BTreeMap<TrafficKey, [f64; 3]> = BTreeMap::new();
    for ((s, _), sums) in &read.daily {
        let (model, tier) = base_model(s, profiles);
        let t = traffic.entry((s.region.clone(), s.endpoint, model, s.project.clone(), tier.as_str())).or_default();
        t[0] += sums[m::INVOCATIONS];
        t[1] += sums[m::INPUT];
        t[2] += sums[m::OUTPUT];
    }
    let mut totals = MetricsTotals::default();
    let mut out_traffic = Vec::new();
    for ((region, endpoint, model, project, tier), [calls, input, output]) in traffic {
        let (calls, input, output) = (whole(calls), whole(input), whole(output));
        // Mantle calls are never logged: nothing of the logs is set against them.
        let [logged, logged_in, logged_out] = match endpoint {
            Endpoint::BedrockRuntime => {
                logged_total.get(&(region.clone(), model.clone(), tier)).copied().unwrap_or_default()
            }
            Endpoint::BedrockMantle => [0; 3],
        };
        let not_in_logs = calls.saturating_sub(logged);
        let (in_missing, out_missing) = (input.saturating_sub(logged_in), output.saturating_sub(logged_out));
        let kind = crate::resolve::resolve(&region, &model, None, profiles).kind;
        // Metrics do not say how long each call was: the calls are priced at the standard rows.
        let key = prices::Key {
            source_region: &region,
            tier: tier_of(kind.as_str()),
            service: ServiceTier::parse(tier).unwrap_or_default(),
            context: Context::Standard,
        };
        let price = prices.lookup(&model, key);
        let usd = price.map(|p| (in_missing as f64 * p.input + out_missing as f64 * p.output) / 1_000_000.0);
        totals.calls += calls;
        totals.logged_requests += logged.min(calls);
        totals.not_in_logs += not_in_logs;
        if endpoint == Endpoint::BedrockMantle {
            totals.mantle_calls += calls;
        }
        match usd {
            Some(usd) => totals.usd_not_in_logs += usd,
            None => totals.unpriced_calls += not_in_logs,
        }
        out_traffic.push(MetricsTraffic {
            source_region: region,
            endpoint,
            model,
            project,
            service_tier: tier,
            calls,
            logged_requests: logged,
            not_in_logs,
            input_tokens: input,
            output_tokens: output,
            input_tokens_not_in_logs: in_missing,
            output_tokens_not_in_logs: out_missing,
            usd_not_in_logs: usd,
        });
    }
    let all = logs_usd + totals.usd_not_in_logs;
    totals.share_of_cost_from_metrics = (all > 0.0).then(|| totals.usd_not_in_logs / all);

    let coverage_by_day = coverage(read, &logged_daily, profiles);
    let latency = read
        .latency
        .iter()
        .map(|(s, l)| MetricsLatency {
            source_region: s.region.clone(),
            model_id: s.model.clone(),
            samples: l.samples.map(whole),
            p50_ms: l.p50,
            p90_ms: l.p90,
            p99_ms: l.p99,
            first_token_p50_ms: l.first_token_p50,
        })
        .collect();
    Ok(MetricsOut {
        regions: read.regions.clone(),
        period_seconds: read.period_s,
        metrics_requested: read.metrics_requested,
        calls: read.calls,
        cost_usd: read.cost_usd(),
        bad_values: read.bad_values,
        notes: read.notes.clone(),
        traffic: out_traffic,
        totals,
        coverage_by_day,
        latency,
        capacity: capacity(read, capacity_rows, profiles),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_in_model_ids() {
        let cases = [
            (
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                ("anthropic.claude-sonnet-4-5-20250929-v1:0", ServiceTier::Standard),
            ),
            ("us.amazon.nova-pro-v1:0+priority", ("us.amazon.nova-pro-v1:0", ServiceTier::Priority)),
            ("us.amazon.nova-pro-v1:0+flex", ("us.amazon.nova-pro-v1:0", ServiceTier::Flex)),
            // A suffix that names no tier is part of the id.
            ("model+v2", ("model+v2", ServiceTier::Standard)),
            ("+priority", ("+priority", ServiceTier::Standard)),
        ];
        for (id, want) in cases {
            assert_eq!(model_and_tier(id), want, "{id}");
        }
    }

    #[test]
    fn counts_are_whole_calls() {
        for (v, want) in [(2.4, 2), (2.5, 3), (-1.0, 0), (f64::NAN, 0), (1e30, u64::MAX)] {
            assert_eq!(whole(v), want, "{v}");
        }
    }
}
