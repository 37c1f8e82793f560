//! The local parser's and resolver's rules as SQL expressions: JSON paths read as the parser
//! reads them, rejects worded as it words them, model-id kinds and bases as `model_id` finds them.

use super::*;

pub(super) const SIDECAR: &str = "/BedrockModelInvocationLogs/[^/]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/data/";

pub(super) const STREAM_METRICS: &str = "amazon-bedrock-invocationMetrics";

// The log's nested objects are declared as text (`COLUMNS`) and read here with Trino's JSON
// functions, each field at its place in the structure, as `record::parse` reads it: a value
// of the wrong type costs its record (or that field), never the query, and text that merely
// looks like a field (a tool call's arguments, a completion) is never read.

/// The JSON value at `key` of the JSON value `j`; null when `j` is not an object or lacks it.
/// A key with capitals is also looked up in lowercase: the JSON SerDe may lowercase the keys of
/// a nested object it hands on as text.
pub(super) fn key(j: &str, key: &str) -> String {
    let path = |k: &str| match k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        true => literal(&format!("$.{k}")),
        false => literal(&format!("$[\"{k}\"]")),
    };
    let lower = key.to_ascii_lowercase();
    match lower == key {
        true => format!("json_extract({j}, {})", path(key)),
        false => format!("coalesce(json_extract({j}, {}), json_extract({j}, {}))", path(key), path(&lower)),
    }
}

/// Whether the JSON value `j` is absent or JSON null.
pub(super) fn absent(j: &str) -> String {
    format!("({j} IS NULL OR json_format({j}) = 'null')")
}

/// The digits of the JSON value `j` when it is a whole number a u64 holds (as serde reads a
/// count); null otherwise.
pub(super) fn u64_digits(j: &str) -> String {
    format!(
        "CASE WHEN regexp_like(json_format({j}), '^[0-9]+$') AND (length(json_format({j})) < 20 OR (length(json_format({j})) = 20 AND json_format({j}) <= '18446744073709551615')) THEN json_format({j}) END"
    )
}

/// A count's value from its digits: past 18 digits (beyond BIGINT, far past every limit) it
/// reads as 10^18, which every range check rejects.
pub(super) fn count_of(digits: &str) -> String {
    format!("CASE WHEN length({digits}) > 18 THEN 1000000000000000000 ELSE TRY_CAST({digits} AS BIGINT) END")
}

/// Whether the JSON value `j` is there, not null, and not a count (serde would reject it).
pub(super) fn not_a_count(j: &str) -> String {
    format!("(NOT {} AND {} IS NULL)", absent(j), u64_digits(j))
}

/// The string a JSON value holds; null when it is not a string.
pub(super) fn text_of(j: &str) -> String {
    format!("CASE WHEN json_format({j}) LIKE '\"%' THEN json_extract_scalar({j}, '$') END")
}

/// Whether the JSON value `j` is an object.
pub(super) fn is_object(j: &str) -> String {
    format!("coalesce(json_format({j}) LIKE '{{%', false)")
}

/// The last element of an array expression that is there and not JSON null.
pub(super) fn last_present(array: &str) -> String {
    format!("element_at(filter({array}, x -> NOT {}), -1)", absent("x"))
}

/// The service tier a JSON value names (`"priority"`, or Converse's `{"type": "priority"}`).
pub(super) fn tier_name(j: &str) -> String {
    format!("coalesce({}, {})", text_of(j), text_of(&key(j, "type")))
}

/// A stream metrics object `serde` would refuse: not an object, or a field it reads holding
/// something other than a count.
pub(super) fn bad_metrics(m: &str) -> String {
    let fields: Vec<String> = STREAM_METRIC_FIELDS.iter().map(|f| not_a_count(&key(m, f))).collect();
    format!("(NOT {} AND (NOT {} OR {}))", absent(m), is_object(m), fields.join(" OR "))
}

/// The fields of a stream metrics object mila reads.
pub(super) const STREAM_METRIC_FIELDS: [&str; 4] =
    ["invocationLatency", "firstByteLatency", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"];

/// The service tier, as `parse` reads it: latency-optimized when `performanceConfig.latency` is
/// `optimized`, else the tier the body names, mapped as `ServiceTier::from_response` maps it;
/// standard when none. Reads the `bodied` step's columns.
pub(super) fn service_tier() -> String {
    let t = |tier: ServiceTier| literal(tier.as_str());
    let arms: String = ServiceTier::RESPONSE_NAMES
        .iter()
        .map(|(name, tier)| format!(" WHEN {} THEN {}", literal(name), t(*tier)))
        .collect();
    format!(
        "CASE WHEN latency_optimized THEN {optimized} WHEN tier_name IS NULL THEN {standard} \
ELSE (CASE lower(trim(tier_name)){arms} ELSE {other} END) END",
        optimized = t(ServiceTier::LatencyOptimized),
        standard = t(ServiceTier::Standard),
        other = t(ServiceTier::Other),
    )
}

/// RFC 3339, as chrono reads it: date, `T` (or `t`, or a space), time, fraction, zone.
pub(super) const RFC3339: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/// A Bedrock ARN up to its resource, as `model_id::bedrock_arn_resource` reads one.
const BEDROCK_ARN: &str = "^arn:[^:]*:bedrock:[^:]*:[^:]*:";

/// Where a shape's name starts, as a regular expression anchored at the id's start.
fn place_regex(place: Place) -> String {
    match place {
        Place::Arn(t) => format!("{BEDROCK_ARN}{}/", regex_literal(t)),
        Place::AnyArn => "^arn:".into(),
        Place::Bare => "^".into(),
    }
}

/// The condition that the trimmed id `mid` has `shape`; None: every id has it (`ELSE`).
fn shape_condition(shape: &Shape) -> Option<String> {
    let at = place_regex(shape.place);
    let providers = alternatives(PROVIDERS);
    Some(match shape.name {
        Name::Global => format!("regexp_like(mid, '{at}{}')", regex_literal(GLOBAL_PREFIX)),
        Name::Geo => format!("regexp_like(mid, '{at}({})\\.')", geo_alternatives()),
        Name::UnknownGeo => format!(
            "regexp_like(mid, '{at}[a-z][a-z0-9-]*\\.({providers})\\.') AND NOT regexp_like(mid, '{at}({providers})\\.')"
        ),
        Name::Dotted => "strpos(mid, '.') > 0 AND strpos(mid, '/') = 0 AND strpos(mid, ' ') = 0".into(),
        Name::Any if shape.place == Place::Bare => return None,
        Name::Any => format!("regexp_like(mid, '{at}')"),
    })
}

/// Model-id kind, as `model_id::canonicalise` decides it, over the trimmed id `mid`: one arm per
/// shape of `model_id::SHAPES`, in its order.
pub(super) fn kind_expr() -> String {
    let mut arms = Vec::new();
    let mut otherwise = literal(ModelIdKind::Other.as_str());
    for shape in &SHAPES {
        match shape_condition(shape) {
            Some(when) => arms.push(format!("WHEN {when} THEN {}", literal(shape.kind.as_str()))),
            None => otherwise = literal(shape.kind.as_str()),
        }
    }
    format!("CASE {} ELSE {otherwise} END", arms.join(" "))
}

/// `a|b|...`: literal words as regex alternatives.
pub(super) fn alternatives(words: &[&str]) -> String {
    words.iter().map(|w| regex_literal(w)).collect::<Vec<_>>().join("|")
}

/// `us|eu|...`: the geography prefixes without their dots.
pub(super) fn geo_alternatives() -> String {
    GEO_PREFIXES.iter().map(|p| regex_literal(p.trim_end_matches('.'))).collect::<Vec<_>>().join("|")
}

/// The base model, as `canonicalise` strips it, from the trimmed id `mid` and its `kind`: per
/// place and base of `model_id::SHAPES` (in order of first use), the kinds that take it. Every
/// profile prefix is one word before a dot (a known geography or not), so the base is what
/// follows the first dot.
pub(super) fn base_expr() -> String {
    let mut groups: Vec<(Place, Base, Vec<&str>)> = Vec::new();
    for shape in SHAPES.iter().filter(|s| s.base != Base::Whole) {
        let kind = shape.kind.as_str();
        match groups.iter_mut().find(|(p, b, _)| *p == shape.place && *b == shape.base) {
            Some((_, _, kinds)) if !kinds.contains(&kind) => kinds.push(kind),
            Some(_) => {}
            None => groups.push((shape.place, shape.base, vec![kind])),
        }
    }
    let arms: Vec<String> = groups
        .iter()
        .map(|(place, base, kinds)| {
            let kinds = match kinds.as_slice() {
                [one] => format!("kind = {}", literal(one)),
                many => format!("kind IN ({})", many.iter().map(|k| literal(k)).collect::<Vec<_>>().join(", ")),
            };
            let arn =
                if matches!(place, Place::Bare) { String::new() } else { " AND regexp_like(mid, '^arn:')".into() };
            let at = place_regex(*place);
            let pattern = match base {
                Base::AfterPrefix => format!("(?s){at}[^.]*\\.(.*)$"),
                _ => format!("(?s){at}(.*)$"),
            };
            format!("WHEN {kinds}{arn} THEN regexp_extract(mid, '{pattern}', 1)")
        })
        .collect();
    format!("CASE {} ELSE mid END", arms.join(" "))
}

/// The model: an application profile's model where the profiles file knows the ARN, else the base.
pub(super) fn model_expr(profiles: &Profiles) -> String {
    let mut known: Vec<(&str, &str)> =
        profiles.iter().map(|p| (p.arn.as_str(), crate::record::model_id::canonicalise(&p.model).base)).collect();
    if known.is_empty() {
        return "base".into();
    }
    known.sort();
    let arms: String =
        known.iter().map(|(arn, model)| format!(" WHEN {} THEN {}", literal(arn), literal(model))).collect();
    format!("CASE WHEN kind = 'application-profile' THEN CASE mid{arms} ELSE base END ELSE base END")
}

/// Where a request ran: the logged inference region, else the source region for a foundation
/// model or an application profile whose one region is the source (`model_id::route`).
pub(super) fn ran_in_expr(profiles: &Profiles) -> String {
    let mut homes: Vec<(&str, &str)> = profiles
        .iter()
        .filter_map(|p| match p.regions.as_slice() {
            [only] => Some((p.arn.as_str(), only.as_str())),
            _ => None,
        })
        .collect();
    homes.sort();
    let profile_home: String = homes
        .iter()
        .map(|(arn, region)| {
            format!(" OR (kind = 'application-profile' AND mid = {} AND region = {})", literal(arn), literal(region))
        })
        .collect();
    format!(
        "CASE WHEN coalesce(inferenceregion, '') <> '' THEN inferenceregion WHEN kind = 'foundation-model' \
OR regexp_like(mid, '^arn:[^:]*:bedrock:[^:]*:[^:]*:({regional})/.') {profile_home} THEN region END",
        regional = alternatives(REGIONAL_RESOURCES)
    )
}

/// The reject reasons, in the order the local parser finds them, as SQL conditions.
pub(super) fn rejects() -> Vec<(String, String)> {
    let missing = |column: &str, field: &'static str| {
        (format!("coalesce({column}, '') = ''"), Reject::MissingField(field).kind())
    };
    let wrong = |when: String, field: &str| (when, Reject::WrongType(field.to_string()).kind());
    let not_object = |text: &str, json: &str| format!("({text} IS NOT NULL AND NOT {})", is_object(json));
    let mut out = vec![
        (
            "schematype IS NULL AND ts IS NULL AND requestid IS NULL AND region IS NULL AND modelid IS NULL"
                .to_string(),
            UNREADABLE.to_string(),
        ),
        // Values of the wrong type, in the order Bedrock writes the fields (serde names the
        // first it meets; a record wrong in several places may be named by another).
        wrong(not_object("identity", "identity_j"), "identity"),
        wrong(format!("(NOT {} AND {} IS NULL)", absent("arn_j"), text_of("arn_j")), "identity.arn"),
        wrong(not_object("input", "input_j"), "input"),
        wrong(not_a_count("input_tokens_j"), "input.inputTokenCount"),
        wrong(not_a_count("logged_cache_read_j"), "input.cacheReadInputTokenCount"),
        wrong(not_a_count("logged_cache_write_j"), "input.cacheWriteInputTokenCount"),
        wrong(not_object("output", "output_j"), "output"),
        wrong(not_a_count("output_tokens_j"), "output.outputTokenCount"),
        wrong("metrics_bad".to_string(), &format!("output.outputBodyJson.{STREAM_METRICS}")),
        wrong(
            format!(
                "(metadata_text IS NOT NULL AND (NOT {} OR coalesce(cardinality(filter(map_values(try(CAST(metadata_j AS MAP(VARCHAR, JSON)))), v -> {} IS NULL)) > 0, true)))",
                is_object("metadata_j"),
                text_of("v")
            ),
            "requestMetadata",
        ),
        ("coalesce(schematype, 'ModelInvocationLog') <> 'ModelInvocationLog'".to_string(), Reject::OtherSchema.kind()),
        missing("ts", "timestamp"),
        missing("requestid", "requestId"),
        missing("region", "region"),
        missing("operation", "operation"),
        missing("modelid", "modelId"),
        // Shaped like RFC 3339 yet no time (`2026-02-30`, hour 25): `try` makes it null here,
        // where Trino would fail the whole query.
        ("ts_ms IS NULL".to_string(), Reject::BadTimestamp.kind()),
    ];
    for (column, field) in [
        ("input_tokens", "input.inputTokenCount"),
        ("output_tokens", "output.outputTokenCount"),
        ("cache_read_tokens", "cacheReadInputTokenCount"),
        ("cache_write_tokens", "cacheWriteInputTokenCount"),
    ] {
        out.push((format!("{column} > {MAX_TOKENS}"), Reject::TooManyTokens(field).kind()));
    }
    out.push((format!("latency_ms > {MAX_LATENCY_MS}"), Reject::LatencyOutOfRange("latency").kind()));
    out.push((format!("first_byte_ms > {MAX_LATENCY_MS}"), Reject::LatencyOutOfRange("firstByteLatency").kind()));
    out
}

/// The condition for a line outside the window, on `ts_ms`.
pub(super) fn outside(window: Window) -> String {
    let mut outside = Vec::new();
    if let Some(s) = window.since {
        outside.push(format!("ts_ms < {s}"));
    }
    if let Some(u) = window.until {
        outside.push(format!("ts_ms >= {u}"));
    }
    if outside.is_empty() {
        "false".into()
    } else {
        outside.join(" OR ")
    }
}

/// The last two steps of every chain: the model and where it ran, each request id once, and
/// `invocations` with the local table's columns (and `ts_ms` and the metadata map, which the
/// statements read). Reads `resolved`: `ok` rows in the logs' column names, with kind and base.
pub(super) fn tail(profiles: &Profiles, trail: bool) -> String {
    // With a trail: each call once, its log record first; `kind_copy` and `logged` are what
    // logging coverage counts (each record once per kind, and whether the call was logged).
    let (source, coverage) = match trail {
        false => ("resolved".to_string(), String::new()),
        true => (
            format!(
                "(SELECT {TAIL_COLUMNS} FROM resolved\n  UNION ALL SELECT {TAIL_COLUMNS} FROM trail_resolved) AS calls"
            ),
            format!(
                ",\n    row_number() OVER (PARTITION BY requestid, recorded_by ORDER BY object, ts_ms) AS kind_copy,\n    max(CASE WHEN recorded_by = {} THEN 1 ELSE 0 END) OVER (PARTITION BY requestid) AS logged",
                literal(RecordedBy::InvocationLog.as_str())
            ),
        ),
    };
    format!(
        "routed AS (
  SELECT *, {model} AS model, {ran_in} AS ran_in,
    row_number() OVER (PARTITION BY requestid ORDER BY recorded_by = {cloudtrail}, object, ts_ms) AS copy{coverage}
  FROM {source}
),
invocations AS (
  SELECT date_add('millisecond', ts_ms, from_unixtime(0)) AS \"timestamp\", ts_ms, requestid AS request_id, accountid AS account_id,
    identity_arn, region AS source_region, operation, modelid AS model_id, kind AS model_id_kind, model,
    CASE WHEN ran_in IS NULL THEN {unknown} WHEN ran_in = region THEN {local} ELSE {rerouted} END AS route,
    ran_in AS inference_region,
    coalesce(input_tokens, 0) AS input_tokens, coalesce(output_tokens, 0) AS output_tokens,
    coalesce(cache_read_tokens, 0) AS cache_read_tokens, coalesce(cache_write_tokens, 0) AS cache_write_tokens,
    coalesce(cache_write_1h_tokens, 0) AS cache_write_1h_tokens, coalesce(service_tier, {standard}) AS service_tier,
    latency_ms, first_byte_ms, NULLIF(errorcode, '') AS error_code, stop_reason,
    coalesce(json_format(CAST(requestmetadata AS JSON)), '{{}}') AS request_metadata, body_in_s3, recorded_by,
    max_tokens, bearer_token, requestmetadata
  FROM routed
  WHERE copy = 1
)
",
        model = model_expr(profiles),
        ran_in = ran_in_expr(profiles),
        unknown = literal(Route::Unknown.as_str()),
        local = literal(Route::Local.as_str()),
        rerouted = literal(Route::Rerouted.as_str()),
        cloudtrail = literal(RecordedBy::CloudTrail.as_str()),
        standard = literal(ServiceTier::Standard.as_str()),
    )
}

/// A store's day folder name, `yyyy-MM-dd`.
pub fn day_folder(ms: i64) -> String {
    folder(ms, "%Y-%m-%d", "0000-00-00")
}

/// A store's day partitions for the window (a record's day is its own time's).
pub(super) fn store_partitions(window: Window) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = window.since {
        out.push(format!("day >= {}", literal(&day_folder(s))));
    }
    if let Some(u) = window.until {
        out.push(format!("day <= {}", literal(&day_folder(u - 1))));
    }
    out
}

/// The columns the tail reads, the same from log lines, store rows and CloudTrail events.
pub(super) const TAIL_COLUMNS: &str = "object, ts_ms, requestid, accountid, identity_arn, region, operation, modelid, mid, kind, base, \
inferenceregion, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, service_tier, \
latency_ms, first_byte_ms, max_tokens, errorcode, stop_reason, requestmetadata, body_in_s3, recorded_by, bearer_token";

/// The CloudTrail events that are Bedrock calls (`record::trail::parse_event`): runtime calls,
/// and every bedrock-mantle event but its management ones.
pub(super) fn runtime_call() -> String {
    use crate::record::trail::{EVENT_SOURCE, MANTLE_MANAGEMENT, MANTLE_SOURCE, RUNTIME_CALLS};
    let names = |list: &[&str]| list.iter().map(|n| literal(n)).collect::<Vec<_>>().join(", ");
    format!(
        "((coalesce(eventsource, '') = {} AND coalesce(eventname, '') IN ({})) OR (coalesce(eventsource, '') = {} AND coalesce(eventname, '') NOT IN ('', {})))",
        literal(EVENT_SOURCE),
        names(&RUNTIME_CALLS),
        literal(MANTLE_SOURCE),
        names(&MANTLE_MANAGEMENT)
    )
}

/// An RFC 3339 text column as epoch ms, null when it is not one (as `parse_timestamp_ms`).
pub(super) fn epoch_ms(column: &str) -> String {
    format!(
        "CASE WHEN regexp_like({column}, {}) THEN date_diff('millisecond', from_unixtime(0), try(from_iso8601_timestamp(replace(upper({column}), ' ', 'T')))) END",
        literal(RFC3339)
    )
}
