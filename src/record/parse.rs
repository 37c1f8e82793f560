//! `&[u8] -> Record`: the one place that knows the JSON shapes of ModelInvocationLog records.
//!
//! Only the fields a Record needs are deserialised; prompt and completion bodies are skipped
//! with `IgnoredAny` (no tree is built for them) and latency is read in the same pass.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::body::{Body, RequestBody, METRICS_KEY};
use super::{Record, RecordedBy};

/// Why a line was not taken. Messages name fields and positions, never the line's content,
/// because the content may be prompt text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    #[error("not valid JSON (column {column})")]
    NotJson { column: usize },
    #[error("truncated JSON (line ends inside a value)")]
    Truncated,
    #[error("not a JSON object")]
    NotObject,
    #[error("not a ModelInvocationLog (schemaType is another value)")]
    OtherSchema,
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    #[error("wrong type for field `{0}`")]
    WrongType(String),
    #[error("timestamp is not RFC 3339")]
    BadTimestamp,
    #[error("not a valid record (a field given twice, or a value of an unexpected shape)")]
    Invalid,
    #[error("token count `{0}` above 1,000,000,000 (a thousand times the largest context window)")]
    TooManyTokens(&'static str),
    #[error("latency `{0}` above 86,400,000 ms (a day)")]
    LatencyOutOfRange(&'static str),
}

/// The largest token count one record may carry, and the longest latency: anything past them
/// is a broken or hostile record, rejected rather than summed (sums of a billion records at
/// these limits still fit a u64).
pub const MAX_TOKENS: u64 = 1_000_000_000;
pub const MAX_LATENCY_MS: u64 = 86_400_000;

/// Every number of a record within its limits, or the first field that is not.
pub(super) fn in_range(r: &Record) -> Result<(), Reject> {
    let tokens = [
        (r.input_tokens, "input.inputTokenCount"),
        (r.output_tokens, "output.outputTokenCount"),
        (r.cache_read_tokens, "cacheReadInputTokenCount"),
        (r.cache_write_tokens, "cacheWriteInputTokenCount"),
    ];
    if let Some((_, field)) = tokens.iter().find(|(v, _)| *v > MAX_TOKENS) {
        return Err(Reject::TooManyTokens(field));
    }
    let latencies = [(r.latency_ms, "latency"), (r.first_byte_ms, "firstByteLatency")];
    if let Some((_, field)) = latencies.iter().find(|(v, _)| v.is_some_and(|v| v > MAX_LATENCY_MS)) {
        return Err(Reject::LatencyOutOfRange(field));
    }
    Ok(())
}

impl Reject {
    /// A stable label to count rejections by.
    pub fn kind(&self) -> String {
        match self {
            Reject::NotJson { .. } => "not valid JSON".to_string(),
            other => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(borrow)]
    request_id: Option<Text<'a>>,
    #[serde(borrow)]
    account_id: Option<Text<'a>>,
    #[serde(borrow)]
    region: Option<Text<'a>>,
    #[serde(borrow)]
    operation: Option<Text<'a>>,
    #[serde(borrow)]
    model_id: Option<Text<'a>>,
    #[serde(borrow)]
    inference_region: Option<Text<'a>>,
    #[serde(borrow)]
    error_code: Option<Text<'a>>,
    #[serde(borrow)]
    schema_type: Option<Text<'a>>,
    #[serde(borrow)]
    identity: Option<Identity<'a>>,
    input: Option<Input>,
    #[serde(borrow)]
    output: Option<Output<'a>>,
    #[serde(borrow)]
    request_metadata: Option<BTreeMap<Text<'a>, Text<'a>>>,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(borrow)]
    arn: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    input_token_count: Option<u64>,
    cache_read_input_token_count: Option<u64>,
    cache_write_input_token_count: Option<u64>,
    input_body_s3_path: Option<IgnoredAny>,
    // Only its most-tokens values are read; the rest of it is skipped without being built.
    input_body_json: Option<RequestBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    output_token_count: Option<u64>,
    output_body_s3_path: Option<IgnoredAny>,
    #[serde(borrow)]
    output_body_json: Option<Body<'a>>,
}

/// A JSON string, borrowed where it has no escapes. serde's own `Cow<str>` allocates unless it is
/// a bare field under `#[serde(borrow)]` (not inside an `Option`, a map or a visitor), and these
/// are read for every record.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }
}

/// A string, borrowed where it has no escapes; any other value is skipped and read as absent.
pub(super) struct StrOrSkip<'a>(pub(super) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrOrSkip<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrSkipVisitor)
    }
}

struct StrOrSkipVisitor;

impl<'de> Visitor<'de> for StrOrSkipVisitor {
    type Value = StrOrSkip<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(StrOrSkip(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StrOrSkip(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StrOrSkip(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(StrOrSkip(None))
    }
    ignore_scalars!(StrOrSkip<'de>, StrOrSkip(None));
}

/// Latency by operation (contract section 3): Converse and ConverseStream log `metrics.latencyMs`,
/// InvokeModelWithResponseStream logs `invocationLatency` in its stream metrics, InvokeModel nothing.
pub fn latency_for(operation: &str, converse_latency_ms: Option<u64>, stream_latency_ms: Option<u64>) -> Option<u64> {
    match operation {
        "Converse" | "ConverseStream" => converse_latency_ms,
        "InvokeModelWithResponseStream" => stream_latency_ms,
        _ => None,
    }
}

/// Parses an RFC 3339 timestamp (seconds or fractions, `Z` or an offset) to epoch milliseconds.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_millis())
}

pub(super) fn required<'a>(v: Option<Text<'a>>, name: &'static str) -> Result<Cow<'a, str>, Reject> {
    match v.map(|t| t.0) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(Reject::MissingField(name)),
    }
}

/// Parses one line (already without BOM, CR and newline) into a Record.
pub fn parse_line(line: &[u8]) -> Result<Record<'_>, Reject> {
    let raw: Raw = match serde_json::from_slice(line) {
        Ok(raw) => raw,
        Err(e) => return Err(diagnose(line, &e)),
    };
    if let Some(Text(s)) = &raw.schema_type {
        if s != "ModelInvocationLog" {
            return Err(Reject::OtherSchema);
        }
    }
    let timestamp = required(raw.timestamp, "timestamp")?;
    let request_id = required(raw.request_id, "requestId")?;
    let region = required(raw.region, "region")?;
    let operation = required(raw.operation, "operation")?;
    let model_id = required(raw.model_id, "modelId")?;
    let timestamp_ms = parse_timestamp_ms(&timestamp).ok_or(Reject::BadTimestamp)?;

    let input = raw.input.as_ref();
    let output = raw.output;
    let logged_input = input.and_then(|i| i.input_token_count);
    let output_tokens = output.as_ref().and_then(|o| o.output_token_count);
    let body_in_s3 = input.is_some_and(|i| i.input_body_s3_path.is_some())
        || output.as_ref().is_some_and(|o| o.output_body_s3_path.is_some());
    let body = output.and_then(|o| o.output_body_json).unwrap_or_default();
    let metrics = body.metrics;
    // A count the log does not carry (an OpenAI-compatible call's) is read from the response's
    // OpenAI usage: its prompt tokens less the cached ones (Bedrock's input count leaves cache
    // reads out), its completion tokens, its cached tokens.
    let openai = body.openai;
    let cached = openai.cached;
    let input_tokens = logged_input.or_else(|| openai.prompt.map(|p| p.saturating_sub(cached.unwrap_or(0))));
    let output_tokens = output_tokens.or(openai.completion);
    let cache_read = input
        .and_then(|i| i.cache_read_input_token_count)
        .or_else(|| metrics.and_then(|m| m.cache_read_input_token_count))
        .or(cached);
    // The log's own count, else the stream metrics', else Anthropic's split added up. Of them,
    // the one-hour writes (never more than the whole).
    let split = body.cache_creation;
    let tier = body.tier();
    let cache_write = input
        .and_then(|i| i.cache_write_input_token_count)
        .or_else(|| metrics.and_then(|m| m.cache_write_input_token_count))
        .or_else(|| {
            split.map(|s| {
                s.ephemeral_5m_input_tokens.unwrap_or(0).saturating_add(s.ephemeral_1h_input_tokens.unwrap_or(0))
            })
        });
    let cache_write_1h = split.and_then(|s| s.ephemeral_1h_input_tokens).unwrap_or(0).min(cache_write.unwrap_or(0));
    let request_metadata = match raw.request_metadata {
        Some(m) if !m.is_empty() => {
            let m: BTreeMap<&str, &str> = m.iter().map(|(k, v)| (k.0.as_ref(), v.0.as_ref())).collect();
            Cow::Owned(serde_json::to_string(&m).unwrap_or_default())
        }
        _ => Cow::Borrowed("{}"),
    };

    let record = Record {
        timestamp_ms,
        latency_ms: latency_for(&operation, body.converse_latency_ms, metrics.and_then(|m| m.invocation_latency)),
        request_id,
        account_id: raw.account_id.map(|t| t.0),
        identity_arn: raw.identity.and_then(|i| i.arn).map(|t| t.0),
        source_region: region,
        operation,
        model_id,
        inference_region: raw.inference_region.map(|t| t.0),
        input_tokens: input_tokens.unwrap_or(0),
        output_tokens: output_tokens.unwrap_or(0),
        cache_read_tokens: cache_read.unwrap_or(0),
        cache_write_tokens: cache_write.unwrap_or(0),
        cache_write_1h_tokens: cache_write_1h,
        first_byte_ms: metrics.and_then(|m| m.first_byte_latency),
        error_code: raw.error_code.map(|t| t.0).filter(|s| !s.is_empty()),
        stop_reason: body.stop_reason,
        request_metadata,
        body_in_s3,
        recorded_by: RecordedBy::InvocationLog,
        service_tier: tier,
        max_tokens: input.and_then(|i| i.input_body_json).and_then(|b| b.max_tokens()),
        bearer_token: false,
    };
    in_range(&record)?;
    Ok(record)
}

/// Turns a serde error into a Reject that names the offending field without quoting its value.
/// Runs only on the error path: the line is read again with the same types, tracking the path
/// of keys to the failing value, so no tree is built of it (a body stays skipped).
fn diagnose(line: &[u8], err: &serde_json::Error) -> Reject {
    use serde_json::error::Category;
    match err.classify() {
        Category::Eof => return Reject::Truncated,
        Category::Syntax | Category::Io => return Reject::NotJson { column: err.column() },
        Category::Data => {}
    }
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Reject::NotObject;
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let Err(e) = serde_path_to_error::deserialize::<_, Raw>(&mut de) else {
        return Reject::Invalid;
    };
    let message = e.inner().to_string();
    let wrong_type = ["invalid type", "invalid value", "invalid length"].iter().any(|m| message.starts_with(m));
    let keys = map_keys(e.path());
    match field_name(&keys) {
        Some(field) if wrong_type => Reject::WrongType(field),
        _ => Reject::Invalid,
    }
}

/// The object keys on the way to a failing value (array indices left out).
pub(super) fn map_keys(path: &serde_path_to_error::Path) -> Vec<String> {
    path.iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// The field a reject names, from the keys leading to the failing value: a metadata value is
/// reported as `requestMetadata`, a stream metric as the metrics object.
fn field_name(keys: &[String]) -> Option<String> {
    let cut = match keys.first()?.as_str() {
        "requestMetadata" => 1,
        "output" => keys.iter().position(|k| k == METRICS_KEY).map_or(keys.len(), |i| i + 1),
        _ => keys.len(),
    };
    Some(keys[..cut].join("."))
}

#[cfg(test)]
mod tests;
