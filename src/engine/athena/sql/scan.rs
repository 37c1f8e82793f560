//! The chain of common table expressions every analysis reads: `logs`, `checked`, `invocations`.

use super::*;

// ---------------------------------------------------------------------------------------------
// The chain every analysis reads.

/// What one run reads: the table, the window, and the profiles that resolve model ids.
pub struct Scan<'a> {
    pub table: &'a TableRef,
    pub layout: Layout,
    pub window: Window,
    pub profiles: &'a Profiles,
    /// A CloudTrail table read with the logs (`--cloudtrail-table`).
    pub trail: Option<&'a TrailTable>,
}

/// A CloudTrail table as Athena's documentation and the CloudTrail console declare it:
/// `requestparameters` and `additionaleventdata` are JSON text, `useridentity` a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailTable {
    pub table: TableRef,
    /// The `yyyy/MM/dd` partition column (`timestamp` in the documentation's projected
    /// table); none for the console's unpartitioned table.
    pub partition: Option<String>,
}

/// What a table is declared over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Bedrock's delivery prefix: JSON lines (`setup`).
    Logs,
    /// No invocation logs: a CloudTrail table read alone (`--cloudtrail-table`).
    Nothing,
    /// A mila store's Parquet day files (`setup_store`).
    Store,
}

/// Status of a line that is read and inside the window.
pub const OK: &str = "ok";
/// Status of a line that is read but outside the window.
pub const OUTSIDE: &str = "outside window";
/// Status of a line the JSON SerDe could not read (it yields a row of nulls).
pub const UNREADABLE: &str = "not valid JSON, or none of the fields mila reads (as Athena's JSON SerDe reads it)";

/// An hour folder name, `yyyy/MM/dd/HH`.
pub fn hour_folder(ms: i64) -> String {
    folder(ms, "%Y/%m/%d/%H", "0000/00/00/00")
}

/// A partition value from a time, in `format`; `zero` for a time chrono cannot hold.
pub(super) fn folder(ms: i64, format: &str, zero: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| zero.to_string(), |t| t.format(format).to_string())
}

/// The partition predicate: the window's hours and the delivery-lag hour each side, as the S3
/// listing reads them (`s3::hour_folders`).
pub(super) fn partitions(window: Window) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(since) = window.since {
        out.push(format!("hour >= {}", literal(&hour_folder((since.div_euclid(HOUR_MS) - 1) * HOUR_MS))));
        if let Some(until) = window.until {
            out.push(format!("hour <= {}", literal(&hour_folder(((until - 1).div_euclid(HOUR_MS) + 1) * HOUR_MS))));
        }
    }
    out
}

/// Bedrock's sidecar bodies sit in `data/` below an hour folder; they are not log lines.
impl TrailTable {
    /// The day partitions of the window, a day either side (a file lands in its delivery day).
    pub(super) fn partitions(&self, window: Window) -> Vec<String> {
        let Some(column) = &self.partition else { return Vec::new() };
        let day = |ms: i64| folder(ms, "%Y/%m/%d", "0000/00/00");
        let mut out = Vec::new();
        if let Some(s) = window.since {
            out.push(format!("{} >= {}", quote::ident(column), literal(&day(s - DAY_MS))));
        }
        if let Some(u) = window.until {
            out.push(format!("{} <= {}", quote::ident(column), literal(&day(u + DAY_MS))));
        }
        out
    }

    /// The trail's Bedrock runtime calls of the window's partitions, in the logs' column names.
    pub(super) fn chain(&self, window: Window) -> String {
        let mut filters = vec![runtime_call()];
        filters.extend(self.partitions(window));
        let missing = |column: &str, field: &'static str| {
            format!("\n      WHEN coalesce({column}, '') = '' THEN {}", literal(&Reject::MissingField(field).kind()))
        };
        use crate::record::trail::{INPUT_TOKENS_FIELD, MANTLE_OPERATION_PREFIX, MANTLE_SOURCE, OUTPUT_TOKENS_FIELD};
        // A count as `trail::Count` reads one: digits (of a number or a string) that fit a BIGINT.
        let count = |path: &str| {
            let t = format!("try(json_extract_scalar(additionaleventdata, '{path}'))");
            format!("CASE WHEN regexp_like({t}, '^[0-9]{{1,19}}$') THEN try_cast({t} AS BIGINT) END")
        };
        let too_many = |column: &str, field: &'static str| {
            format!(
                "\n      WHEN {column} > {} THEN {}",
                crate::record::parse::MAX_TOKENS,
                literal(&Reject::TooManyTokens(field).kind())
            )
        };
        format!(
            "trail AS (
  SELECT \"$path\" AS object, eventtime AS ts, requestid, awsregion AS region,
    eventsource = {mantle} AS mantle,
    CASE WHEN eventsource = {mantle} THEN concat({prefix}, eventname) ELSE eventname END AS operation,
    CASE WHEN eventsource = {mantle} THEN {mantle_model}
      ELSE try(json_extract_scalar(requestparameters, '$.modelId')) END AS modelid,
    try(json_extract_scalar(additionaleventdata, '$.inferenceRegion')) AS inferenceregion,
    {input_count} AS input_n, {output_count} AS output_n,
    NULLIF(errorcode, '') AS errorcode, coalesce(NULLIF(recipientaccountid, ''), useridentity.accountid) AS accountid,
    NULLIF(useridentity.arn, '') AS identity_arn,
    (coalesce(try(json_format(json_extract(additionaleventdata, '$.callWithBearerToken'))) = 'true', false)
      OR coalesce(try(json_format(json_extract(requestparameters, '$.callWithBearerToken'))) = 'true', false)) AS bearer_token
  FROM {table}
  WHERE {filters}
),
trail_checked AS (
  SELECT *, trim(modelid) AS mid, {ts_ms} AS ts_ms
  FROM trail
),
trail_status AS (
  SELECT *,
    CASE{time}{id}{region}{model}{mantle_model_missing}
      WHEN ts_ms IS NULL THEN {bad_time}{too_many_input}{too_many_output}
      WHEN {window} THEN {outside}
      ELSE {ok}
    END AS status
  FROM trail_checked
),
trail_named AS (
  SELECT *, {kind} AS kind
  FROM trail_status
  WHERE status = {ok}
),
trail_resolved AS (
  SELECT object, ts_ms, requestid, accountid, identity_arn, region, operation, modelid, mid, kind, {base} AS base,
    inferenceregion, input_n AS input_tokens, output_n AS output_tokens,
    CAST(NULL AS BIGINT) AS cache_read_tokens, CAST(NULL AS BIGINT) AS cache_write_tokens,
    CAST(NULL AS BIGINT) AS cache_write_1h_tokens, CAST(NULL AS VARCHAR) AS service_tier, CAST(NULL AS BIGINT) AS latency_ms, CAST(NULL AS BIGINT) AS first_byte_ms,
    CAST(NULL AS BIGINT) AS max_tokens, errorcode,
    CAST(NULL AS VARCHAR) AS stop_reason, CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS requestmetadata,
    false AS body_in_s3, {cloudtrail} AS recorded_by, bearer_token
  FROM trail_named
),
",
            table = self.table.sql(),
            filters = filters.join("\n    AND "),
            ts_ms = epoch_ms("ts"),
            time = missing("ts", "eventTime"),
            id = missing("requestid", "requestID"),
            region = missing("region", "awsRegion"),
            model = missing("CASE WHEN mantle THEN 'x' ELSE modelid END", "requestParameters.modelId"),
            mantle_model_missing = missing("CASE WHEN mantle THEN modelid ELSE 'x' END", "requestParameters.model"),
            mantle = literal(MANTLE_SOURCE),
            prefix = literal(MANTLE_OPERATION_PREFIX),
            mantle_model = text_of("try(json_extract(requestparameters, '$.model'))"),
            input_count = count("$.inputTokens"),
            output_count = count("$.outputTokens"),
            too_many_input = too_many("input_n", INPUT_TOKENS_FIELD),
            too_many_output = too_many("output_n", OUTPUT_TOKENS_FIELD),
            bad_time = literal(&Reject::BadTimestamp.kind()),
            window = outside(window),
            outside = literal(OUTSIDE),
            ok = literal(OK),
            kind = kind_expr(),
            base = base_expr(),
            cloudtrail = literal(RecordedBy::CloudTrail.as_str()),
        )
    }
}

impl Scan<'_> {
    /// The last steps of the chain, reading the trail's calls too when there is one.
    pub(super) fn tail(&self) -> String {
        match self.trail {
            None => tail(self.profiles, false),
            Some(t) => format!("{}{}", t.chain(self.window), tail(self.profiles, true)),
        }
    }

    /// The `WITH` chain that ends in `invocations`, for statements that read it.
    pub fn with(&self) -> String {
        match self.layout {
            Layout::Logs => self.logs_chain(),
            Layout::Store => self.store_chain(),
            Layout::Nothing => self.empty_chain(),
        }
    }

    /// No log lines: `checked` and `resolved` are empty relations of the chain's columns, so
    /// every statement reads the trail's calls alone.
    pub(super) fn empty_chain(&self) -> String {
        let columns: Vec<String> = TAIL_COLUMNS
            .split(',')
            .map(str::trim)
            .map(|c| {
                let t = match c {
                    "ts_ms"
                    | "input_tokens"
                    | "output_tokens"
                    | "cache_read_tokens"
                    | "cache_write_tokens"
                    | "cache_write_1h_tokens"
                    | "latency_ms"
                    | "first_byte_ms"
                    | "max_tokens" => "BIGINT",
                    "requestmetadata" => "MAP(VARCHAR, VARCHAR)",
                    "body_in_s3" | "bearer_token" => "BOOLEAN",
                    _ => "VARCHAR",
                };
                format!("CAST(NULL AS {t}) AS {c}")
            })
            .collect();
        format!(
            "WITH checked AS (
  SELECT CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS requestid, CAST(NULL AS VARCHAR) AS object
  WHERE false
),
resolved AS (
  SELECT {}
  WHERE false
),
{tail}",
            columns.join(", "),
            tail = self.tail()
        )
    }

    /// Over a store: records were parsed, deduplicated and canonicalised by ingest; the window
    /// and application profiles (stored unresolved) are applied here.
    pub(super) fn store_chain(&self) -> String {
        let filters = match store_partitions(self.window) {
            f if f.is_empty() => "true".to_string(),
            f => f.join(" AND "),
        };
        format!(
            "WITH stored AS (
  SELECT *, \"$path\" AS object, CAST(round(to_unixtime(\"timestamp\") * 1000) AS BIGINT) AS ts_ms
  FROM {table}
  WHERE {filters}
),
checked AS (
  SELECT object, ts_ms, request_id AS requestid, account_id AS accountid, identity_arn,
    source_region AS region, operation, model_id AS modelid, trim(model_id) AS mid, model_id_kind AS kind,
    model AS base, inference_region AS inferenceregion, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, service_tier, latency_ms, first_byte_ms, max_tokens, error_code AS errorcode, stop_reason, body_in_s3,
    coalesce(recorded_by, {log}) AS recorded_by, coalesce(bearer_token, false) AS bearer_token,
    CAST(json_parse(request_metadata) AS MAP(VARCHAR, VARCHAR)) AS requestmetadata,
    CASE WHEN {outside} THEN {outside_status} ELSE {ok} END AS status
  FROM stored
),
resolved AS (
  SELECT * FROM checked WHERE status = {ok}
),
{tail}",
            outside = outside(self.window),
            outside_status = literal(OUTSIDE),
            ok = literal(OK),
            log = literal(RecordedBy::InvocationLog.as_str()),
            table = self.table.sql(),
            tail = self.tail(),
        )
    }

    pub(super) fn logs_chain(&self) -> String {
        let mut filters = partitions(self.window);
        filters.push(format!("NOT regexp_like(\"$path\", {})", literal(SIDECAR)));
        let window = outside(self.window);
        let status: String = rejects()
            .into_iter()
            .map(|(when, reason)| format!("\n      WHEN {when} THEN {}", literal(&reason)))
            .collect();
        let valid_split = |j: &str| {
            format!(
                "({} AND NOT {} AND NOT {})",
                is_object(j),
                not_a_count(&key(j, "ephemeral_5m_input_tokens")),
                not_a_count(&key(j, "ephemeral_1h_input_tokens"))
            )
        };
        let cache_creation = |usage: &str| key(usage, "cache_creation");
        let chunk_split = format!(
            "coalesce({}, {})",
            cache_creation(&key("c", "usage")),
            cache_creation(&key(&key("c", "message"), "usage"))
        );
        let chunk_tier = format!(
            "coalesce({}, {})",
            tier_name(&key(&key("c", "usage"), "service_tier")),
            tier_name(&key(&key(&key("c", "message"), "usage"), "service_tier"))
        );
        // Anthropic's split, else Converse's `cacheDetails`: the first entry of the lifetime whose
        // count is a whole number, as `record::body::CacheDetails` reads it.
        let split_or_details = |field: &str, ttl: &str| {
            format!("CASE WHEN split IS NOT NULL THEN {} ELSE details_{ttl}_j END", key("split", field))
        };
        let details = |ttl: &str| {
            let entry = format!(
                "element_at(filter(try(CAST({} AS ARRAY(JSON))), x -> {} = {} AND {} IS NOT NULL), 1)",
                key(&key("top", "usage"), "cacheDetails"),
                text_of(&key("x", "ttl")),
                literal(ttl),
                u64_digits(&key("x", "inputTokens"))
            );
            format!("{} AS details_{ttl}_j", key(&entry, "inputTokens"))
        };
        // Every count the chain reads, and where: its digits (`NAME_digits`, null when it is no
        // count) and its value (`NAME_n`).
        let counts = [
            ("input", "input_tokens_j".to_string()),
            ("output", "output_tokens_j".to_string()),
            ("logged_cache_read", "logged_cache_read_j".to_string()),
            ("logged_cache_write", "logged_cache_write_j".to_string()),
            ("converse_latency", key("converse_metrics", "latencyMs")),
            ("stream_latency", key("metrics", "invocationLatency")),
            ("first_byte", key("metrics", "firstByteLatency")),
            ("metrics_cache_read", key("metrics", "cacheReadInputTokenCount")),
            ("metrics_cache_write", key("metrics", "cacheWriteInputTokenCount")),
            ("five_m", split_or_details("ephemeral_5m_input_tokens", "5m")),
            ("one_h", split_or_details("ephemeral_1h_input_tokens", "1h")),
            ("prompt", key("openai", "prompt_tokens")),
            ("completion", key("openai", "completion_tokens")),
            ("cached", key(&key("openai", "prompt_tokens_details"), "cached_tokens")),
        ];
        // The request's most output tokens, each place the parser looks (`MAX_TOKENS_PATHS`).
        let limits: Vec<(String, String)> = crate::record::body::MAX_TOKENS_PATHS
            .iter()
            .enumerate()
            .map(|(i, (parent, name))| {
                // One path from the input to the number, so no column ever holds the body itself.
                let path: Vec<&str> = ["inputBodyJson"].into_iter().chain(*parent).chain([*name]).collect();
                let path = format!("$.{}", path.join("."));
                let lower = path.to_ascii_lowercase();
                let j = format!(
                    "coalesce(json_extract(input_j, {}), json_extract(input_j, {}))",
                    literal(&path),
                    literal(&lower)
                );
                (format!("limit_{i}"), j)
            })
            .collect();
        let counts: Vec<(&str, String)> =
            counts.into_iter().chain(limits.iter().map(|(n, j)| (n.as_str(), j.clone()))).collect();
        let max_tokens = limits
            .iter()
            .map(|(n, _)| format!("CASE WHEN {n}_n <= {MAX_TOKENS} THEN {n}_n END"))
            .collect::<Vec<_>>()
            .join(", ");
        // An OpenAI-shaped usage: the body's, else the last stream chunk's with counts in it.
        let has_counts = |u: &str| {
            format!(
                "({} IS NOT NULL OR {} IS NOT NULL)",
                u64_digits(&key(u, "prompt_tokens")),
                u64_digits(&key(u, "completion_tokens"))
            )
        };
        format!(
            "WITH logs AS (
  SELECT \"$path\" AS object, \"timestamp\" AS ts, schematype, requestid, region, operation, modelid,
    trim(modelid) AS mid, inferenceregion, errorcode, accountid, identity, input, output,
    requestmetadata AS metadata_text, try(json_parse(identity)) AS identity_j, try(json_parse(input)) AS input_j,
    try(json_parse(output)) AS output_j, try(json_parse(requestmetadata)) AS metadata_j, {log} AS recorded_by,
    false AS bearer_token
  FROM {table}
  WHERE {filters}
),
parts AS (
  SELECT *, {arn} AS arn_j,
    {input_tokens} AS input_tokens_j, {cache_read} AS logged_cache_read_j, {cache_write} AS logged_cache_write_j,
    {input_s3} AS input_s3_j, {output_tokens} AS output_tokens_j, {output_s3} AS output_s3_j, {body} AS body
  FROM logs
),
shaped AS (
  SELECT *,
    CASE WHEN json_format(body) LIKE '{{%' THEN body END AS top,
    CASE WHEN json_format(body) LIKE '[%' THEN try(CAST(body AS ARRAY(JSON))) END AS chunks
  FROM parts
),
bodied AS (
  SELECT *,
    {converse_metrics} AS converse_metrics,
    coalesce({top_metrics}, {chunk_metrics}) AS metrics,
    ({top_metrics_bad} OR coalesce(cardinality(filter(transform(chunks, c -> {c_metrics}), m -> {m_bad})) > 0, false)) AS metrics_bad,
    CASE WHEN top IS NOT NULL THEN (CASE WHEN {top_split_valid} THEN {top_split} END)
      ELSE element_at(filter(transform(chunks, c -> {chunk_split}), x -> {x_split_valid}), -1) END AS split,
    {details_5m}, {details_1h},
    CASE WHEN top IS NOT NULL THEN coalesce({top_tier_a}, {top_tier_b}, {top_tier_c})
      ELSE element_at(filter(transform(chunks, c -> {chunk_tier}), x -> x IS NOT NULL), -1) END AS tier_name,
    coalesce(lower({latency_text}) = 'optimized', false) AS latency_optimized,
    CASE WHEN top IS NOT NULL THEN coalesce({top_stop_a}, {top_stop_b})
      ELSE element_at(filter(transform(chunks, c -> {chunk_stop}), x -> x IS NOT NULL), -1) END AS stop_reason,
    CASE WHEN top IS NOT NULL THEN {top_usage}
      ELSE element_at(filter(transform(chunks, c -> {chunk_usage}), u -> {u_counts}), -1) END AS openai
  FROM shaped
),
measured AS (
  SELECT *,
    CASE WHEN regexp_like(ts, {rfc3339}) THEN date_diff('millisecond', from_unixtime(0), try(from_iso8601_timestamp(replace(upper(ts), ' ', 'T')))) END AS ts_ms,
    {digits},
    (NOT {input_s3_absent} OR NOT {output_s3_absent}) AS body_in_s3
  FROM bodied
),
counted AS (
  SELECT *,
    {counts},
    {identity_arn} AS identity_arn
  FROM measured
),
summed AS (
  SELECT *,
    coalesce(input_n, CASE WHEN prompt_n IS NOT NULL THEN greatest(prompt_n - coalesce(cached_n, 0), 0) END) AS input_count,
    coalesce(output_n, completion_n) AS output_count,
    coalesce(logged_cache_read_n, metrics_cache_read_n, cached_n, 0) AS cache_read_tokens,
    coalesce({max_tokens}) AS max_tokens,
    coalesce(logged_cache_write_n, metrics_cache_write_n,
      CASE WHEN five_m_digits IS NOT NULL OR one_h_digits IS NOT NULL THEN coalesce(five_m_n, 0) + coalesce(one_h_n, 0) END) AS cache_write_total,
    coalesce(one_h_n, 0) AS one_h,
    CASE WHEN operation IN ('Converse', 'ConverseStream') THEN converse_latency_n
      WHEN operation = 'InvokeModelWithResponseStream' THEN stream_latency_n END AS latency_ms,
    first_byte_n AS first_byte_ms,
    {tier} AS service_tier
  FROM counted
),
totals AS (
  SELECT *,
    coalesce(input_count, 0) AS input_tokens, coalesce(output_count, 0) AS output_tokens,
    coalesce(cache_write_total, 0) AS cache_write_tokens,
    least(one_h, coalesce(cache_write_total, 0)) AS cache_write_1h_tokens
  FROM summed
),
checked AS (
  SELECT *,
    try(CAST(metadata_j AS MAP(VARCHAR, VARCHAR))) AS requestmetadata,
    CASE{status}
      WHEN {window} THEN {outside}
      ELSE {ok}
    END AS status
  FROM totals
),
named AS (
  SELECT *, {kind} AS kind
  FROM checked
  WHERE status = {ok}
),
resolved AS (
  SELECT *, {base} AS base
  FROM named
),
{tail}",
            table = self.table.sql(),
            log = literal(RecordedBy::InvocationLog.as_str()),
            filters = filters.join("\n    AND "),
            arn = key("identity_j", "arn"),
            input_tokens = key("input_j", "inputTokenCount"),
            cache_read = key("input_j", "cacheReadInputTokenCount"),
            cache_write = key("input_j", "cacheWriteInputTokenCount"),
            input_s3 = key("input_j", "inputBodyS3Path"),
            output_tokens = key("output_j", "outputTokenCount"),
            output_s3 = key("output_j", "outputBodyS3Path"),
            body = key("output_j", "outputBodyJson"),
            top_usage = key("top", "usage"),
            chunk_usage = key("c", "usage"),
            u_counts = has_counts("u"),
            converse_metrics = key("top", "metrics"),
            top_metrics = key("top", STREAM_METRICS),
            chunk_metrics = last_present(&format!("transform(chunks, c -> {})", key("c", STREAM_METRICS))),
            top_metrics_bad = bad_metrics(&key("top", STREAM_METRICS)),
            c_metrics = key("c", STREAM_METRICS),
            m_bad = bad_metrics("m"),
            top_split = cache_creation(&key("top", "usage")),
            details_5m = details("5m"),
            details_1h = details("1h"),
            top_split_valid = valid_split(&cache_creation(&key("top", "usage"))),
            x_split_valid = valid_split("x"),
            top_tier_a = tier_name(&key("top", "serviceTier")),
            top_tier_b = tier_name(&key("top", "service_tier")),
            top_tier_c = tier_name(&key(&key("top", "usage"), "service_tier")),
            latency_text = text_of(&key(&key("top", "performanceConfig"), "latency")),
            top_stop_a = text_of(&key("top", "stopReason")),
            top_stop_b = text_of(&key("top", "stop_reason")),
            chunk_stop = text_of(&key(&key("c", "delta"), "stop_reason")),
            rfc3339 = literal(RFC3339),
            digits = counts.iter().map(|(name, j)| format!("{} AS {name}_digits", u64_digits(j))).collect::<Vec<_>>().join(",\n    "),
            counts = counts.iter().map(|(name, _)| format!("{} AS {name}_n", count_of(&format!("{name}_digits")))).collect::<Vec<_>>().join(",\n    "),
            input_s3_absent = absent("input_s3_j"),
            output_s3_absent = absent("output_s3_j"),
            tier = service_tier(),
            identity_arn = text_of("arn_j"),
            outside = literal(OUTSIDE),
            ok = literal(OK),
            kind = kind_expr(),
            base = base_expr(),
            tail = self.tail(),
        )
    }
}
