//! The Trino SQL mila sends to Athena: pure functions from settings to statement text.
//!
//! Every analysis reads one chain of common table expressions over the delivery table:
//! `logs` (the partitions of the window's hours, one lag hour each side, sidecars left out),
//! `checked` (each line's parsed time, latency and status: `ok`, outside the window, or the
//! reason it is rejected, worded as the local parser words it), and `invocations` (the lines
//! that are `ok`, each request id once, with the local table's columns). Statements aggregate
//! over `invocations` and return small tables; prices, quotas and verdicts are applied to those
//! in Rust, as the local engine applies them.
//!
//! The SQL is kept to what both Trino and DuckDB (through sqlglot) read the same way, so the
//! tests can run every statement over the test corpus.

use super::quote::{self, glob_regex, literal, regex_text as regex_literal};
use crate::given::policy::Policy;
use crate::given::profiles::Profiles;
use crate::record::model_id::{ModelIdKind, GEO_PREFIXES, GLOBAL_PREFIX, PROVIDERS, REGIONAL_RESOURCES};
use crate::record::parse::{Reject, MAX_LATENCY_MS, MAX_TOKENS};
use crate::record::ServiceTier;
use crate::record::{RecordedBy, Route};
use crate::window::{Window, DAY_MS, HOUR_MS, MINUTE_MS};

/// A statement and the result table it fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub name: &'static str,
    pub sql: String,
}

/// `database.table` as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub database: String,
    pub table: String,
}

impl TableRef {
    /// `db.table`: both parts are Glue names (lowercase letters, digits, `_`).
    pub fn parse(text: &str) -> Result<TableRef, quote::BadName> {
        let (database, table) =
            text.split_once('.').ok_or_else(|| quote::BadName::NotDatabaseTable(text.to_string()))?;
        let (database, table) = (quote::glue_name("database", database)?, quote::glue_name("table", table)?);
        Ok(TableRef { database, table })
    }

    fn sql(&self) -> String {
        format!("{}.{}", quote::ident(&self.database), quote::ident(&self.table))
    }

    fn ddl(&self) -> String {
        format!("{}.{}", quote::ddl_ident(&self.database), quote::ddl_ident(&self.table))
    }
}

// ---------------------------------------------------------------------------------------------
// The table over the delivery prefix.

/// What `athena setup` declares.
pub struct Setup<'a> {
    pub table: &'a TableRef,
    /// `s3://bucket/prefix/AWSLogs/` with a trailing slash.
    pub logs_root: String,
    pub accounts: &'a [String],
    pub regions: &'a [String],
    /// First hour folder the projection covers, `yyyy/MM/dd/HH`.
    pub first_hour: String,
}

/// The fields mila reads, as the JSON SerDe declares them: every one as text, so that no value
/// of a wrong type can fail the query (the SerDe hands a nested object or array on as its JSON
/// text; a string column cannot fail). The nested ones are read with JSON functions in `Scan`'s
/// chain, where a value of the wrong type costs its record, as in the local parser. Bodies are
/// read only for the metrics Bedrock logs inside them (Converse latency, stream metrics).
const COLUMNS: &str = "  `schematype` string,
  `timestamp` string,
  `accountid` string,
  `region` string,
  `requestid` string,
  `operation` string,
  `modelid` string,
  `inferenceregion` string,
  `errorcode` string,
  `identity` string,
  `input` string,
  `output` string,
  `requestmetadata` string";

/// The statements of `athena setup`: the database, then the table (declared afresh). A location
/// or folder name Hive's DDL cannot hold is refused (`quote::ddl_string`).
pub fn setup(s: &Setup) -> Result<Vec<Statement>, quote::Refused> {
    let ddl = quote::ddl_string;
    let enumerated = |what: &str, values: &[String]| match values.iter().find(|v| v.contains(',')) {
        Some(v) => Err(quote::Refused {
            what: what.into(),
            value: v.clone(),
            why: "holds a comma, which would split it in the projection's list",
        }),
        None => ddl(what, &values.join(",")),
    };
    let table = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (
{COLUMNS}
)
PARTITIONED BY (`account` string, `source_region` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION {location}
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = {accounts},
  'projection.source_region.type' = 'enum',
  'projection.source_region.values' = {regions},
  'projection.hour.type' = 'date',
  'projection.hour.format' = 'yyyy/MM/dd/HH',
  'projection.hour.range' = {range},
  'projection.hour.interval' = '1',
  'projection.hour.interval.unit' = 'HOURS',
  'storage.location.template' = {template},
  'mila.layout' = 'bedrock-invocation-logs'
)",
        table = s.table.ddl(),
        location = ddl("the logs' S3 location", &s.logs_root)?,
        accounts = enumerated("account", s.accounts)?,
        regions = enumerated("region", s.regions)?,
        range = ddl("--since", &format!("{},NOW", s.first_hour))?,
        template = ddl(
            "the logs' S3 location",
            &format!("{}${{account}}/BedrockModelInvocationLogs/${{source_region}}/${{hour}}/", s.logs_root)
        )?,
    );
    // Dropping an external table drops only its definition: a second setup (a new region, say)
    // declares it again over the same objects.
    Ok(declare(s.table, table))
}

/// The database, a drop of the table's old definition, and the new one.
fn declare(table: &TableRef, ddl: String) -> Vec<Statement> {
    vec![
        Statement {
            name: "database",
            sql: format!("CREATE DATABASE IF NOT EXISTS {}", quote::ddl_ident(&table.database)),
        },
        Statement { name: "drop", sql: format!("DROP TABLE IF EXISTS {}", table.ddl()) },
        Statement { name: "table", sql: ddl },
    ]
}

/// The Parquet types of a store's columns (`frame::FrameBuilder::finish`), in file order.
fn store_type(column: &str) -> &'static str {
    use crate::frame::col;
    match column {
        col::TIMESTAMP => "timestamp",
        col::BODY_IN_S3 => "boolean",
        c if col::TOKENS.contains(&c) || c == col::LATENCY_MS || c == col::FIRST_BYTE_MS => "bigint",
        _ => "string",
    }
}

/// The statements of `athena setup --store`: a Parquet table over a store's day files, with
/// the day projected (`records/day=YYYY-MM-DD/`), so Athena reads only the columns it needs.
pub fn setup_store(table: &TableRef, records_root: &str, first_day: &str) -> Result<Vec<Statement>, quote::Refused> {
    let ddl = quote::ddl_string;
    let columns: Vec<String> = crate::frame::col::ALL.iter().map(|c| format!("  `{c}` {}", store_type(c))).collect();
    let ddl = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (
{columns}
)
PARTITIONED BY (`day` string)
STORED AS PARQUET
LOCATION {location}
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy-MM-dd',
  'projection.day.range' = {range},
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = {template},
  'mila.layout' = 'mila-store'
)",
        table = table.ddl(),
        columns = columns.join(",\n"),
        location = ddl("the store's S3 location", records_root)?,
        range = ddl("--since", &format!("{first_day},NOW"))?,
        template = ddl("the store's S3 location", &format!("{records_root}day=${{day}}/"))?,
    );
    Ok(declare(table, ddl))
}

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
fn folder(ms: i64, format: &str, zero: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| zero.to_string(), |t| t.format(format).to_string())
}

/// The partition predicate: the window's hours and the delivery-lag hour each side, as the S3
/// listing reads them (`s3::hour_folders`).
fn partitions(window: Window) -> Vec<String> {
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
const SIDECAR: &str = "/BedrockModelInvocationLogs/[^/]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/data/";

const STREAM_METRICS: &str = "amazon-bedrock-invocationMetrics";

// The log's nested objects are declared as text (`COLUMNS`) and read here with Trino's JSON
// functions, each field at its place in the structure, as `record::parse` reads it: a value
// of the wrong type costs its record (or that field), never the query, and text that merely
// looks like a field (a tool call's arguments, a completion) is never read.

/// The JSON value at `key` of the JSON value `j`; null when `j` is not an object or lacks it.
/// A key with capitals is also looked up in lowercase: the JSON SerDe may lowercase the keys of
/// a nested object it hands on as text.
fn key(j: &str, key: &str) -> String {
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
fn absent(j: &str) -> String {
    format!("({j} IS NULL OR json_format({j}) = 'null')")
}

/// The digits of the JSON value `j` when it is a whole number a u64 holds (as serde reads a
/// count); null otherwise.
fn u64_digits(j: &str) -> String {
    format!(
        "CASE WHEN regexp_like(json_format({j}), '^[0-9]+$') AND (length(json_format({j})) < 20 OR (length(json_format({j})) = 20 AND json_format({j}) <= '18446744073709551615')) THEN json_format({j}) END"
    )
}

/// A count's value from its digits: past 18 digits (beyond BIGINT, far past every limit) it
/// reads as 10^18, which every range check rejects.
fn count_of(digits: &str) -> String {
    format!("CASE WHEN length({digits}) > 18 THEN 1000000000000000000 ELSE TRY_CAST({digits} AS BIGINT) END")
}

/// Whether the JSON value `j` is there, not null, and not a count (serde would reject it).
fn not_a_count(j: &str) -> String {
    format!("(NOT {} AND {} IS NULL)", absent(j), u64_digits(j))
}

/// The string a JSON value holds; null when it is not a string.
fn text_of(j: &str) -> String {
    format!("CASE WHEN json_format({j}) LIKE '\"%' THEN json_extract_scalar({j}, '$') END")
}

/// Whether the JSON value `j` is an object.
fn is_object(j: &str) -> String {
    format!("coalesce(json_format({j}) LIKE '{{%', false)")
}

/// The last element of an array expression that is there and not JSON null.
fn last_present(array: &str) -> String {
    format!("element_at(filter({array}, x -> NOT {}), -1)", absent("x"))
}

/// The service tier a JSON value names (`"priority"`, or Converse's `{"type": "priority"}`).
fn tier_name(j: &str) -> String {
    format!("coalesce({}, {})", text_of(j), text_of(&key(j, "type")))
}

/// A stream metrics object `serde` would refuse: not an object, or a field it reads holding
/// something other than a count.
fn bad_metrics(m: &str) -> String {
    let fields: Vec<String> = STREAM_METRIC_FIELDS.iter().map(|f| not_a_count(&key(m, f))).collect();
    format!("(NOT {} AND (NOT {} OR {}))", absent(m), is_object(m), fields.join(" OR "))
}

/// The fields of a stream metrics object mila reads.
const STREAM_METRIC_FIELDS: [&str; 4] =
    ["invocationLatency", "firstByteLatency", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"];

/// The service tier, as `parse` reads it: latency-optimized when `performanceConfig.latency` is
/// `optimized`, else the tier the body names, mapped as `ServiceTier::from_response` maps it;
/// standard when none. Reads the `bodied` step's columns.
fn service_tier() -> String {
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
const RFC3339: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/// Model-id kind, as `model_id::canonicalise` decides it, over the trimmed id `mid`.
fn kind_expr() -> String {
    let arn = "^arn:[^:]*:bedrock:[^:]*:[^:]*:";
    let geo = geo_alternatives();
    let kind = |k: ModelIdKind| literal(k.as_str());
    let global = regex_literal(GLOBAL_PREFIX);
    format!(
        "CASE \
WHEN regexp_like(mid, '{arn}foundation-model/') THEN {fm} \
WHEN regexp_like(mid, '{arn}inference-profile/{global}') THEN {gp} \
WHEN regexp_like(mid, '{arn}inference-profile/({geo})\\.') THEN {geop} \
WHEN regexp_like(mid, '{arn}inference-profile/[a-z][a-z0-9-]*\\.({providers})\\.') AND NOT regexp_like(mid, '{arn}inference-profile/({providers})\\.') THEN {geop} \
WHEN regexp_like(mid, '{arn}application-inference-profile/') THEN {app} \
WHEN regexp_like(mid, '^arn:') THEN {other} \
WHEN regexp_like(mid, '^{global}') THEN {gp} \
WHEN regexp_like(mid, '^({geo})\\.') THEN {geop} \
WHEN regexp_like(mid, '^[a-z][a-z0-9-]*\\.({providers})\\.') AND NOT regexp_like(mid, '^({providers})\\.') THEN {geop} \
WHEN strpos(mid, '.') > 0 AND strpos(mid, '/') = 0 AND strpos(mid, ' ') = 0 THEN {fm} \
ELSE {other} END",
        fm = kind(ModelIdKind::FoundationModel),
        gp = kind(ModelIdKind::GlobalProfile),
        geop = kind(ModelIdKind::GeoProfile),
        app = kind(ModelIdKind::ApplicationProfile),
        other = kind(ModelIdKind::Other),
        providers = alternatives(PROVIDERS),
    )
}

/// `a|b|...`: literal words as regex alternatives.
fn alternatives(words: &[&str]) -> String {
    words.iter().map(|w| regex_literal(w)).collect::<Vec<_>>().join("|")
}

/// `us|eu|...`: the geography prefixes without their dots.
fn geo_alternatives() -> String {
    GEO_PREFIXES.iter().map(|p| regex_literal(p.trim_end_matches('.'))).collect::<Vec<_>>().join("|")
}

/// The base model, as `canonicalise` strips it, from the trimmed id `mid` and its `kind`.
/// Every profile prefix is one word before a dot (a known geography or not), so the base is what
/// follows the first dot.
fn base_expr() -> String {
    let arn = "^arn:[^:]*:bedrock:[^:]*:[^:]*:";
    format!(
        "CASE \
WHEN kind = 'foundation-model' AND regexp_like(mid, '^arn:') THEN regexp_extract(mid, '(?s){arn}foundation-model/(.*)$', 1) \
WHEN kind IN ('global-profile', 'geo-profile') AND regexp_like(mid, '^arn:') THEN regexp_extract(mid, '(?s){arn}inference-profile/[^.]*\\.(.*)$', 1) \
WHEN kind IN ('global-profile', 'geo-profile') THEN regexp_extract(mid, '(?s)^[^.]*\\.(.*)$', 1) \
ELSE mid END"
    )
}

/// The model: an application profile's model where the profiles file knows the ARN, else the base.
fn model_expr(profiles: &Profiles) -> String {
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
fn ran_in_expr(profiles: &Profiles) -> String {
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
fn rejects() -> Vec<(String, String)> {
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
fn outside(window: Window) -> String {
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
fn tail(profiles: &Profiles, trail: bool) -> String {
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
    requestmetadata
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
fn store_partitions(window: Window) -> Vec<String> {
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
const TAIL_COLUMNS: &str = "object, ts_ms, requestid, accountid, identity_arn, region, operation, modelid, mid, kind, base, \
inferenceregion, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, service_tier, \
latency_ms, first_byte_ms, errorcode, stop_reason, requestmetadata, body_in_s3, recorded_by";

/// The CloudTrail events that are Bedrock runtime calls.
fn runtime_call() -> String {
    let names: Vec<String> = crate::record::trail::RUNTIME_CALLS.iter().map(|n| literal(n)).collect();
    format!("eventsource = {} AND eventname IN ({})", literal(crate::record::trail::EVENT_SOURCE), names.join(", "))
}

/// An RFC 3339 text column as epoch ms, null when it is not one (as `parse_timestamp_ms`).
fn epoch_ms(column: &str) -> String {
    format!(
        "CASE WHEN regexp_like({column}, {}) THEN date_diff('millisecond', from_unixtime(0), try(from_iso8601_timestamp(replace(upper({column}), ' ', 'T')))) END",
        literal(RFC3339)
    )
}

impl TrailTable {
    /// The day partitions of the window, a day either side (a file lands in its delivery day).
    fn partitions(&self, window: Window) -> Vec<String> {
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
    fn chain(&self, window: Window) -> String {
        let mut filters = vec![runtime_call()];
        filters.extend(self.partitions(window));
        let missing = |column: &str, field: &'static str| {
            format!("\n      WHEN coalesce({column}, '') = '' THEN {}", literal(&Reject::MissingField(field).kind()))
        };
        format!(
            "trail AS (
  SELECT \"$path\" AS object, eventtime AS ts, requestid, awsregion AS region, eventname AS operation,
    try(json_extract_scalar(requestparameters, '$.modelId')) AS modelid,
    try(json_extract_scalar(additionaleventdata, '$.inferenceRegion')) AS inferenceregion,
    NULLIF(errorcode, '') AS errorcode, coalesce(NULLIF(recipientaccountid, ''), useridentity.accountid) AS accountid,
    NULLIF(useridentity.arn, '') AS identity_arn
  FROM {table}
  WHERE {filters}
),
trail_checked AS (
  SELECT *, trim(modelid) AS mid, {ts_ms} AS ts_ms
  FROM trail
),
trail_status AS (
  SELECT *,
    CASE{time}{id}{region}{model}
      WHEN ts_ms IS NULL THEN {bad_time}
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
    inferenceregion, CAST(NULL AS BIGINT) AS input_tokens, CAST(NULL AS BIGINT) AS output_tokens,
    CAST(NULL AS BIGINT) AS cache_read_tokens, CAST(NULL AS BIGINT) AS cache_write_tokens,
    CAST(NULL AS BIGINT) AS cache_write_1h_tokens, CAST(NULL AS VARCHAR) AS service_tier, CAST(NULL AS BIGINT) AS latency_ms, CAST(NULL AS BIGINT) AS first_byte_ms, errorcode,
    CAST(NULL AS VARCHAR) AS stop_reason, CAST(NULL AS MAP(VARCHAR, VARCHAR)) AS requestmetadata,
    false AS body_in_s3, {cloudtrail} AS recorded_by
  FROM trail_named
),
",
            table = self.table.sql(),
            filters = filters.join("\n    AND "),
            ts_ms = epoch_ms("ts"),
            time = missing("ts", "eventTime"),
            id = missing("requestid", "requestID"),
            region = missing("region", "awsRegion"),
            model = missing("modelid", "requestParameters.modelId"),
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
    fn tail(&self) -> String {
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
    fn empty_chain(&self) -> String {
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
                    | "first_byte_ms" => "BIGINT",
                    "requestmetadata" => "MAP(VARCHAR, VARCHAR)",
                    "body_in_s3" => "BOOLEAN",
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
    fn store_chain(&self) -> String {
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
    cache_write_tokens, cache_write_1h_tokens, service_tier, latency_ms, first_byte_ms, error_code AS errorcode, stop_reason, body_in_s3,
    coalesce(recorded_by, {log}) AS recorded_by,
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

    fn logs_chain(&self) -> String {
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
            ("five_m", key("split", "ephemeral_5m_input_tokens")),
            ("one_h", key("split", "ephemeral_1h_input_tokens")),
        ];
        format!(
            "WITH logs AS (
  SELECT \"$path\" AS object, \"timestamp\" AS ts, schematype, requestid, region, operation, modelid,
    trim(modelid) AS mid, inferenceregion, errorcode, accountid, identity, input, output,
    requestmetadata AS metadata_text, try(json_parse(identity)) AS identity_j, try(json_parse(input)) AS input_j,
    try(json_parse(output)) AS output_j, try(json_parse(requestmetadata)) AS metadata_j, {log} AS recorded_by
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
    CASE WHEN top IS NOT NULL THEN coalesce({top_tier_a}, {top_tier_b}, {top_tier_c})
      ELSE element_at(filter(transform(chunks, c -> {chunk_tier}), x -> x IS NOT NULL), -1) END AS tier_name,
    coalesce(lower({latency_text}) = 'optimized', false) AS latency_optimized,
    CASE WHEN top IS NOT NULL THEN coalesce({top_stop_a}, {top_stop_b})
      ELSE element_at(filter(transform(chunks, c -> {chunk_stop}), x -> x IS NOT NULL), -1) END AS stop_reason
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
    coalesce(input_n, 0) AS input_tokens, coalesce(output_n, 0) AS output_tokens,
    coalesce(logged_cache_read_n, metrics_cache_read_n, 0) AS cache_read_tokens,
    coalesce(logged_cache_write_n, metrics_cache_write_n,
      CASE WHEN five_m_digits IS NOT NULL OR one_h_digits IS NOT NULL THEN coalesce(five_m_n, 0) + coalesce(one_h_n, 0) END) AS cache_write_total,
    coalesce(one_h_n, 0) AS one_h,
    CASE WHEN operation IN ('Converse', 'ConverseStream') THEN converse_latency_n
      WHEN operation = 'InvokeModelWithResponseStream' THEN stream_latency_n END AS latency_ms,
    first_byte_n AS first_byte_ms,
    {tier} AS service_tier
  FROM counted
),
checked AS (
  SELECT *,
    coalesce(cache_write_total, 0) AS cache_write_tokens,
    least(one_h, coalesce(cache_write_total, 0)) AS cache_write_1h_tokens,
    try(CAST(metadata_j AS MAP(VARCHAR, VARCHAR))) AS requestmetadata,
    CASE{status}
      WHEN {window} THEN {outside}
      ELSE {ok}
    END AS status
  FROM summed
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
            converse_metrics = key("top", "metrics"),
            top_metrics = key("top", STREAM_METRICS),
            chunk_metrics = last_present(&format!("transform(chunks, c -> {})", key("c", STREAM_METRICS))),
            top_metrics_bad = bad_metrics(&key("top", STREAM_METRICS)),
            c_metrics = key("c", STREAM_METRICS),
            m_bad = bad_metrics("m"),
            top_split = cache_creation(&key("top", "usage")),
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
}

/// The metadata value columns: `m0`, `m1`... one per `--by-metadata` key, in order.
pub fn metadata_column(i: usize) -> String {
    format!("m{i}")
}

const SUMS: &str = "count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, \
sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, \
sum(cache_write_1h_tokens) AS cache_write_1h_tokens";

fn day(column: &str) -> String {
    format!("{} AS {column}", bucket("ts_ms", DAY_MS))
}

/// The start of the `width`-ms bucket holding `ms`, in integer arithmetic. Trino reads `86400000.0`
/// as a DECIMAL, and a BIGINT divided by one is rounded half up to one decimal place, so a floor
/// of such a quotient puts the last 1.2 hours of a day on the next; `%` of integers is exact (and
/// truncates toward zero, hence the second `%` for times before 1970).
fn bucket(ms: &str, width: i64) -> String {
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
            "SELECT identity_arn, model_id, model, model_id_kind, source_region, error_code, service_tier, recorded_by, {SUMS}
FROM invocations
GROUP BY identity_arn, model_id, model, model_id_kind, source_region, error_code, service_tier, recorded_by"
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
                "SELECT {groups}, model_id, model, model_id_kind, source_region, error_code, service_tier, recorded_by, {SUMS}
FROM (SELECT *, {values} FROM invocations WHERE recorded_by = {log}) AS keyed
GROUP BY {groups}, model_id, model, model_id_kind, source_region, error_code, service_tier, recorded_by",
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
  count_if(route = 'rerouted') AS rerouted, count_if(error_code = {throttling}) AS {throttled}
FROM invocations
WHERE recorded_by = {log}
GROUP BY 1, 2, 3, 4",
            minute = bucket("ts_ms", MINUTE_MS),
            tokens = minutes::TOKENS_ONCE,
            throttling = literal(crate::analysis::capacity::THROTTLING),
            throttled = crate::analysis::capacity::THROTTLED,
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

fn usage() -> String {
    format!(
        "SELECT {day}, source_region, model_id, model, model_id_kind, route, inference_region, error_code, service_tier,
  recorded_by, {SUMS}
FROM invocations
GROUP BY 1, source_region, model_id, model, model_id_kind, route, inference_region, error_code, service_tier, recorded_by",
        day = day("day")
    )
}

/// Lines by status: read, rejected by reason, outside the window; and the objects read.
fn records(scan: &Scan) -> Statement {
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
fn violates(policy: &Policy) -> String {
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
fn trail_statements(scan: &Scan) -> Vec<Statement> {
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
fn strip_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    while let Some(after) = rest.strip_prefix("--") {
        rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        assert_eq!(TableRef::parse("Mila.Logs"), Ok(TableRef { database: "mila".into(), table: "logs".into() }));
        for bad in ["mila", "a.b-c", ".t", "d.", "d.t;drop"] {
            assert!(TableRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_cover_the_lag_hour_each_side() {
        let w = Window { since: Some(1_762_646_400_000), until: Some(1_763_251_200_000) }; // 2025-11-09 .. 11-16
        assert_eq!(partitions(w), vec!["hour >= '2025/11/08/23'", "hour <= '2025/11/16/00'"]);
        assert!(partitions(Window::default()).is_empty());
        assert_eq!(partitions(Window { since: Some(0), until: None }), vec!["hour >= '1969/12/31/23'"]);
    }

    #[test]
    fn a_user_with_joins_the_chain() {
        let profiles = Profiles::default();
        let table = TableRef::parse("d.t").unwrap();
        let scan =
            Scan { table: &table, layout: Layout::Logs, window: Window::default(), profiles: &profiles, trail: None };
        let q = query(&scan, "-- top\nWITH x AS (SELECT 1) SELECT * FROM x;");
        assert!(q.sql.contains("),\nx AS (SELECT 1) SELECT * FROM x"), "{}", q.sql);
        assert!(!q.sql.ends_with(';'));
        let plain = query(&scan, "SELECT count(*) FROM invocations");
        assert!(plain.sql.ends_with(")\nSELECT count(*) FROM invocations"), "{}", plain.sql);
    }

    /// What a statement is made of, with the contents of string literals and quoted identifiers
    /// left out: two statements of one shape differ only inside those.
    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Str,
        Ident,
        Num(String),
        Word(String),
        Sym(char),
    }

    /// Trino's (and Hive DDL's) lexical rules, as far as mila's statements use them.
    fn tokens(sql: &str) -> Vec<Token> {
        let c: Vec<char> = sql.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        let quoted = |i: &mut usize, q: char| {
            // From the opening quote to its closing one; a doubled quote is one character.
            *i += 1;
            loop {
                assert!(*i < c.len(), "unterminated {q} in {sql}");
                if c[*i] == q {
                    if c.get(*i + 1) == Some(&q) {
                        *i += 2;
                        continue;
                    }
                    *i += 1;
                    return;
                }
                *i += 1;
            }
        };
        while i < c.len() {
            match c[i] {
                w if w.is_whitespace() => i += 1,
                '-' if c.get(i + 1) == Some(&'-') => {
                    while i < c.len() && c[i] != '\n' {
                        i += 1;
                    }
                }
                '\'' => {
                    quoted(&mut i, '\'');
                    out.push(Token::Str);
                }
                'U' if c.get(i + 1) == Some(&'&') && c.get(i + 2) == Some(&'\'') => {
                    i += 2;
                    quoted(&mut i, '\'');
                    out.push(Token::Str);
                }
                q @ ('"' | '`') => {
                    quoted(&mut i, q);
                    out.push(Token::Ident);
                }
                d if d.is_ascii_digit() => {
                    let start = i;
                    while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                        i += 1;
                    }
                    out.push(Token::Num(c[start..i].iter().collect()));
                }
                w if w.is_alphabetic() || w == '_' || w == '$' => {
                    let start = i;
                    while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                        i += 1;
                    }
                    out.push(Token::Word(c[start..i].iter().collect::<String>().to_ascii_lowercase()));
                }
                other => {
                    out.push(Token::Sym(other));
                    i += 1;
                }
            }
        }
        out
    }

    /// Values a hostile user (or log, or bucket) could hand in.
    const HOSTILE: [&str; 14] = [
        "'",
        "\"",
        "`",
        "'; DROP TABLE x; --",
        "x' OR '1'='1",
        "\u{2019}\u{ff07}\u{201c}",
        "\\",
        "a\\'b",
        "nul\0",
        "\n;\n",
        "line\r\nbreak",
        "${account}",
        "%_*?",
        "*/ /*",
    ];

    /// Every statement a report, a check and a query make over the logs, the store and a trail,
    /// with `value` in every place a user value reaches: metadata keys, policy globs, profile
    /// ARNs and models.
    fn every_statement(value: &str) -> Vec<Statement> {
        let arn = format!("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{value}");
        let profile = format!(
            "[[profile]]\narn = {}\nmodel = {}\nregions = [\"us-east-1\"]\n",
            toml::Value::String(arn),
            toml::Value::String(format!("anthropic.{value}"))
        );
        let profiles = Profiles::parse(&profile, std::path::Path::new("p.toml")).unwrap();
        let policy = Policy {
            rules: vec![crate::given::policy::Rule { source: value.into(), allow: vec![value.into(), "eu-*".into()] }],
            name: "p".into(),
        };
        let table = TableRef::parse("mila.logs").unwrap();
        let trail = TrailTable { table: TableRef::parse("ct.trail").unwrap(), partition: Some("timestamp".into()) };
        let window = Window { since: Some(1_762_646_400_000), until: Some(1_763_251_200_000) };
        let mut out = Vec::new();
        for layout in [Layout::Logs, Layout::Store, Layout::Nothing] {
            for t in [None, Some(&trail)] {
                let scan = Scan { table: &table, layout, window, profiles: &profiles, trail: t };
                out.extend(report(&scan, &[value.to_string(), "team".into()]));
                out.extend(check(&scan, &policy));
                out.push(query(&scan, "SELECT count(*) FROM invocations"));
            }
        }
        out
    }

    #[test]
    fn no_user_value_changes_a_statement() {
        let benign = every_statement("x");
        for value in HOSTILE {
            let hostile = every_statement(value);
            assert_eq!(hostile.len(), benign.len());
            for (h, b) in hostile.iter().zip(&benign) {
                assert_eq!(tokens(&h.sql), tokens(&b.sql), "{} with {value:?}:\n{}", h.name, h.sql);
            }
            // The dry-run script splits at lines holding only `;`: one per statement.
            let script = crate::engine::athena::script(&hostile);
            assert_eq!(script.lines().filter(|l| *l == ";").count(), hostile.len(), "{value:?}");
        }
    }

    #[test]
    fn ddl_refuses_what_it_cannot_quote() {
        let table = TableRef::parse("mila.logs").unwrap();
        let (accounts, regions) = (vec!["123456789012".to_string()], vec!["us-east-1".to_string()]);
        let setup_with = |root: &str, accounts: &[String], regions: &[String]| {
            setup(&Setup {
                table: &table,
                logs_root: root.into(),
                accounts,
                regions,
                first_hour: "2026/11/01/00".into(),
            })
        };
        let benign = setup_with("s3://b/p/AWSLogs/", &accounts, &regions).unwrap();
        for value in HOSTILE {
            let root = format!("s3://b/{value}/AWSLogs/");
            match setup_with(&root, &accounts, &regions) {
                // Only what Hive DDL reads as written may pass, and then in the same shape.
                Ok(got) => {
                    for (g, b) in got.iter().zip(&benign) {
                        assert_eq!(tokens(&g.sql), tokens(&b.sql), "{value:?}:\n{}", g.sql);
                    }
                    assert!(!value.contains(['\'', '\\', '"', '`', '\n', '\0']), "{value:?} passed");
                }
                Err(e) => assert_eq!(e.what, "the logs' S3 location", "{value:?}"),
            }
            assert!(setup_store(&table, &root, "2026-11-01").is_err() || !value.contains(['\'', '\\']), "{value:?}");
        }
        // Folder names from a listing are checked where they are listed; a comma would split
        // the projection's list all the same.
        let two = vec!["999,888".to_string()];
        assert!(setup_with("s3://b/p/AWSLogs/", &two, &regions).is_err());
        assert!(setup_with("s3://b/p/AWSLogs/", &accounts, &["zz\\".to_string()]).is_err());
    }

    #[test]
    fn statements_fit_athena_and_divide_no_time_by_a_decimal() {
        // Trino reads `86400000.0` as a DECIMAL and rounds a BIGINT divided by it to one place.
        for st in every_statement("x") {
            assert!(st.sql.len() < crate::engine::athena::MAX_STATEMENT / 4, "{}: {} bytes", st.name, st.sql.len());
            let t = tokens(&st.sql);
            for (i, tok) in t.iter().enumerate() {
                if *tok == Token::Sym('/') {
                    let decimal = |t: Option<&Token>| matches!(t, Some(Token::Num(n)) if n.contains('.'));
                    assert!(
                        !decimal(t.get(i + 1)) && !decimal(i.checked_sub(1).and_then(|j| t.get(j))),
                        "{}: a division by a decimal literal:\n{}",
                        st.name,
                        st.sql
                    );
                }
            }
        }
    }

    #[test]
    fn buckets_are_exact_at_the_edges() {
        // What `bucket` computes, in Rust's integer arithmetic: the last millisecond of a day and
        // of a minute stay in them; times before 1970 fall in their own day.
        let exact = |ms: i64, width: i64| ms - ((ms % width) + width) % width;
        let day = 1_763_164_800_000; // 2025-11-15T00:00:00Z
        for (ms, want) in [(day + DAY_MS - 1, day), (day, day), (day - 1, day - DAY_MS), (-1, -DAY_MS), (0, 0)] {
            assert_eq!(exact(ms, DAY_MS), want, "{ms}");
        }
        assert_eq!(exact(day + 59_999, MINUTE_MS), day);
        assert_eq!(bucket("t", 60000), "(t - ((t % 60000) + 60000) % 60000)");
    }
}
