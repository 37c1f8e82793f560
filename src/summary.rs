//! Analyses -> the Summary that serialises to `summary.json` (contract section 5). Every
//! renderer reads this struct, so Markdown, terminal and JSON always show the same numbers.
//! Fields beyond the contract are additions; none of the contract's fields is renamed.

use polars::prelude::*;
use serde::Serialize;

use crate::analysis::{capacity, cost, daily, errors, latency, read, rerouting, residency, tokens};
use crate::frame::col;
use crate::inputs::policy::Policy;
use crate::inputs::prices::Prices;
use crate::inputs::profiles::Profiles;
use crate::inputs::quotas::Quotas;
use crate::load::LoadStats;
use crate::window::Window;

pub const SCHEMA: &str = "mila.summary/1";

#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub schema: &'static str,
    pub window: WindowOut,
    pub records: Records,
    pub rerouting: Rerouting,
    pub latency: Latency,
    pub tokens: Tokens,
    pub cost: Cost,
    pub residency: Option<Residency>,
    pub errors: Errors,
    /// With `--compare previous` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<crate::compare::Comparison>,
    pub capacity: Capacity,
    /// Per UTC day: the series the charts draw.
    pub daily: Daily,
    pub input: Input,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct WindowOut {
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Records {
    pub lines: u64,
    pub parsed: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub invocation_errors: u64,
    pub skipped_objects: u64,
    pub outside_window: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Rerouting {
    pub requests: u64,
    pub local: u64,
    pub rerouted: u64,
    pub unknown: u64,
    pub rate: f64,
    pub by_source_region: Vec<RegionRoutes>,
    pub flows: Vec<Flow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct RegionRoutes {
    pub source_region: String,
    pub requests: u64,
    pub local: u64,
    pub rerouted: u64,
    pub unknown: u64,
    pub rate: f64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Flow {
    pub source_region: String,
    pub inference_region: Option<String>,
    pub requests: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Latency {
    pub known: u64,
    /// Successful calls with a known inference region, latency known or not.
    pub calls: u64,
    pub by_inference_region: Vec<LatencyRow>,
    /// The latency cost of rerouting: local and rerouted calls of the same source region and model.
    pub local_vs_rerouted: Vec<RouteLatencyRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct RouteLatencyRow {
    pub source_region: String,
    pub model: String,
    pub local_requests: u64,
    pub local_p50_ms: Option<i64>,
    pub local_p90_ms: Option<i64>,
    pub rerouted_requests: u64,
    pub rerouted_p50_ms: Option<i64>,
    pub rerouted_p90_ms: Option<i64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LatencyRow {
    pub inference_region: String,
    pub requests: u64,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    pub mean_ms: Option<f64>,
    pub calls: u64,
    /// requests / calls: the share of calls whose latency the logs record.
    pub coverage: f64,
    pub first_byte_p50_ms: Option<i64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Tokens {
    pub by_model: Vec<TokenRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TokenRow {
    pub model: String,
    pub requests: u64,
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Cost {
    pub currency: &'static str,
    pub total: f64,
    pub unpriced_requests: u64,
    pub by_model: Vec<CostModel>,
    pub by_tag: Vec<CostTag>,
    /// Per caller: the identity ARN's account, principal and session.
    pub by_identity: Vec<CostIdentity>,
    /// Per `--by-metadata` key and its value; `(none)` when a record's requestMetadata lacks the key.
    pub by_request_metadata: Vec<CostMetadata>,
    /// Per source region (where region-specific prices apply).
    pub by_source_region: Vec<CostRegion>,
    /// Per kind of model id: foundation-model, geo-profile, global-profile, application-profile, other.
    pub by_model_id_kind: Vec<CostKind>,
    pub prices: String,
    /// The profiles file in use, its size and snapshot date; or that there is none.
    pub profiles: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostRegion {
    pub source_region: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostKind {
    pub model_id_kind: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostIdentity {
    pub account: String,
    /// `role/NAME` (Identity Center roles without their random suffix), `user/NAME`, `root`, ...
    pub principal: String,
    pub session: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostMetadata {
    pub key: String,
    pub value: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostModel {
    pub model: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostTag {
    pub key: String,
    pub value: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Residency {
    pub policy: String,
    pub violations: u64,
    pub unverifiable: u64,
    pub checked: u64,
    pub by_source_region: Vec<ResidencyRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ResidencyRow {
    pub source_region: String,
    pub violations: u64,
    pub unverifiable: u64,
    pub checked: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Errors {
    pub by_code: Vec<ErrorRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ErrorRow {
    pub error_code: String,
    pub requests: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Capacity {
    /// The quota file given, if any.
    pub quotas: Option<String>,
    /// A minute is "above" when it exceeds this share of a quota.
    pub hot_share: f64,
    pub by_source_region_model: Vec<CapacityRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CapacityRow {
    pub source_region: String,
    pub model: String,
    pub requests: u64,
    pub rerouted: u64,
    pub rerouting_rate: f64,
    pub active_minutes: u64,
    pub peak_requests_per_minute: u64,
    /// Input + output tokens.
    pub peak_tokens_per_minute: u64,
    /// The first minute with the peak request count.
    pub peak_minute: Option<String>,
    pub quota_requests_per_minute: Option<u64>,
    pub quota_tokens_per_minute: Option<u64>,
    /// Null when the pair has no quota.
    pub minutes_above_80pct: Option<u64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Daily {
    pub by_source_region: Vec<DayRegion>,
    pub cost_by_model: Vec<DayCost>,
    /// Every tag key of the profiles file, as `cost.by_tag`.
    pub cost_by_tag: Vec<DayTagCost>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DayRegion {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub source_region: String,
    pub requests: u64,
    pub local: u64,
    pub rerouted: u64,
    pub unknown: u64,
    pub rerouting_rate: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DayCost {
    pub day: String,
    pub model: String,
    pub usd: f64,
    pub requests: u64,
    pub unpriced_requests: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DayTagCost {
    pub day: String,
    pub key: String,
    pub value: String,
    pub usd: f64,
    pub requests: u64,
    pub unpriced_requests: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Input {
    /// Files, objects or streams read.
    pub units_read: u64,
    pub rejects: Vec<RejectRow>,
    pub problems: Vec<ProblemRow>,
    pub skipped_examples: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct RejectRow {
    pub reason: String,
    pub lines: u64,
    pub first: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ProblemRow {
    pub source: String,
    pub message: String,
}

/// The user's inputs that analyses need.
pub struct Inputs<'a> {
    pub prices: &'a Prices,
    pub profiles: &'a Profiles,
    pub policy: Option<&'a Policy>,
    pub quotas: &'a Quotas,
    pub metadata_keys: &'a [String],
}

fn u(v: Option<i64>) -> u64 {
    v.unwrap_or(0).max(0) as u64
}

fn s(v: Option<String>) -> String {
    v.unwrap_or_default()
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

pub fn build(frame: &DataFrame, stats: &LoadStats, window: Window, inputs: &Inputs) -> PolarsResult<Summary> {
    let lf = frame.clone().lazy();

    let by_src = rerouting::by_source_region(lf.clone()).collect()?;
    let by_source_region: Vec<RegionRoutes> = zip5(
        read::strs(&by_src, col::SOURCE_REGION)?,
        read::ints(&by_src, rerouting::REQUESTS)?,
        read::ints(&by_src, rerouting::LOCAL)?,
        read::ints(&by_src, rerouting::REROUTED)?,
        read::ints(&by_src, rerouting::UNKNOWN)?,
    )
    .map(|(src, req, loc, rer, unk)| RegionRoutes {
        source_region: s(src),
        requests: u(req),
        local: u(loc),
        rerouted: u(rer),
        unknown: u(unk),
        rate: ratio(u(rer), u(req)),
    })
    .collect();
    let sum = |f: fn(&RegionRoutes) -> u64| by_source_region.iter().map(f).sum::<u64>();
    let (requests, rerouted) = (sum(|r| r.requests), sum(|r| r.rerouted));

    let flows_df = rerouting::flows(lf.clone()).collect()?;
    let flows = read::strs(&flows_df, col::SOURCE_REGION)?
        .into_iter()
        .zip(read::strs(&flows_df, col::INFERENCE_REGION)?)
        .zip(read::ints(&flows_df, rerouting::REQUESTS)?)
        .map(|((src, inf), n)| Flow { source_region: s(src), inference_region: inf, requests: u(n) })
        .collect();

    let lat = latency::by_inference_region(lf.clone()).collect()?;
    let lat_rows: Vec<LatencyRow> = {
        let regions = read::strs(&lat, col::INFERENCE_REGION)?;
        let calls = read::ints(&lat, latency::CALLS)?;
        let known = read::ints(&lat, latency::REQUESTS)?;
        let (p50, p90, p99) =
            (read::ints(&lat, latency::P50)?, read::ints(&lat, latency::P90)?, read::ints(&lat, latency::P99)?);
        let mean = read::floats(&lat, latency::MEAN)?;
        let fb = read::ints(&lat, latency::FIRST_BYTE_P50)?;
        (0..lat.height())
            .map(|i| LatencyRow {
                inference_region: s(regions[i].clone()),
                requests: u(known[i]),
                p50_ms: p50[i],
                p90_ms: p90[i],
                p99_ms: p99[i],
                mean_ms: mean[i],
                calls: u(calls[i]),
                coverage: ratio(u(known[i]), u(calls[i])),
                first_byte_p50_ms: fb[i],
            })
            .collect()
    };

    let local_vs_rerouted = local_vs_rerouted(&latency::by_route(lf.clone()).collect()?)?;
    let daily = build_daily(lf.clone(), inputs)?;

    let tok = tokens::by_model(lf.clone()).collect()?;
    let token_rows = {
        let models = read::strs(&tok, col::MODEL)?;
        let cols: Vec<Vec<Option<i64>>> =
            [tokens::REQUESTS, tokens::INPUT, tokens::OUTPUT, tokens::CACHE_READ, tokens::CACHE_WRITE]
                .iter()
                .map(|c| read::ints(&tok, c))
                .collect::<PolarsResult<_>>()?;
        (0..tok.height())
            .map(|i| TokenRow {
                model: s(models[i].clone()),
                requests: u(cols[0][i]),
                input: u(cols[1][i]),
                output: u(cols[2][i]),
                cache_read: u(cols[3][i]),
                cache_write: u(cols[4][i]),
            })
            .collect()
    };

    let priced = cost::priced(lf.clone(), inputs.prices, &[])?;
    let cost_models: Vec<CostModel> = cost_rows(&cost::by_model(priced.clone(), &[]).collect()?, col::MODEL)?
        .into_iter()
        .map(|(_, model, figures)| CostModel { model: s(model), figures })
        .collect();
    let cost_regions = cost_rows(&cost::grouped(priced.clone(), &[col::SOURCE_REGION]).collect()?, col::SOURCE_REGION)?
        .into_iter()
        .map(|(_, region, figures)| CostRegion { source_region: s(region), figures })
        .collect();
    let by_model_id_kind =
        cost_rows(&cost::grouped(priced.clone(), &[col::MODEL_ID_KIND]).collect()?, col::MODEL_ID_KIND)?
            .into_iter()
            .map(|(_, kind, figures)| CostKind { model_id_kind: s(kind), figures })
            .collect();
    let ct = cost::by_tag(priced, inputs.profiles, &[])?.collect()?;
    let cost_tags = read::strs(&ct, cost::TAG_KEY)?
        .into_iter()
        .zip(cost_rows(&ct, cost::TAG_VALUE)?)
        .map(|(key, (_, value, figures))| CostTag { key: s(key), value: s(value), figures })
        .collect();

    let (by_identity, by_request_metadata) = attribution(lf.clone(), inputs)?;

    let residency = match inputs.policy {
        None => None,
        Some(policy) => {
            let rs = residency::by_source_region(&residency::pairs(lf.clone(), policy)?).collect()?;
            let regions = read::strs(&rs, col::SOURCE_REGION)?;
            let v = read::ints(&rs, residency::VIOLATIONS)?;
            let un = read::ints(&rs, residency::UNVERIFIABLE)?;
            let ch = read::ints(&rs, residency::CHECKED)?;
            let rows: Vec<ResidencyRow> = (0..rs.height())
                .map(|i| ResidencyRow {
                    source_region: s(regions[i].clone()),
                    violations: u(v[i]),
                    unverifiable: u(un[i]),
                    checked: u(ch[i]),
                })
                .collect();
            Some(Residency {
                policy: policy.name.clone(),
                violations: rows.iter().map(|r| r.violations).sum(),
                unverifiable: rows.iter().map(|r| r.unverifiable).sum(),
                checked: rows.iter().map(|r| r.checked).sum(),
                by_source_region: rows,
            })
        }
    };

    let cap = capacity::peaks(capacity::per_minute(lf.clone()), inputs.quotas)?.collect()?;
    let capacity_rows = {
        let (src, model) = (read::strs(&cap, col::SOURCE_REGION)?, read::strs(&cap, col::MODEL)?);
        let int = |name| read::ints(&cap, name);
        let (req, rer, active) = (int(capacity::REQUESTS)?, int(capacity::REROUTED)?, int(capacity::ACTIVE_MINUTES)?);
        let (rpm, tpm, at) = (int(capacity::PEAK_RPM)?, int(capacity::PEAK_TPM)?, int(capacity::PEAK_MINUTE)?);
        let (qr, qt, hot) = (int(capacity::QUOTA_RPM)?, int(capacity::QUOTA_TPM)?, int(capacity::HOT_MINUTES)?);
        (0..cap.height())
            .map(|i| CapacityRow {
                source_region: s(src[i].clone()),
                model: s(model[i].clone()),
                requests: u(req[i]),
                rerouted: u(rer[i]),
                rerouting_rate: ratio(u(rer[i]), u(req[i])),
                active_minutes: u(active[i]),
                peak_requests_per_minute: u(rpm[i]),
                peak_tokens_per_minute: u(tpm[i]),
                peak_minute: at[i].map(crate::window::rfc3339),
                quota_requests_per_minute: qr[i].map(|v| v as u64),
                quota_tokens_per_minute: qt[i].map(|v| v as u64),
                minutes_above_80pct: hot[i].map(|v| v as u64),
            })
            .collect()
    };

    let err = errors::by_code(lf).collect()?;
    let error_rows: Vec<ErrorRow> = read::strs(&err, col::ERROR_CODE)?
        .into_iter()
        .zip(read::ints(&err, errors::REQUESTS)?)
        .map(|(c, n)| ErrorRow { error_code: s(c), requests: u(n) })
        .collect();

    Ok(Summary {
        schema: SCHEMA,
        window: WindowOut { since: window.since_rfc3339(), until: window.until_rfc3339() },
        records: Records {
            lines: stats.lines,
            parsed: stats.parsed(),
            rejected: stats.rejected,
            duplicates: stats.duplicates,
            invocation_errors: error_rows.iter().map(|r| r.requests).sum(),
            skipped_objects: stats.skipped_objects,
            outside_window: stats.outside_window,
        },
        rerouting: Rerouting {
            requests,
            local: sum(|r| r.local),
            rerouted,
            unknown: sum(|r| r.unknown),
            rate: ratio(rerouted, requests),
            by_source_region,
            flows,
        },
        latency: Latency {
            known: lat_rows.iter().map(|r| r.requests).sum(),
            calls: lat_rows.iter().map(|r| r.calls).sum(),
            by_inference_region: lat_rows.into_iter().filter(|r| r.requests > 0).collect(),
            local_vs_rerouted,
        },
        tokens: Tokens { by_model: token_rows },
        cost: Cost {
            currency: "USD",
            // An empty f64 sum is -0.0; adding 0.0 makes it the 0 a reader expects.
            total: cost_models.iter().map(|m| m.figures.usd).sum::<f64>() + 0.0,
            unpriced_requests: cost_models.iter().map(|m| m.figures.unpriced).sum(),
            by_model: cost_models,
            by_tag: cost_tags,
            by_identity,
            by_request_metadata,
            by_source_region: cost_regions,
            by_model_id_kind,
            prices: inputs.prices.source.clone(),
            profiles: profiles_in_use(inputs.profiles),
        },
        residency,
        errors: Errors { by_code: error_rows },
        comparison: None,
        capacity: Capacity {
            quotas: inputs.quotas.name.clone(),
            hot_share: capacity::HOT_SHARE,
            by_source_region_model: capacity_rows,
        },
        daily,
        input: Input {
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
        },
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

/// Sums of priced groups: requests, billed tokens (of successful calls), usd, unpriced requests.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Attributed {
    pub requests: u64,
    #[serde(rename = "input_tokens")]
    pub input: u64,
    #[serde(rename = "output_tokens")]
    pub output: u64,
    pub usd: f64,
    #[serde(rename = "unpriced_requests")]
    pub unpriced: u64,
}

/// The rows of a cost table (`cost::priced` or a grouping of it) as (day, the `name` column,
/// figures), in the table's order; the day is there when the table has one.
type CostRow = (Option<String>, Option<String>, Attributed);

fn cost_rows(df: &DataFrame, name: &str) -> PolarsResult<Vec<CostRow>> {
    let days = match df.column(daily::DAY) {
        Ok(_) => read::ints(df, daily::DAY)?.into_iter().map(|d| d.map(crate::window::date)).collect(),
        Err(_) => vec![None; df.height()],
    };
    let names = read::strs(df, name)?;
    let int = |name| read::ints(df, name);
    let (req, inp, out, unp) =
        (int(cost::REQUESTS)?, int(cost::BILLED_INPUT)?, int(cost::BILLED_OUTPUT)?, int(cost::UNPRICED)?);
    let usd = read::floats(df, cost::USD)?;
    Ok((0..df.height())
        .map(|i| {
            let a = Attributed {
                requests: u(req[i]),
                input: u(inp[i]),
                output: u(out[i]),
                usd: usd[i].unwrap_or(0.0),
                unpriced: u(unp[i]),
            };
            (days[i].clone(), names[i].clone(), a)
        })
        .collect())
}

/// `cost::priced` grouped by one more column, as (its value, figures).
fn priced_by(
    lf: LazyFrame,
    prices: &crate::inputs::prices::Prices,
    key: &str,
) -> PolarsResult<Vec<(Option<String>, Attributed)>> {
    let rows = cost_rows(&cost::priced(lf, prices, &[key])?.collect()?, key)?;
    Ok(rows.into_iter().map(|(_, k, a)| (k, a)).collect())
}

impl Attributed {
    pub fn add(&mut self, a: &Attributed) {
        self.requests += a.requests;
        self.input += a.input;
        self.output += a.output;
        self.usd += a.usd;
        self.unpriced += a.unpriced;
    }
}

/// The value of `key` in a record's requestMetadata (a JSON object text): strings as they are,
/// other JSON values as their JSON text.
fn metadata_value(metadata: Option<&str>, key: &str) -> String {
    let parsed = metadata.and_then(|m| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(m).ok());
    match parsed.as_ref().and_then(|m| m.get(key)) {
        None | Some(serde_json::Value::Null) => NO_METADATA.to_string(),
        Some(serde_json::Value::String(v)) => v.clone(),
        Some(v) => v.to_string(),
    }
}

pub const NO_METADATA: &str = "(none)";
pub const NO_IDENTITY: &str = "(unknown)";

/// Cost and tokens by caller and by requestMetadata key. Priced groups are summed in their sorted
/// order, so the figures are the same on every run.
fn attribution(lf: LazyFrame, inputs: &Inputs) -> PolarsResult<(Vec<CostIdentity>, Vec<CostMetadata>)> {
    let mut callers: std::collections::BTreeMap<crate::record::caller::Caller, Attributed> = Default::default();
    for (arn, a) in priced_by(lf.clone(), inputs.prices, col::IDENTITY_ARN)? {
        let who = match arn.as_deref() {
            Some(arn) => crate::record::caller::caller(arn),
            None => crate::record::caller::Caller {
                account: String::new(),
                principal: NO_IDENTITY.into(),
                session: String::new(),
            },
        };
        callers.entry(who).or_default().add(&a);
    }
    let by_identity = callers
        .into_iter()
        .map(|(c, a)| CostIdentity {
            account: c.account,
            principal: c.principal,
            session: c.session,
            // + 0.0: a sum of no terms is -0.0, which would print as "-0".
            figures: Attributed { usd: a.usd + 0.0, ..a },
        })
        .collect();
    let mut values: std::collections::BTreeMap<(String, String), Attributed> = Default::default();
    if !inputs.metadata_keys.is_empty() {
        for (metadata, a) in priced_by(lf, inputs.prices, col::REQUEST_METADATA)? {
            for key in inputs.metadata_keys {
                values.entry((key.clone(), metadata_value(metadata.as_deref(), key))).or_default().add(&a);
            }
        }
    }
    let by_request_metadata = values
        .into_iter()
        .map(|((key, value), a)| CostMetadata { key, value, figures: Attributed { usd: a.usd + 0.0, ..a } })
        .collect();
    Ok((by_identity, by_request_metadata))
}

/// Local and rerouted side by side, one row per (source region, model). Input: `latency::by_route`.
fn local_vs_rerouted(df: &DataFrame) -> PolarsResult<Vec<RouteLatencyRow>> {
    let (src, model, route) =
        (read::strs(df, col::SOURCE_REGION)?, read::strs(df, col::MODEL)?, read::strs(df, col::ROUTE)?);
    let (n, p50, p90) =
        (read::ints(df, latency::REQUESTS)?, read::ints(df, latency::P50)?, read::ints(df, latency::P90)?);
    let mut rows: Vec<RouteLatencyRow> = Vec::new();
    for i in 0..df.height() {
        let (src, model) = (s(src[i].clone()), s(model[i].clone()));
        // Sorted by (source, model, route), so a pair's rows are adjacent.
        if rows.last().is_none_or(|r| r.source_region != src || r.model != model) {
            rows.push(RouteLatencyRow {
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
        let row = rows.last_mut().expect("pushed above");
        if route[i].as_deref() == Some(crate::record::Route::Local.as_str()) {
            (row.local_requests, row.local_p50_ms, row.local_p90_ms) = (u(n[i]), p50[i], p90[i]);
        } else {
            (row.rerouted_requests, row.rerouted_p50_ms, row.rerouted_p90_ms) = (u(n[i]), p50[i], p90[i]);
        }
    }
    Ok(rows)
}

fn build_daily(lf: LazyFrame, inputs: &Inputs) -> PolarsResult<Daily> {
    let d = daily::by_source_region(lf.clone()).collect()?;
    let days = read::ints(&d, daily::DAY)?;
    let src = read::strs(&d, col::SOURCE_REGION)?;
    let int = |name| read::ints(&d, name);
    let (req, loc, rer, unk) = (int(daily::REQUESTS)?, int(daily::LOCAL)?, int(daily::REROUTED)?, int(daily::UNKNOWN)?);
    let (inp, out, cr, cw) =
        (int(daily::INPUT)?, int(daily::OUTPUT)?, int(daily::CACHE_READ)?, int(daily::CACHE_WRITE)?);
    let by_source_region = (0..d.height())
        .map(|i| DayRegion {
            day: days[i].map(crate::window::date).unwrap_or_default(),
            source_region: s(src[i].clone()),
            requests: u(req[i]),
            local: u(loc[i]),
            rerouted: u(rer[i]),
            unknown: u(unk[i]),
            rerouting_rate: ratio(u(rer[i]), u(req[i])),
            input_tokens: u(inp[i]),
            output_tokens: u(out[i]),
            cache_read_tokens: u(cr[i]),
            cache_write_tokens: u(cw[i]),
        })
        .collect();
    let priced = cost::priced(lf.with_column(daily::day()), inputs.prices, &[daily::DAY])?;
    let cost_by_model = cost_rows(&cost::by_model(priced.clone(), &[daily::DAY]).collect()?, col::MODEL)?
        .into_iter()
        .map(|(day, model, c)| DayCost {
            day: day.unwrap_or_default(),
            model: s(model),
            usd: c.usd,
            requests: c.requests,
            unpriced_requests: c.unpriced,
        })
        .collect();
    let ct = cost::by_tag(priced, inputs.profiles, &[daily::DAY])?.collect()?;
    let cost_by_tag = read::strs(&ct, cost::TAG_KEY)?
        .into_iter()
        .zip(cost_rows(&ct, cost::TAG_VALUE)?)
        .map(|(key, (day, value, c))| DayTagCost {
            day: day.unwrap_or_default(),
            key: s(key),
            value: s(value),
            usd: c.usd,
            requests: c.requests,
            unpriced_requests: c.unpriced,
        })
        .collect();
    Ok(Daily { by_source_region, cost_by_model, cost_by_tag })
}

fn zip5<A, B, C, D, E>(a: Vec<A>, b: Vec<B>, c: Vec<C>, d: Vec<D>, e: Vec<E>) -> impl Iterator<Item = (A, B, C, D, E)> {
    a.into_iter().zip(b).zip(c).zip(d).zip(e).map(|((((a, b), c), d), e)| (a, b, c, d, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values() {
        let cases = [
            (Some(r#"{"app":"search","n":3}"#), "app", "search"),
            (Some(r#"{"app":"search","n":3}"#), "n", "3"),
            (Some(r#"{"app":"search"}"#), "team", NO_METADATA),
            (Some(r#"{"flag":true,"x":null}"#), "flag", "true"),
            (Some(r#"{"x":null}"#), "x", NO_METADATA),
            (Some("{}"), "app", NO_METADATA),
            (None, "app", NO_METADATA),
            (Some(r#"{"a.b":"dotted"}"#), "a.b", "dotted"),
        ];
        for (metadata, key, want) in cases {
            assert_eq!(metadata_value(metadata, key), want, "{metadata:?} {key}");
        }
    }
}
