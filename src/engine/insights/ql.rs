//! The Logs Insights QL of each question: what the Athena statements compute, aggregated where
//! the logs are, at the grain each table needs, by the fields as logged. Model, kind, route,
//! tier and the resolved inference region are then worked out here from those raw keys by the
//! same functions the local engine uses (`results`), so no copy of them lives in QL.
//!
//! Syntax from the Logs Insights QL reference (CWL_QuerySyntax and its pages: `filter`, `parse`,
//! `fields`, `stats ... by`, `bin()`, `coalesce()`, `ispresent()`, `least()`, `jsonParse()` and
//! `map.attribute`, `min()`, `max()`, `pct()`, `count()`, `sum()`, `in [...]`, `=~ /regex/`, a
//! `filter` after `stats`, `display`).
//!
//! Fields: each is read as Logs Insights discovers it from the JSON event (its flattened path),
//! else from `jsonParse(@message)`, else by a regular expression over `@message`. Discovery reads
//! only so many fields of an event (the `parse` page: "You can only parse JSON log events that
//! include no more than 200 log event fields"), and Bedrock writes `inferenceRegion`, `identity`,
//! `requestMetadata` and the token counts after the prompt and completion bodies, so a long
//! conversation pushes them out of reach of discovery. A JSON key inside a body's text cannot
//! match an expression (its quotes are escaped there), but a body that is itself JSON with such a
//! key can, where the other two failed: the README says so.

use super::split::Span;

/// The longest query StartQuery takes (`queryString`: at most 10,000 characters).
pub const MAX_QUERY: usize = 10_000;

/// Result names, as the Athena statements' (so `athena::tables` reads them), and those only this
/// engine asks.
pub use crate::engine::athena::sql::{CALLERS, METADATA, MINUTES, OPERATIONS, USAGE, VIOLATIONS};
/// Every event of the window, read or not.
pub const EVENTS: &str = "events";
/// Latency per inference region as logged.
pub const LATENCY_REGION: &str = "latency_region";
/// Latency of local calls per (source region, model id, whether an inference region is logged).
pub const LATENCY_LOCAL: &str = "latency_local";
/// Latency of rerouted calls per (source region, model id).
pub const LATENCY_REROUTED: &str = "latency_rerouted";
/// Request ids seen more than once, with every key a table groups by.
pub const DUPLICATES: &str = "duplicates";

/// The fields a query reads, named as they are in the rows that come back.
pub mod f {
    pub const REQUEST: &str = "m_request";
    pub const TIME: &str = "m_time";
    pub const REGION: &str = "m_region";
    pub const OPERATION: &str = "m_operation";
    pub const MODEL_ID: &str = "m_model";
    pub const SCHEMA: &str = "m_schema";
    pub const INFERENCE: &str = "m_inference";
    pub const ERROR: &str = "m_error";
    pub const ARN: &str = "m_arn";
    /// The counts as mila takes them: the log's own, else an OpenAI-shaped usage's.
    pub const INPUT: &str = "m_input";
    pub const OUTPUT: &str = "m_output";
    pub const CACHE_READ: &str = "m_cache_read";
    /// The request's most output tokens (`record::body::MAX_TOKENS_PATHS`).
    pub const MAX_TOKENS: &str = "m_max_tokens";
    /// What the call reserved of its quota when it started (`analysis::capacity::reserved`;
    /// throttled calls are taken out by their error code where the rows are read).
    pub const RESERVED: &str = "m_reserved";
    pub const CACHE_WRITE: &str = "m_cache_write";
    pub const ONE_HOUR: &str = "m_1h";
    pub const LATENCY: &str = "m_latency";
    pub const FIRST_BYTE: &str = "m_first_byte";
    pub const TIER: &str = "m_tier";
    /// 1 for a call past `LONG_CONTEXT_TOKENS` of input, cache reads and writes, else 0.
    pub const LONG: &str = "m_long";
    pub const PERFORMANCE: &str = "m_performance";
    /// `bin(1d)` and `bin(1m)` of `@timestamp`.
    pub const DAY: &str = "day";
    pub const MINUTE: &str = "minute";
    /// The `@timestamp` of a listed event.
    pub const AT: &str = "at";
    /// Whether an inference region is logged (`ispresent`), in the local calls' latency.
    pub const LOGGED: &str = "m_logged";
}

/// Result columns of the sums.
pub mod s {
    pub const REQUESTS: &str = "requests";
    pub const LINES: &str = "lines";
    /// Input and cache-write tokens (`minutes`).
    pub const TOKENS_ONCE: &str = "tokens_once";
    /// `f::RESERVED` summed, and the calls that named their most output tokens (`minutes`).
    pub const RESERVED: &str = "reserved";
    pub const WITH_MAX_TOKENS: &str = "with_max_tokens";
    pub const N: &str = "n";
    pub const LATENCY_N: &str = "latency_n";
    pub const LATENCY_SUM: &str = "latency_sum";
    pub const FIRST_BYTE_N: &str = "first_byte_n";
    /// Prefixes of a latency group's points: `l_min`, `l_p10` ... `l_max`; `fb_min` ... `fb_max`.
    pub const LATENCY_POINT: &str = "l_";
    pub const FIRST_BYTE_POINT: &str = "fb_";
}

/// The operations whose records carry a latency (contract section 3, `record::parse::latency_for`).
pub const LATENCY_OPERATIONS: [&str; 3] = ["Converse", "ConverseStream", "InvokeModelWithResponseStream"];

/// One field: where discovery puts it (also its path in `jsonParse(@message)`, when `json`),
/// and the expression that finds it in `@message` (with the named group `q_<field>`).
struct Field {
    name: &'static str,
    discovered: &'static [&'static str],
    json: bool,
    pattern: String,
}

fn text_after(key: &str) -> String {
    format!(r#""{key}"\s*:\s*""#)
}

fn number_after(key: &str) -> String {
    format!(r#""{key}"\s*:\s*"#)
}

/// A `cacheDetails` entry of one lifetime, by expression only.
fn detail(name: &'static str, ttl: &str) -> Field {
    Field {
        name,
        discovered: &[],
        json: false,
        pattern: format!(r#"\{{\s*"inputTokens"\s*:\s*(?<q_{}>\d+)\s*,\s*"ttl"\s*:\s*"{ttl}"\s*\}}"#, &name[2..]),
    }
}

fn fields() -> Vec<Field> {
    let text = |name, discovered, key: &str| Field {
        name,
        discovered,
        json: true,
        pattern: format!(r#"{}(?<q_{}>[^"]+)""#, text_after(key), &name[2..]),
    };
    let number = |name, discovered, key: &str| Field {
        name,
        discovered,
        json: true,
        pattern: format!(r#"{}(?<q_{}>\d+)"#, number_after(key), &name[2..]),
    };
    vec![
        text(f::REQUEST, &["requestId"], "requestId"),
        text(f::TIME, &["timestamp"], "timestamp"),
        text(f::REGION, &["region"], "region"),
        text(f::OPERATION, &["operation"], "operation"),
        text(f::MODEL_ID, &["modelId"], "modelId"),
        text(f::SCHEMA, &["schemaType"], "schemaType"),
        text(f::INFERENCE, &["inferenceRegion"], "inferenceRegion"),
        text(f::ERROR, &["errorCode"], "errorCode"),
        Field {
            name: f::ARN,
            discovered: &["identity.arn"],
            json: true,
            pattern: format!(r#""identity"\s*:\s*\{{[^{{}}]*{}(?<q_arn>[^"]+)""#, text_after("arn")),
        },
        number(LOGGED_INPUT, &["input.inputTokenCount"], "inputTokenCount"),
        number(LOGGED_OUTPUT, &["output.outputTokenCount"], "outputTokenCount"),
        // The log's own count first (input comes before output), else the stream metrics'.
        number(LOGGED_CACHE_READ, &["input.cacheReadInputTokenCount"], "cacheReadInputTokenCount"),
        number("m_prompt", &["output.outputBodyJson.usage.prompt_tokens"], "prompt_tokens"),
        number("m_completion", &["output.outputBodyJson.usage.completion_tokens"], "completion_tokens"),
        number("m_cached", &["output.outputBodyJson.usage.prompt_tokens_details.cached_tokens"], "cached_tokens"),
        // By expression only: a whole number up to the limit, followed by what ends a JSON
        // number (so a fraction, a string or a larger number is none, as the parser reads it).
        Field {
            name: f::MAX_TOKENS,
            discovered: &[],
            json: false,
            pattern: format!(
                r#""(?:{})"\s*:\s*(?<q_max_tokens>{}|[0-9]{{1,{}}})[,}}\]\s]"#,
                crate::record::body::MAX_TOKENS_PATHS.iter().map(|(_, k)| *k).collect::<Vec<_>>().join("|"),
                crate::record::parse::MAX_TOKENS,
                crate::record::parse::MAX_TOKENS.to_string().len() - 1,
            ),
        },
        number(f::CACHE_WRITE, &["input.cacheWriteInputTokenCount"], "cacheWriteInputTokenCount"),
        number("m_5m", &[], "ephemeral_5m_input_tokens"),
        number(f::ONE_HOUR, &[], "ephemeral_1h_input_tokens"),
        // Converse's `cacheDetails` entries, as Bedrock writes them (`inputTokens` before `ttl`).
        detail("m_5m_details", "5m"),
        detail("m_1h_details", "1h"),
        number("m_converse_latency", &["output.outputBodyJson.metrics.latencyMs"], "latencyMs"),
        number("m_stream_latency", &[], "invocationLatency"),
        number(f::FIRST_BYTE, &[], "firstByteLatency"),
        // Not through jsonParse: Converse's `serviceTier` is an object, which would pass for a name.
        Field {
            name: f::TIER,
            json: false,
            discovered: &[
                "output.outputBodyJson.serviceTier.type",
                "output.outputBodyJson.serviceTier",
                "output.outputBodyJson.service_tier",
                "output.outputBodyJson.usage.service_tier",
            ],
            pattern: r#""service_?[tT]ier"\s*:\s*(?:\{\s*"type"\s*:\s*)?"(?<q_tier>[^"]+)""#.to_string(),
        },
        Field {
            name: f::PERFORMANCE,
            discovered: &["output.outputBodyJson.performanceConfig.latency"],
            json: true,
            pattern: format!(
                r#""performanceConfig"\s*:\s*\{{[^{{}}]*{}(?<q_performance>[^"]+)""#,
                text_after("latency")
            ),
        },
    ]
}

/// The event parsed as JSON.
const JSON: &str = "m_json";

/// The counts as the log writes them (`f::INPUT` ... are these, else the OpenAI usage's).
const LOGGED_INPUT: &str = "m_in_logged";
const LOGGED_OUTPUT: &str = "m_out_logged";
const LOGGED_CACHE_READ: &str = "m_read_logged";

/// A `--by-metadata` key as Logs Insights names and finds it. Only keys of letters, digits and
/// `_ - : .` are asked for (others cannot be written in a field name or a pattern safely).
pub fn metadata_field(i: usize) -> String {
    format!("m_md{i}")
}

pub fn metadata_key_ok(key: &str) -> bool {
    !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b))
}

fn metadata_fields(keys: &[String]) -> Vec<(String, String, String)> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let name = metadata_field(i);
            let pattern = format!(r#""requestMetadata"\s*:\s*\{{[^{{}}]*{}(?<q_{}>[^"]*)""#, text_after(k), &name[2..]);
            let key =
                if k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') { k.clone() } else { format!("`{k}`") };
            (name, format!("`requestMetadata.{k}`, {JSON}.requestMetadata.{key}"), pattern)
        })
        .collect()
}

/// A string literal of QL.
pub fn literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The commands that read every field of a record, and keep only the records mila reads:
/// those with every required field, a time that starts as RFC 3339 does, the ModelInvocationLog
/// schema (or none), and counts and latencies within the parser's limits.
fn prelude(metadata_keys: &[String]) -> String {
    // The event as JSON, whatever discovery made of it (the operations page: "jsonParse ... a map
    // or list", its items read with `map.attribute`).
    let mut out = format!("\n| fields jsonParse(@message) as {JSON}");
    let mut names: Vec<(String, String)> = Vec::new();
    for field in fields() {
        out.push_str(&format!("\n| parse @message /{}/", field.pattern));
        let mut sources: Vec<String> = field.discovered.iter().map(|d| d.to_string()).collect();
        if field.json {
            sources.extend(field.discovered.iter().map(|d| format!("{JSON}.{d}")));
        }
        sources.push(format!("q_{}", &field.name[2..]));
        names.push((field.name.to_string(), sources.join(", ")));
    }
    for (name, discovered, pattern) in metadata_fields(metadata_keys) {
        out.push_str(&format!("\n| parse @message /{pattern}/"));
        names.push((name.clone(), format!("{discovered}, q_{}", &name[2..])));
    }
    let coalesced: Vec<String> = names.iter().map(|(n, s)| format!("coalesce({s}) as {n}")).collect();
    out.push_str(&format!("\n| fields {}", coalesced.join(", ")));
    // The cache writes as the parser reads them: the logged count, else the stream metrics' (both
    // in m_cache_write), else the split added up; of them, the one-hour writes.
    out.push_str(&format!(
        "\n| fields coalesce({cw}, coalesce(m_5m, m_5m_details, 0) + coalesce({h}, m_1h_details, 0)) as m_writes, coalesce(m_converse_latency, m_stream_latency) as m_any_latency",
        cw = f::CACHE_WRITE,
        h = f::ONE_HOUR,
    ));
    out.push_str(&format!("\n| fields least(coalesce({}, m_1h_details, 0), m_writes) as m_writes_1h", f::ONE_HOUR));
    // Each count the log's own, else the OpenAI usage's (`record::parse`): prompt tokens less the
    // cached ones, completion tokens, cached tokens; then what the call reserved
    // (`analysis::capacity::reserved`).
    out.push_str(&format!(
        "\n| fields coalesce({LOGGED_INPUT}, greatest(m_prompt - coalesce(m_cached, 0), 0)) as {i}, coalesce({LOGGED_OUTPUT}, m_completion) as {o}, coalesce({LOGGED_CACHE_READ}, m_cached) as {cr}\n| fields coalesce({i}, 0) + coalesce({cr}, 0) + m_writes + coalesce({max}, {o}, 0) as {reserved}",
        i = f::INPUT,
        o = f::OUTPUT,
        cr = f::CACHE_READ,
        max = f::MAX_TOKENS,
        reserved = f::RESERVED,
    ));
    let required: Vec<String> =
        [f::REQUEST, f::TIME, f::REGION, f::OPERATION, f::MODEL_ID].iter().map(|n| format!("ispresent({n})")).collect();
    let within = |field: &str, max: u64| format!("(not ispresent({field}) or {field} <= {max})");
    let tokens = crate::record::parse::MAX_TOKENS;
    let latency = crate::record::parse::MAX_LATENCY_MS;
    out.push_str(&format!(
        "\n| filter {} and {time} =~ /^\\d{{4}}-\\d{{2}}-\\d{{2}}T\\d{{2}}:\\d{{2}}/ and (not ispresent({schema}) or {schema} = \"ModelInvocationLog\")",
        required.join(" and "),
        time = f::TIME,
        schema = f::SCHEMA,
    ));
    out.push_str(&format!(
        "\n| filter {} and {} and {} and {} and {} and {}",
        within(f::INPUT, tokens),
        within(f::OUTPUT, tokens),
        within(f::CACHE_READ, tokens),
        within("m_writes", tokens),
        within("m_any_latency", latency),
        within(f::FIRST_BYTE, latency),
    ));
    // A call's size for pricing (`given::prices::Context`), as 1 or 0 (QL has no conditional
    // expression): the tokens past the threshold, held between 0 and 1. Each count is within the
    // parser's limit here, so the sum is exact.
    out.push_str(&format!(
        "\n| fields least(greatest(coalesce({i}, 0) + coalesce({cr}, 0) + m_writes - {LONG_CONTEXT_TOKENS}, 0), 1) as {long}",
        i = f::INPUT,
        cr = f::CACHE_READ,
        long = f::LONG,
        LONG_CONTEXT_TOKENS = crate::given::prices::LONG_CONTEXT_TOKENS,
    ));
    out
}

/// The sums of the usage, callers and metadata results, in `frame::col::TOKENS` order.
fn sums() -> String {
    use crate::frame::col;
    format!(
        "count(*) as {req}, sum({i}) as {ci}, sum({o}) as {co}, sum({cr}) as {ccr}, sum(m_writes) as {ccw}, sum(m_writes_1h) as {c1h}",
        req = s::REQUESTS,
        i = f::INPUT,
        o = f::OUTPUT,
        cr = f::CACHE_READ,
        ci = col::INPUT_TOKENS,
        co = col::OUTPUT_TOKENS,
        ccr = col::CACHE_READ_TOKENS,
        ccw = col::CACHE_WRITE_TOKENS,
        c1h = col::CACHE_WRITE_1H_TOKENS,
    )
}

/// The keys that price a row (model, source region, error, tier as logged).
pub const PRICED: [&str; 6] = [f::MODEL_ID, f::REGION, f::ERROR, f::TIER, f::PERFORMANCE, f::LONG];

/// One query of a question, before its window is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub name: &'static str,
    /// The commands after the window's filter.
    pub body: String,
}

impl Query {
    /// The query over one window: the window's filter first (StartQuery's own range is whole
    /// seconds, both ends included).
    pub fn text(&self, span: Span) -> String {
        format!("{}{}", super::client::window_filter(span), self.body)
    }
}

fn by(keys: &[&str]) -> String {
    keys.join(", ")
}

/// The queries of a report.
pub fn report(metadata_keys: &[String]) -> Vec<Query> {
    let p = prelude(metadata_keys);
    let mut out = vec![events(), usage(&p)];
    let mut callers = vec![f::ARN];
    callers.extend(PRICED);
    out.push(Query { name: CALLERS, body: format!("{p}\n| stats {} by {}", sums(), by(&callers)) });
    if !metadata_keys.is_empty() {
        let mut keys: Vec<String> = (0..metadata_keys.len()).map(metadata_field).collect();
        keys.extend(PRICED.iter().map(|k| k.to_string()));
        out.push(Query { name: METADATA, body: format!("{p}\n| stats {} by {}", sums(), keys.join(", ")) });
    }
    out.push(Query { name: OPERATIONS, body: format!("{p}\n| stats {} by {}", sums(), f::OPERATION) });
    out.push(Query {
        name: MINUTES,
        body: format!(
            "{p}\n| stats count(*) as {req}, sum({i} + m_writes) as {once}, sum({o}) as {out}, sum({rf}) as {rs}, count({mf}) as {ms} by bin(1m) as {m}, {r}, {id}, {ir}, {e}",
            req = s::REQUESTS,
            rf = f::RESERVED,
            rs = s::RESERVED,
            mf = f::MAX_TOKENS,
            ms = s::WITH_MAX_TOKENS,
            i = f::INPUT,
            once = s::TOKENS_ONCE,
            o = f::OUTPUT,
            out = crate::frame::col::OUTPUT_TOKENS,
            m = f::MINUTE,
            r = f::REGION,
            id = f::MODEL_ID,
            ir = f::INFERENCE,
            e = f::ERROR,
        ),
    });
    // Percentiles by `pct()`, at the grain of the table by inference region (as logged: where the
    // calls ran). The routes' follow the usage (`routes`), which names the source regions.
    out.push(latency(LATENCY_REGION, &p, &format!(" and ispresent({})", f::INFERENCE), &[f::INFERENCE]));
    out.push(duplicates(&p, metadata_keys.len()));
    out
}

/// The latency of local and of rerouted calls, per (source region, model id): local are those
/// whose inference region is their source region, or has none logged (`m_logged` false: mila
/// keeps those whose model id says they stayed home); rerouted, the rest with one logged. The
/// pairs are spelled out per source region, as QL compares a field with a literal.
pub fn routes(source_regions: &[String], metadata_keys: &[String]) -> [Query; 2] {
    let p = prelude(metadata_keys);
    let home: Vec<String> = source_regions
        .iter()
        .map(|r| format!("({} = {r} and {} = {r})", f::REGION, f::INFERENCE, r = literal(r)))
        .collect();
    let home = if home.is_empty() { format!("{} = \"\"", f::REGION) } else { home.join(" or ") };
    [
        latency(
            LATENCY_LOCAL,
            &format!("{p}\n| fields ispresent({ir}) as {logged}", ir = f::INFERENCE, logged = f::LOGGED),
            &format!(" and ({home} or not ispresent({}))", f::INFERENCE),
            &[f::REGION, f::MODEL_ID, f::LOGGED],
        ),
        latency(
            LATENCY_REROUTED,
            &p,
            &format!(" and ispresent({}) and not ({home})", f::INFERENCE),
            &[f::REGION, f::MODEL_ID],
        ),
    ]
}

/// Requests with a latency and its percentiles, and the first-byte latency's median, by `keys`,
/// of the successful calls of the operations that log a latency, and `and_also`.
fn latency(name: &'static str, p: &str, and_also: &str, keys: &[&str]) -> Query {
    let ops: Vec<String> = LATENCY_OPERATIONS.iter().map(|o| literal(o)).collect();
    // Each distribution as points on its curve (min, percentiles, max), so that where groups meet
    // in one row mila can read percentiles off their mixture.
    let points = |field: &str, prefix: &str, qs: &[u32]| -> String {
        let mut out = vec![format!("min({field}) as {prefix}min")];
        out.extend(qs.iter().map(|q| format!("pct({field}, {q}) as {prefix}p{q}")));
        out.push(format!("max({field}) as {prefix}max"));
        out.join(", ")
    };
    Query {
        name,
        body: format!(
            "{p}\n| filter {op} in [{ops}] and not ispresent({e}){and_also}\n| fields m_any_latency as {lat}\n| stats count({lat}) as {n}, sum({lat}) as {sum}, {lat_points}, count({fb}) as {fbn}, {fb_points} by {keys}",
            op = f::OPERATION,
            ops = ops.join(", "),
            e = f::ERROR,
            lat = f::LATENCY,
            n = s::LATENCY_N,
            sum = s::LATENCY_SUM,
            lat_points = points(f::LATENCY, s::LATENCY_POINT, &LATENCY_POINTS),
            fb = f::FIRST_BYTE,
            fbn = s::FIRST_BYTE_N,
            fb_points = points(f::FIRST_BYTE, s::FIRST_BYTE_POINT, &FIRST_BYTE_POINTS),
            keys = keys.join(", "),
        ),
    }
}

/// The percentiles asked of each latency group (besides its min and max): the report's own and
/// enough between them to draw the curve.
pub const LATENCY_POINTS: [u32; 7] = [10, 25, 50, 75, 90, 95, 99];
pub const FIRST_BYTE_POINTS: [u32; 3] = [25, 50, 75];

fn events() -> Query {
    Query { name: EVENTS, body: format!("\n| stats count(*) as {}", s::LINES) }
}

fn usage(p: &str) -> Query {
    let mut keys = vec![f::INFERENCE];
    keys.extend(PRICED);
    Query { name: USAGE, body: format!("{p}\n| stats {} by bin(1d) as {}, {}", sums(), f::DAY, by(&keys)) }
}

/// The keys of every table, per request id seen more than once: a copy redelivered whole falls in
/// one row, whose `n - 1` extra copies `results` takes back out of every table.
fn duplicates(p: &str, metadata: usize) -> Query {
    let mut keys: Vec<String> = vec![f::REQUEST.into(), format!("bin(1m) as {}", f::MINUTE)];
    keys.extend([f::INFERENCE, f::OPERATION, f::ARN].iter().map(|k| k.to_string()));
    keys.extend(PRICED.iter().map(|k| k.to_string()));
    keys.extend((0..metadata).map(metadata_field));
    Query {
        name: DUPLICATES,
        body: format!(
            "{p}\n| stats {sums}, count(m_any_latency) as {n_lat}, sum(m_any_latency) as {sum_lat}, sum({rf}) as {rs}, count({mf}) as {ms} by {keys}\n| filter {req} > 1",
            sums = sums(),
            rf = f::RESERVED,
            rs = s::RESERVED,
            mf = f::MAX_TOKENS,
            ms = s::WITH_MAX_TOKENS,
            n_lat = s::LATENCY_N,
            sum_lat = s::LATENCY_SUM,
            keys = keys.join(", "),
            req = s::REQUESTS,
        ),
    }
}

/// The queries of a check's first pass (its violations are listed by `violations`, once the
/// usage says which (source region, inference region) pairs break the policy).
pub fn check() -> Vec<Query> {
    let p = prelude(&[]);
    vec![events(), usage(&p), duplicates(&p, 0)]
}

/// `prices --check`: usage only.
pub fn usage_only() -> Vec<Query> {
    check()
}

/// The pairs whose requests a policy calls violations, as logged: an inference region (Some),
/// or none logged where the model id says where the call ran (None: the source region).
pub type Pair = (String, Option<String>, String);

/// The requests of the violating pairs, one row each, with only the fields the list shows.
pub fn violations(pairs: &[Pair]) -> Query {
    let p = prelude(&[]);
    let arms: Vec<String> = pairs
        .iter()
        .map(|(source, ir, model_id)| match ir {
            Some(ir) => format!("({} = {} and {} = {})", f::REGION, literal(source), f::INFERENCE, literal(ir)),
            None => format!(
                "({} = {} and not ispresent({}) and {} = {})",
                f::REGION,
                literal(source),
                f::INFERENCE,
                f::MODEL_ID,
                literal(model_id)
            ),
        })
        .collect();
    Query {
        name: VIOLATIONS,
        body: format!(
            // `display`: without it a query that lists events shows every field a `fields` command
            // made (the `fields` page), the parsed event, prompt and all, among them.
            "{p}\n| filter {}\n| fields @timestamp as {at}\n| display {at}, {req}, {r}, {ir}, {id}, {arn}",
            arms.join(" or "),
            at = f::AT,
            req = f::REQUEST,
            r = f::REGION,
            ir = f::INFERENCE,
            id = f::MODEL_ID,
            arn = f::ARN,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_fits_start_query_and_starts_with_its_window() {
        let keys: Vec<String> = (0..8).map(|i| format!("key_{i}")).collect();
        let span = Span { start: 1_794_182_400, end: 1_794_787_200 };
        let mut all = report(&keys);
        all.extend(check());
        all.push(violations(&vec![("eu-west-1".into(), Some("us-east-1".into()), "x".into()); 20]));
        let regions: Vec<String> = (0..30).map(|i| format!("xx-region-{i}")).collect();
        all.extend(routes(&regions, &keys));
        for q in &all {
            let text = q.text(span);
            assert!(
                text.starts_with("filter @timestamp >= 1794182400000 and @timestamp < 1794787200000\n| "),
                "{}",
                q.name
            );
            assert!(text.len() <= MAX_QUERY, "{} is {} characters", q.name, text.len());
        }
    }

    #[test]
    fn a_field_is_read_as_discovered_else_from_the_message() {
        let body = usage(&prelude(&[])).body;
        assert!(body.contains(r#"| parse @message /"inferenceRegion"\s*:\s*"(?<q_inference>[^"]+)"/"#), "{body}");
        assert!(
            body.contains("coalesce(inferenceRegion, m_json.inferenceRegion, q_inference) as m_inference"),
            "{body}"
        );
        assert!(
            body.contains("coalesce(input.inputTokenCount, m_json.input.inputTokenCount, q_in_logged) as m_in_logged"),
            "{body}"
        );
        assert!(body.contains("| fields coalesce(m_in_logged, greatest(m_prompt - coalesce(m_cached, 0), 0)) as m_input, coalesce(m_out_logged, m_completion) as m_output, coalesce(m_read_logged, m_cached) as m_cache_read"), "{body}");
        assert!(
            body.contains(r#"| parse @message /"(?:maxTokens|max_tokens|max_completion_tokens|max_output_tokens|max_new_tokens|maxTokenCount|max_gen_len)"\s*:\s*(?<q_max_tokens>1000000000|[0-9]{1,9})[,}\]\s]/"#),
            "{body}"
        );
        // A stream's latency is in its last chunk: only the expression finds it.
        assert!(body.contains("coalesce(q_stream_latency) as m_stream_latency"), "{body}");
        assert!(body.contains("coalesce(output.outputBodyJson.serviceTier.type, output.outputBodyJson.serviceTier, output.outputBodyJson.service_tier, output.outputBodyJson.usage.service_tier, q_tier) as m_tier"), "{body}");
        assert!(body.ends_with(
            "| stats count(*) as requests, sum(m_input) as input_tokens, sum(m_output) as output_tokens, sum(m_cache_read) as cache_read_tokens, sum(m_writes) as cache_write_tokens, sum(m_writes_1h) as cache_write_1h_tokens by bin(1d) as day, m_inference, m_model, m_region, m_error, m_tier, m_performance, m_long"
        ), "{body}");
        assert!(body.contains("| fields least(greatest(coalesce(m_input, 0) + coalesce(m_cache_read, 0) + m_writes - 200000, 0), 1) as m_long\n"), "{body}");
    }

    #[test]
    fn metadata_keys_and_literals_are_quoted() {
        assert!(metadata_key_ok("cost_center") && metadata_key_ok("team:a-b"));
        for bad in ["", "a b", "a/b", "a`b", "a\"b", "a.b"] {
            assert!(!metadata_key_ok(bad), "{bad}");
        }
        assert_eq!(literal(r#"a"b\c"#), r#""a\"b\\c""#);
        let md = metadata_fields(&["cost_center".to_string()]);
        assert_eq!(md[0].0, "m_md0");
        assert_eq!(md[0].1, "`requestMetadata.cost_center`, m_json.requestMetadata.cost_center");
        let md = metadata_fields(&["team:a-b".to_string()]);
        assert_eq!(md[0].1, "`requestMetadata.team:a-b`, m_json.requestMetadata.`team:a-b`");
    }
}
