//! The statements of a report, a check and a query. Result column names are the local tables' names.

use super::*;

// ---------------------------------------------------------------------------------------------
// The statements of a report and of a check. Result column names are the local tables' names.

pub const RECORDS: &str = "records";
pub const USAGE: &str = "usage";
pub const CALLERS: &str = "callers";
pub const METADATA: &str = "metadata";
pub const MINUTES: &str = "minutes";
pub const LATENCY_BY_REGION: &str = "latency_by_inference_region";
pub const LATENCY_BY_ROUTE: &str = "latency_by_route";
pub const VIOLATIONS: &str = "violations";
pub const TRAIL_RECORDS: &str = "trail_records";
pub const TRAIL_OTHER: &str = "trail_other_events";
pub const COVERAGE: &str = "coverage";
pub const CLOUDTRAIL_ONLY: &str = "cloudtrail_only";
pub const OPERATIONS: &str = "operations";
pub const API_KEY_CALLERS: &str = "api_key_callers";

/// Result column of the trail's other events.
pub const OTHER_EVENTS: &str = "other_events";

/// Result columns of the records statement.
pub mod records {
    pub const STATUS: &str = "status";
    pub const LINES: &str = "lines";
    pub const IDS: &str = "request_ids";
    pub const OBJECTS: &str = "objects";
    pub const FIRST: &str = "first_object";
}

/// Result columns of the minutes statement.
pub mod minutes {
    /// Input and cache-write tokens, which count once against a tokens-per-minute quota (output
    /// tokens count at the model's burndown rate, applied to the sums by `analysis::capacity`).
    pub const TOKENS_ONCE: &str = "tokens_once";
    /// Tokens reserved when the calls started (`analysis::capacity::reserved`).
    pub const RESERVED: &str = "reserved";
    /// Calls not throttled whose request named no most output tokens.
    pub const WITHOUT_MAX_TOKENS: &str = "without_max_tokens";
}

/// The metadata value columns: `m0`, `m1`... one per `--by-metadata` key, in order.
pub fn metadata_column(i: usize) -> String {
    format!("m{i}")
}

pub(super) const SUMS: &str =
    "count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, \
sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, \
sum(cache_write_1h_tokens) AS cache_write_1h_tokens";

pub(super) fn day(column: &str) -> String {
    format!("{} AS {column}", bucket("ts_ms", DAY_MS))
}

/// The start of the `width`-ms bucket holding `ms`, in integer arithmetic. Trino reads `86400000.0`
/// as a DECIMAL, and a BIGINT divided by one is rounded half up to one decimal place, so a floor
/// of such a quotient puts the last 1.2 hours of a day on the next; `%` of integers is exact (and
/// truncates toward zero, hence the second `%` for times before 1970).
pub(super) fn bucket(ms: &str, width: i64) -> String {
    format!("({ms} - (({ms} % {width}) + {width}) % {width})")
}

/// The statements of `report`, in the order they start.
pub fn report(scan: &Scan, metadata_keys: &[String]) -> Vec<Statement> {
    let with = scan.with();
    let stmt = |name: &'static str, body: String| Statement { name, sql: format!("{with}{body}") };
    let mut out = vec![records(scan), stmt(USAGE, usage())];
    out.push(stmt(
        CALLERS,
        format!(
            "SELECT identity_arn, model_id, model, model_id_kind, source_region, error_code, service_tier, {context} AS context,
  recorded_by, {SUMS}
FROM invocations
GROUP BY identity_arn, model_id, model, model_id_kind, source_region, error_code, service_tier, {context}, recorded_by",
            context = context()
        ),
    ));
    if !metadata_keys.is_empty() {
        let values: Vec<String> = metadata_keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("element_at(requestmetadata, {}) AS {}", literal(k), metadata_column(i)))
            .collect();
        let groups: Vec<String> = (0..metadata_keys.len()).map(metadata_column).collect();
        out.push(stmt(
            METADATA,
            format!(
                "SELECT {groups}, model_id, model, model_id_kind, source_region, error_code, service_tier, {context} AS context,
  recorded_by, {SUMS}
FROM (SELECT *, {values} FROM invocations WHERE recorded_by = {log}) AS keyed
GROUP BY {groups}, model_id, model, model_id_kind, source_region, error_code, service_tier, {context}, recorded_by",
                context = context(),
                log = literal(RecordedBy::InvocationLog.as_str()),
                groups = groups.join(", "),
                values = values.join(", ")
            ),
        ));
    }
    out.push(stmt(
        MINUTES,
        format!(
            "SELECT source_region, model, model_id, {minute} AS minute,
  count(*) AS requests, sum(input_tokens + cache_write_tokens) AS {tokens}, sum(output_tokens) AS output_tokens,
  count_if(route = 'rerouted') AS rerouted, count_if(error_code = {throttling}) AS {throttled},
  sum(CASE WHEN coalesce(error_code, '') = {throttling} THEN 0
    ELSE input_tokens + cache_read_tokens + cache_write_tokens + coalesce(max_tokens, output_tokens) END) AS {reserved},
  count_if(max_tokens IS NULL AND coalesce(error_code, '') <> {throttling}) AS {without}
FROM invocations
WHERE recorded_by = {log}
GROUP BY 1, 2, 3, 4",
            minute = bucket("ts_ms", MINUTE_MS),
            tokens = minutes::TOKENS_ONCE,
            reserved = minutes::RESERVED,
            without = minutes::WITHOUT_MAX_TOKENS,
            throttling = literal(crate::analysis::capacity::THROTTLING),
            throttled = crate::analysis::capacity::THROTTLED,
            log = literal(RecordedBy::InvocationLog.as_str()),
        ),
    ));
    out.push(stmt(
        OPERATIONS,
        format!(
            "SELECT operation, {SUMS}
FROM invocations
WHERE recorded_by = {log}
GROUP BY operation",
            log = literal(RecordedBy::InvocationLog.as_str()),
        ),
    ));
    // Latency is the logs' alone: a CloudTrail event has none.
    let logged = format!("recorded_by = {}", literal(RecordedBy::InvocationLog.as_str()));
    out.push(stmt(
        LATENCY_BY_REGION,
        format!(
            "SELECT inference_region, count(*) AS calls, count(latency_ms) AS requests,
  approx_percentile(latency_ms, 0.5) AS p50_ms, approx_percentile(latency_ms, 0.9) AS p90_ms,
  approx_percentile(latency_ms, 0.99) AS p99_ms, avg(latency_ms) AS mean_ms,
  approx_percentile(first_byte_ms, 0.5) AS first_byte_p50_ms
FROM invocations
WHERE error_code IS NULL AND inference_region IS NOT NULL AND {logged}
GROUP BY inference_region"
        ),
    ));
    out.push(stmt(
        LATENCY_BY_ROUTE,
        format!(
            "SELECT source_region, model, route, count(*) AS requests,
  approx_percentile(latency_ms, 0.5) AS p50_ms, approx_percentile(latency_ms, 0.9) AS p90_ms
FROM invocations
WHERE error_code IS NULL AND latency_ms IS NOT NULL AND route IN ('local', 'rerouted') AND {logged}
GROUP BY source_region, model, route"
        ),
    ));
    out.extend(trail_statements(scan));
    out
}

pub(super) fn usage() -> String {
    format!(
        "SELECT {day}, source_region, model_id, model, model_id_kind, route, inference_region, error_code, service_tier,
  {context} AS context, recorded_by, {SUMS}
FROM invocations
GROUP BY 1, source_region, model_id, model, model_id_kind, route, inference_region, error_code, service_tier, {context},
  recorded_by",
        day = day("day"),
        context = context()
    )
}

/// A call's size for pricing (`given::prices::Context`), from its counts (never null in
/// `invocations`): `long` past `LONG_CONTEXT_TOKENS` of input, cache reads and writes.
pub(super) fn context() -> String {
    use crate::given::prices::{Context, LONG_CONTEXT_TOKENS};
    format!(
        "CASE WHEN input_tokens + cache_read_tokens + cache_write_tokens > {LONG_CONTEXT_TOKENS} THEN {} ELSE {} END",
        literal(Context::Long.as_str()),
        literal(Context::Standard.as_str())
    )
}

/// Lines by status: read, rejected by reason, outside the window; and the objects read.
pub(super) fn records(scan: &Scan) -> Statement {
    let with = scan.with();
    Statement {
        name: RECORDS,
        sql: format!(
            "{with}SELECT status, count(*) AS {lines}, count(DISTINCT requestid) AS {ids},
  count(DISTINCT object) AS {objects}, min(object) AS {first}
FROM checked
GROUP BY GROUPING SETS ((status), ())",
            lines = records::LINES,
            ids = records::IDS,
            objects = records::OBJECTS,
            first = records::FIRST,
        ),
    }
}

/// A policy as a condition on `source_region` and `inference_region` that holds for the
/// requests `Policy::verdict` calls violations: the first rule whose source matches decides.
pub(super) fn violates(policy: &Policy) -> String {
    let matches = |column: &str, glob: &str| format!("regexp_like({column}, {})", literal(&glob_regex(glob)));
    let arms: String = policy
        .rules
        .iter()
        .map(|r| {
            let allowed = match r.allow.as_slice() {
                [] => "false".to_string(),
                globs => globs.iter().map(|g| matches("inference_region", g)).collect::<Vec<_>>().join(" OR "),
            };
            format!(" WHEN {} THEN NOT ({allowed})", matches("source_region", &r.source))
        })
        .collect();
    format!("inference_region IS NOT NULL AND (CASE{arms} ELSE false END)")
}

/// With a CloudTrail table: its calls by status, its other events, and logging coverage (each
/// record once per kind), with the oldest calls only in CloudTrail.
pub(super) fn trail_statements(scan: &Scan) -> Vec<Statement> {
    let Some(trail) = scan.trail else { return Vec::new() };
    let with = scan.with();
    let cloudtrail = literal(RecordedBy::CloudTrail.as_str());
    let mut others = vec![format!("NOT ({})", runtime_call())];
    others.extend(trail.partitions(scan.window));
    vec![
        Statement {
            name: TRAIL_RECORDS,
            sql: format!(
                "{with}SELECT status, count(*) AS {lines}, count(DISTINCT requestid) AS {ids},
  count(DISTINCT object) AS {objects}, min(object) AS {first}
FROM trail_status
GROUP BY GROUPING SETS ((status), ())",
                lines = records::LINES,
                ids = records::IDS,
                objects = records::OBJECTS,
                first = records::FIRST,
            ),
        },
        Statement {
            // Other events are counted in the window, as calls are (one without a time counts).
            name: TRAIL_OTHER,
            sql: format!(
                "SELECT count(*) AS {OTHER_EVENTS}
FROM (SELECT {ts_ms} AS ts_ms FROM {table} WHERE {others}) AS other
WHERE ts_ms IS NULL OR NOT ({window})",
                ts_ms = epoch_ms("eventtime"),
                table = trail.table.sql(),
                others = others.join(" AND "),
                window = outside(scan.window),
            ),
        },
        Statement {
            name: COVERAGE,
            sql: format!(
                "{with}SELECT {day}, region AS source_region, modelid AS model_id, operation,
  count_if(recorded_by <> {cloudtrail}) AS {logs}, count_if(recorded_by = {cloudtrail}) AS {calls},
  count_if(recorded_by = {cloudtrail} AND logged = 0) AS {only}
FROM routed
WHERE kind_copy = 1
GROUP BY 1, 2, 3, 4",
                day = day("day"),
                logs = crate::tables::coverage::LOG_RECORDS,
                calls = crate::tables::coverage::CLOUDTRAIL_CALLS,
                only = crate::tables::coverage::CLOUDTRAIL_ONLY,
            ),
        },
        Statement {
            // Each event, its call logged or not: only CloudTrail says a call came with a key.
            name: API_KEY_CALLERS,
            sql: format!(
                "{with}SELECT DISTINCT identity_arn
FROM routed
WHERE recorded_by = {cloudtrail} AND bearer_token AND identity_arn IS NOT NULL"
            ),
        },
        Statement {
            name: CLOUDTRAIL_ONLY,
            sql: format!(
                "{with}SELECT requestid AS request_id, ts_ms AS \"timestamp\", region AS source_region, modelid AS model_id, operation
FROM routed
WHERE kind_copy = 1 AND recorded_by = {cloudtrail} AND logged = 0
ORDER BY ts_ms, requestid
LIMIT {}",
                crate::tally::CLOUDTRAIL_ONLY_LISTED
            ),
        },
    ]
}

/// The statements of `check`, in the order they start.
/// `prices --check`'s statements: the lines read and the usage.
pub fn usage_only(scan: &Scan) -> Vec<Statement> {
    let mut out = vec![records(scan), Statement { name: USAGE, sql: format!("{}{}", scan.with(), usage()) }];
    out.extend(trail_statements(scan));
    out
}

pub fn check(scan: &Scan, policy: &Policy) -> Vec<Statement> {
    let with = scan.with();
    let trail = trail_statements(scan);
    let mut out = vec![
        records(scan),
        Statement { name: USAGE, sql: format!("{with}{}", usage()) },
        Statement {
            name: VIOLATIONS,
            sql: format!(
                "{with}SELECT request_id, ts_ms AS \"timestamp\", source_region, inference_region, model_id, identity_arn
FROM invocations
WHERE {}
ORDER BY ts_ms, request_id",
                violates(policy)
            ),
        },
    ];
    out.extend(trail);
    out
}

/// `query FILE.sql`: the user's statement over `invocations`. A statement that starts with its
/// own `WITH` has its expressions appended to the chain.
pub fn query(scan: &Scan, user_sql: &str) -> Statement {
    let with = scan.with();
    let body = user_sql.trim().trim_end_matches(';').trim_end();
    let lead = strip_comments(body);
    let sql = match lead.get(..5) {
        Some(w) if w.eq_ignore_ascii_case("with ") || w.eq_ignore_ascii_case("with\n") => {
            format!("{},\n{}", with.trim_end(), &lead[5..])
        }
        _ => format!("{with}{body}"),
    };
    Statement { name: "query", sql }
}

/// The text after leading `--` comments and blank space.
pub(super) fn strip_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    while let Some(after) = rest.strip_prefix("--") {
        rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    rest
}
