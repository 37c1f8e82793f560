//! The small per-question tables every summary is built from. The local engine (`crate::tally`)
//! makes them in one pass over the records; another engine (SQL where the logs are) can make
//! the same tables, and everything after them (`analysis`, `summary`, `render`) is shared.
//!
//! Every table is aggregated: a row stands for `col::REQUESTS` records, and token columns hold
//! sums. Nothing here holds a record, so their size depends on the distinct data only.

pub mod row;

use polars::prelude::*;

/// The aggregated tables of one window.
pub struct Tables {
    /// Per (day, source region, model id, model, model-id kind, route, inference region, error
    /// code, service tier, record kind): requests and the token sums (failed calls included).
    pub usage: DataFrame,
    /// Per (identity ARN, model id, model, model-id kind, source region, error code, service
    /// tier, record kind): the same.
    pub callers: DataFrame,
    /// Per (request metadata text, model id, model, model-id kind, source region, error code,
    /// service tier, record kind): the same; empty unless `--by-metadata` asked for it.
    pub metadata: DataFrame,
    /// Per (source region, model): requests, rerouted, active minutes, the peak requests and
    /// quota tokens (input + output) in a minute and the first minute of the peak, its quotas and
    /// the minutes above 80% of them (`analysis::capacity`).
    pub capacity: DataFrame,
    /// Per inference region, successful calls with a known inference region: `latency::CALLS`,
    /// the calls with a latency (`requests`), nearest-rank p50/p90/p99, mean, first-byte p50.
    pub latency_by_inference_region: DataFrame,
    /// Per (source region, model, route local or rerouted), successful calls with a latency:
    /// requests, p50, p90.
    pub latency_by_route: DataFrame,
    /// The violating requests (`check` only): request id, time, source and inference region,
    /// model id, identity ARN, oldest first.
    pub violations: Option<DataFrame>,
    pub percentiles: Percentiles,
    /// Logging coverage: per (day, source region, model id, operation), the `coverage::COUNTS`.
    pub coverage: DataFrame,
    /// Identity ARNs CloudTrail saw calling with a bearer token (an API key), sorted: their calls
    /// are an API key's whatever the ARN's form (`record::caller::caller_of`).
    pub api_key_callers: Vec<String>,
    /// Per operation as logged (known or not: `record::KNOWN_OPERATIONS`), the invocation-log
    /// records' requests and token sums; empty for `check`.
    pub operations: DataFrame,
    /// The oldest calls found in CloudTrail and not in the invocation logs (at most
    /// `tally::CLOUDTRAIL_ONLY_LISTED`): request id, time, source region, model id, operation.
    pub cloudtrail_only: DataFrame,
}

/// The columns of the coverage table after its keys.
pub mod coverage {
    /// Invocation-log records (each request id once).
    pub const LOG_RECORDS: &str = "invocation_log_records";
    /// CloudTrail runtime calls (each request id once), logged or not.
    pub const CLOUDTRAIL_CALLS: &str = "cloudtrail_calls";
    /// CloudTrail calls whose request id no invocation-log record has.
    pub const CLOUDTRAIL_ONLY: &str = "cloudtrail_only";
    pub const COUNTS: [&str; 3] = [LOG_RECORDS, CLOUDTRAIL_CALLS, CLOUDTRAIL_ONLY];
}

/// How the latency percentiles of the tables were computed (`latency.percentiles` in
/// summary.json: `exact` or `approximate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentiles {
    /// Nearest rank over every latency (the local engine).
    Exact,
    /// Athena's `approx_percentile`: a rank error of about 1%.
    Approximate,
}

impl Percentiles {
    pub fn as_str(self) -> &'static str {
        match self {
            Percentiles::Exact => "exact",
            Percentiles::Approximate => "approximate",
        }
    }
}

/// An empty coverage table, for an engine that reads invocation logs only.
pub fn no_coverage() -> DataFrame {
    use crate::frame::col;
    let mut columns = vec![Column::new_empty(col::DAY.into(), &DataType::Int64)];
    for c in [col::SOURCE_REGION, col::MODEL_ID, col::OPERATION] {
        columns.push(Column::new_empty(c.into(), &DataType::String));
    }
    for c in coverage::COUNTS {
        columns.push(Column::new_empty(c.into(), &DataType::Int64));
    }
    DataFrame::new(0, columns).expect("columns of one length")
}

/// An empty list of calls found only in CloudTrail.
pub fn no_cloudtrail_only() -> DataFrame {
    use crate::frame::col;
    let mut columns = vec![
        Column::new_empty(col::REQUEST_ID.into(), &DataType::String),
        Column::new_empty(col::TIMESTAMP.into(), &DataType::Datetime(TimeUnit::Milliseconds, None)),
    ];
    for c in [col::SOURCE_REGION, col::MODEL_ID, col::OPERATION] {
        columns.push(Column::new_empty(c.into(), &DataType::String));
    }
    DataFrame::new(0, columns).expect("columns of one length")
}
