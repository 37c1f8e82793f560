//! The types of `summary.json` (contract section 5). Every renderer reads them, so Markdown,
//! terminal and JSON always show the same numbers. Fields beyond the contract are additions;
//! none of the contract's fields is renamed.

use std::ops::Sub;

use serde::Serialize;

pub use crate::analysis::attribution::Attributed;

pub const SCHEMA: &str = "mila.summary/1";

#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub schema: &'static str,
    pub window: WindowOut,
    pub records: Records,
    /// Which kinds of record were read, and what CloudTrail alone cannot tell.
    pub sources: Sources,
    pub rerouting: Rerouting,
    /// Null when only CloudTrail was read (it records no latency; see `sources.not_available`).
    pub latency: Option<Latency>,
    /// Null when only CloudTrail was read (it records no tokens).
    pub tokens: Option<Tokens>,
    /// Null when only CloudTrail was read (no tokens, no cost).
    pub cost: Option<Cost>,
    pub residency: Option<Residency>,
    pub errors: Errors,
    /// Calls per caller (identity ARN), whichever record counted them.
    pub callers: Vec<CallerCalls>,
    /// Logging coverage: present when both invocation logs and CloudTrail were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// With `--compare previous` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// With `metrics:REGION` sources only: what Bedrock's CloudWatch metrics count beside the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<super::metrics::MetricsOut>,
    /// With `batch:` sources only: batch inference jobs, which invocation logs never hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<super::batch::BatchOut>,
    /// Null when only CloudTrail was read (it records no tokens per minute).
    pub capacity: Option<Capacity>,
    /// Per UTC day: the series the charts draw.
    pub daily: Daily,
    /// What reading met: units read, rejects, problems, files skipped.
    #[serde(rename = "input")]
    pub read: Read,
    pub engine: EngineOut,
}

/// Which engine computed the figures and, for Athena and Logs Insights, what it scanned and cost.
#[derive(Debug, Serialize, PartialEq, Clone)]
pub struct EngineOut {
    pub name: EngineName,
    /// Logs Insights: the log groups queried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_groups: Option<Vec<String>>,
    /// Logs Insights: the windows whose results were kept, and the windows split in two
    /// because a result reached the row limit, timed out or was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_split: Option<u64>,
    /// Statements run (Athena), or queries (Logs Insights, split windows' included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queries: Option<u64>,
    /// Bytes the statements scanned (`DataScannedInBytes`, summed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_scanned_bytes: Option<u64>,
    /// Bytes billed: each query rounded up to a megabyte, at least 10 MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_bytes: Option<u64>,
    /// At Athena's 5 USD per TB billed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// Which engine computed the figures (`engine.name`: `local`, `athena` or `insights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineName {
    Local,
    Athena,
    Insights,
}

impl std::fmt::Display for EngineName {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            EngineName::Local => "local",
            EngineName::Athena => "athena",
            EngineName::Insights => "insights",
        })
    }
}

impl EngineOut {
    pub fn local() -> EngineOut {
        EngineOut {
            name: EngineName::Local,
            log_groups: None,
            windows: None,
            windows_split: None,
            queries: None,
            data_scanned_bytes: None,
            billed_bytes: None,
            cost_usd: None,
        }
    }

    /// What the engine spent: None for the local engine.
    pub fn of(spent: Option<&crate::engine::Spent>, log_groups: Option<&[String]>) -> EngineOut {
        match spent {
            None => EngineOut::local(),
            Some(s) => EngineOut {
                name: match s.by {
                    crate::engine::Biller::Athena => EngineName::Athena,
                    crate::engine::Biller::Insights => EngineName::Insights,
                },
                log_groups: log_groups.map(<[String]>::to_vec),
                windows: (s.by == crate::engine::Biller::Insights).then_some(s.windows),
                windows_split: (s.by == crate::engine::Biller::Insights).then_some(s.splits),
                queries: Some(s.queries),
                data_scanned_bytes: Some(s.scanned_bytes),
                billed_bytes: Some(s.billed_bytes),
                cost_usd: Some(s.usd),
            },
        }
    }
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

/// Calls are counted once: by their invocation-log record when there is one, else by their
/// CloudTrail event.
#[derive(Debug, Serialize, PartialEq)]
pub struct Sources {
    /// Calls counted from invocation-log records.
    pub invocation_log_records: u64,
    /// Bedrock runtime calls read in CloudTrail (each request id once).
    pub cloudtrail_calls: u64,
    /// Of those, calls no invocation-log record matched, counted from CloudTrail.
    pub cloudtrail_only: u64,
    /// CloudTrail events that are not Bedrock runtime calls, skipped.
    pub cloudtrail_other_events: u64,
    /// Of `cloudtrail_calls`, bedrock-mantle calls (operation `bedrock-mantle:EVENT`): never
    /// logged, so logging coverage does not judge them.
    pub bedrock_mantle_calls: u64,
    /// Tokens CloudTrail recorded (`additionalEventData.inputTokens`, `outputTokens`) for the calls
    /// counted from CloudTrail alone; these figures come from CloudTrail and are not in `tokens` or
    /// `cost`, which come from invocation logs. Null when CloudTrail recorded none.
    pub cloudtrail_tokens: Option<CloudTrailTokens>,
    /// Sections CloudTrail cannot fill, null because only CloudTrail was read.
    pub not_available: Vec<&'static str>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CloudTrailTokens {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Those tokens priced (calls with no price row count nothing).
    pub usd: f64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CallerCalls {
    /// `role`, `user`, `api-key` (an IAM user of a Bedrock API key), `federated-user`, `root`, `other`.
    pub kind: &'static str,
    pub account: String,
    pub principal: String,
    pub session: String,
    pub requests: u64,
    pub errors: u64,
}

/// Invocation logging against CloudTrail, which records every call: where logging was off or
/// partial. Counts are compared per (source region, day, model id, operation), which needs no
/// join key; request ids, where they match, name the calls found in one record and not the other.
#[derive(Debug, Serialize, PartialEq)]
pub struct Coverage {
    pub cloudtrail_calls: u64,
    pub invocation_log_records: u64,
    /// Of the CloudTrail calls, the share with an invocation-log record (counts compared per
    /// region, day, model id and operation); null without CloudTrail calls.
    pub coverage: Option<f64>,
    /// Whether any CloudTrail event's request id matched an invocation-log record: when none
    /// did, only counts are compared.
    pub request_ids_match: bool,
    /// CloudTrail calls whose request id no invocation-log record has (when ids match).
    pub only_in_cloudtrail: u64,
    /// Invocation-log records of region-days CloudTrail has calls for, whose request id no
    /// CloudTrail event has (when ids match).
    pub only_in_invocation_logs: u64,
    pub by_source_region_day: Vec<CoverageDay>,
    /// The (region, day, model id, operation) cells where the counts differ.
    pub gaps: Vec<CoverageCell>,
    /// The oldest calls found only in CloudTrail (at most 100).
    pub only_in_cloudtrail_listed: Vec<CoverageCall>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CoverageDay {
    pub day: String,
    pub source_region: String,
    pub cloudtrail_calls: u64,
    pub invocation_log_records: u64,
    /// The CloudTrail calls counted as logged: per model id and operation, at most as many as
    /// that cell's log records, so one model's records never make up for another's.
    pub cloudtrail_calls_logged: u64,
    /// `cloudtrail_calls_logged / cloudtrail_calls`; null where CloudTrail has no calls.
    pub coverage: Option<f64>,
    pub status: CoverageStatus,
}

/// How much of a source region's day CloudTrail's calls are in the invocation logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CoverageStatus {
    #[serde(rename = "logged")]
    Logged,
    #[serde(rename = "partial")]
    Partial,
    /// No call logged.
    #[serde(rename = "missing")]
    Missing,
    /// Invocation logs only.
    #[serde(rename = "no cloudtrail")]
    NoCloudtrail,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Logged => "logged",
            CoverageStatus::Partial => "partial",
            CoverageStatus::Missing => "missing",
            CoverageStatus::NoCloudtrail => "no cloudtrail",
        }
    }
}

impl std::fmt::Display for CoverageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CoverageCell {
    pub day: String,
    pub source_region: String,
    pub model_id: String,
    pub operation: String,
    pub cloudtrail_calls: u64,
    pub invocation_log_records: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CoverageCall {
    pub request_id: String,
    pub time: String,
    pub source_region: String,
    pub model_id: String,
    pub operation: String,
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
    /// `exact` (nearest rank over every latency) or `approximate` (Athena's approx_percentile,
    /// rank error about 1%): p50, p90, p99 and first-byte p50 are read with it.
    pub percentiles: crate::tables::Percentiles,
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
    /// Per operation as logged, sorted by name: the ones mila knows and any other (kept and
    /// counted, never dropped), with their invocation-log records and tokens.
    pub by_operation: Vec<OperationTokens>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct OperationTokens {
    pub operation: String,
    /// One of `record::KNOWN_OPERATIONS`.
    pub known: bool,
    pub requests: u64,
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TokenRow {
    pub model: String,
    pub requests: u64,
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Every cache write; of them, `cache_write_1h` were kept one hour.
    pub cache_write: u64,
    pub cache_write_1h: u64,
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
    /// Per service tier the responses named: standard, priority, flex, reserved,
    /// latency-optimized, other.
    pub by_service_tier: Vec<CostServiceTier>,
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
pub struct CostServiceTier {
    pub service_tier: String,
    #[serde(flatten)]
    pub figures: Attributed,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CostIdentity {
    /// As `callers[].kind`: an API key's calls are named as such.
    pub kind: &'static str,
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
    /// `on-demand` (the records' calls) or `batch` (batch inference jobs, `summary::batch`).
    pub kind: &'static str,
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
    /// The burndown table quota tokens were counted with.
    pub burndown: String,
    /// A minute is "above" when it exceeds this share of a quota.
    pub hot_share: f64,
    pub by_source_region_model_kind: Vec<CapacityRow>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CapacityRow {
    pub source_region: String,
    pub model: String,
    /// `in-region`, `geographic`, `global` or `other` (no on-demand quota mila knows).
    pub quota_kind: String,
    pub requests: u64,
    pub rerouted: u64,
    pub rerouting_rate: f64,
    /// Calls refused with `ThrottlingException`.
    pub throttled: u64,
    pub active_minutes: u64,
    pub peak_requests_per_minute: u64,
    /// Input + cache-write + output x burndown rate, the most in one minute.
    pub peak_quota_tokens_per_minute: u64,
    /// The first minute with the peak request count.
    pub peak_minute: Option<String>,
    /// The first minute with the peak quota tokens.
    pub peak_quota_tokens_minute: Option<String>,
    pub throttled_in_peak_minute: u64,
    pub peak_throttled_per_minute: u64,
    pub burndown_rate: f64,
    pub quota_requests_per_minute: Option<u64>,
    pub quota_tokens_per_minute: Option<u64>,
    /// Null when the pair has no quota.
    pub minutes_above_80pct: Option<u64>,
    /// Input + cache-read + cache-write tokens + each request's most output tokens (its settled
    /// output when it named none): what the calls of a minute took from the quota when they
    /// started, the most in one minute.
    pub peak_reserved_tokens_per_minute: u64,
    /// The first minute with the peak reservation.
    pub peak_reserved_minute: Option<String>,
    /// Calls (not throttled) whose request named no most output tokens, or whose body was not
    /// logged: they reserve the model's own maximum, which the reservation above leaves out.
    pub requests_without_max_tokens: u64,
    /// Minutes whose reservations went past `quota_tokens_per_minute` while their settled quota
    /// tokens did not; null without that quota.
    pub minutes_reserved_over_quota: Option<u64>,
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
    /// Token sums are null when only CloudTrail was read.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DayCost {
    pub day: String,
    pub model: String,
    /// As `cost.by_model[].kind`.
    pub kind: &'static str,
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
pub struct Read {
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

// `--compare previous` (`summary::compare` computes it).

#[derive(Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// The previous window (end exclusive).
    pub previous: WindowOut,
    pub requests: Change<i64>,
    pub input_tokens: Change<i64>,
    pub output_tokens: Change<i64>,
    pub cache_read_tokens: Change<i64>,
    pub cache_write_tokens: Change<i64>,
    pub cost_usd: Change<f64>,
    /// A share (0 to 1); `change` is in the same unit.
    pub rerouting_rate: Change<f64>,
    /// Null without a policy.
    pub violations: Option<Change<i64>>,
    /// Per inference region in either window; a side without calls is null.
    pub latency: Vec<LatencyChange>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LatencyChange {
    pub inference_region: String,
    pub p50_ms: Change<i64>,
    pub p90_ms: Change<i64>,
    pub p99_ms: Change<i64>,
}

/// One figure in both windows: `change` = current - previous; `change_ratio` = change /
/// previous (null when previous is 0 or either side is missing).
#[derive(Debug, Serialize, PartialEq, Clone, Copy)]
pub struct Change<T> {
    pub current: Option<T>,
    pub previous: Option<T>,
    pub change: Option<T>,
    pub change_ratio: Option<f64>,
}

pub trait Figure: Copy + Sub<Output = Self> {
    fn as_f64(self) -> f64;
}

impl Figure for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Figure for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

impl<T: Figure> Change<T> {
    pub fn new(current: Option<T>, previous: Option<T>) -> Change<T> {
        let (change, change_ratio) = match (current, previous) {
            (Some(c), Some(p)) => (Some(c - p), (p.as_f64() != 0.0).then(|| (c - p).as_f64() / p.as_f64())),
            _ => (None, None),
        };
        Change { current, previous, change, change_ratio }
    }
}
