//! `&[u8] -> Record`: the one place that knows the JSON shapes of ModelInvocationLog records.
//!
//! Only the fields a Record needs are deserialised; prompt and completion bodies are skipped
//! with `IgnoredAny` (no tree is built for them) and latency is read in the same pass.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::model_id::{canonicalise, route, ModelIdKind, Route};
use super::{Record, RecordedBy, ServiceTier};
use crate::given::profiles::Profiles;

/// Scalar values where mila expects an object or array carry nothing it reads: they are read as
/// `$empty` instead of failing the record.
macro_rules! ignore_scalars {
    ($value:ty, $empty:expr, and strings) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$value, E> {
            Ok($empty)
        }
        ignore_scalars!($value, $empty);
    };
    ($value:ty, $empty:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$value, E> {
            Ok($empty)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$value, E> {
            Ok($empty)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$value, E> {
            Ok($empty)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$value, E> {
            Ok($empty)
        }
        fn visit_unit<E: de::Error>(self) -> Result<$value, E> {
            Ok($empty)
        }
    };
}

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
    // inputBodyJson is an unknown field here, so serde skips it without building it.
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    output_token_count: Option<u64>,
    output_body_s3_path: Option<IgnoredAny>,
    #[serde(borrow)]
    output_body_json: Option<Body<'a>>,
}

/// What mila reads out of an output body, whether it is one object (Converse, InvokeModel)
/// or the array of decoded stream chunks (InvokeModelWithResponseStream).
#[derive(Default, Debug)]
struct Body<'a> {
    converse_latency_ms: Option<u64>,
    stop_reason: Option<Cow<'a, str>>,
    metrics: Option<StreamMetrics>,
    /// Anthropic's `usage.cache_creation` (the last one a stream carries: its final usage).
    cache_creation: Option<CacheCreation>,
    /// The tier the response names, if it names one.
    service_tier: Option<ServiceTier>,
    /// Converse's `performanceConfig.latency` is `optimized`.
    latency_optimized: bool,
}

impl Body<'_> {
    fn tier(&self) -> ServiceTier {
        match self.latency_optimized {
            true => ServiceTier::LatencyOptimized,
            false => self.service_tier.unwrap_or_default(),
        }
    }
}

/// A service tier as a response writes it: a name (`"priority"`) or Converse's object
/// (`{"type": "priority"}`).
struct TierName(ServiceTier);

impl<'de> Deserialize<'de> for TierName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TierVisitor)
    }
}

struct TierVisitor;

impl<'de> Visitor<'de> for TierVisitor {
    type Value = TierName;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a service tier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TierName, E> {
        Ok(TierName(ServiceTier::from_response(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TierName, A::Error> {
        let mut tier = None;
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                "type" => tier = map.next_value::<StrOrSkip>()?.0.map(|s| ServiceTier::from_response(&s)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        tier.map(TierName).ok_or_else(|| de::Error::custom("no type"))
    }
}

/// Converse's `performanceConfig`: only `latency` is read.
#[derive(Deserialize)]
struct PerformanceConfig<'a> {
    #[serde(borrow)]
    latency: Option<Text<'a>>,
}

impl PerformanceConfig<'_> {
    fn optimized(config: Option<Lenient<PerformanceConfig>>) -> bool {
        config.and_then(|c| c.0).and_then(|c| c.latency).is_some_and(|l| l.0.eq_ignore_ascii_case("optimized"))
    }
}

fn tier_of(value: Option<Lenient<TierName>>) -> Option<ServiceTier> {
    value.and_then(|t| t.0).map(|t| t.0)
}

/// Cache writes split by how long they are kept. Numbers only: any other value makes the split
/// absent rather than the record rejected.
#[derive(Deserialize, Default, Debug, Clone, Copy)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

/// A `usage` object (Anthropic's, or Converse's, which has neither field): only its cache-write
/// split and service tier are read, in one pass; any other shape reads as empty. Every Converse
/// body has one, so it is not buffered and read twice as `Lenient` would.
#[derive(Default)]
struct Usage {
    cache_creation: Option<CacheCreation>,
    service_tier: Option<ServiceTier>,
}

impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UsageVisitor)
    }
}

struct UsageVisitor;

impl<'de> Visitor<'de> for UsageVisitor {
    type Value = Usage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a usage object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Usage, A::Error> {
        let mut usage = Usage::default();
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                "cache_creation" => {
                    usage.cache_creation = map.next_value::<Option<Lenient<CacheCreation>>>()?.and_then(|c| c.0)
                }
                "service_tier" => usage.service_tier = tier_of(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(usage)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Usage, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Usage::default())
    }

    ignore_scalars!(Usage, Usage::default(), and strings);
}

impl Usage {
    /// The cache-write split and the tier of a usage object.
    fn read(usage: Option<Usage>) -> (Option<CacheCreation>, Option<ServiceTier>) {
        usage.map_or((None, None), |u| (u.cache_creation, u.service_tier))
    }
}

/// A stream's `message_start` message: only its usage is read; any other shape reads as empty.
#[derive(Default)]
struct StartMessage {
    usage: Option<Usage>,
}

impl<'de> Deserialize<'de> for StartMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StartMessageVisitor)
    }
}

struct StartMessageVisitor;

impl<'de> Visitor<'de> for StartMessageVisitor {
    type Value = StartMessage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stream's message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StartMessage, A::Error> {
        let mut message = StartMessage::default();
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                "usage" => message.usage = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StartMessage, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(StartMessage::default())
    }

    ignore_scalars!(StartMessage, StartMessage::default(), and strings);
}

#[derive(Deserialize, Default, Debug, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct StreamMetrics {
    invocation_latency: Option<u64>,
    first_byte_latency: Option<u64>,
    cache_read_input_token_count: Option<u64>,
    cache_write_input_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseMetrics {
    latency_ms: Option<u64>,
}

/// A chunk's `delta`: only `stop_reason` is read. Its text (the completion) is skipped, never
/// buffered: a visitor instead of `Lenient`, which would scan the text again.
#[derive(Default)]
struct Delta<'a> {
    stop_reason: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Delta<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DeltaVisitor)
    }
}

struct DeltaVisitor;

impl<'de> Visitor<'de> for DeltaVisitor {
    type Value = Delta<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stream delta")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Delta<'de>, A::Error> {
        let mut delta = Delta::default();
        while let Some(key) = map.next_key::<Text>()? {
            if key.0 == "stop_reason" {
                delta.stop_reason = map.next_value::<StrOrSkip>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(delta)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Delta<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Delta::default())
    }

    ignore_scalars!(Delta<'de>, Delta::default(), and strings);
}

const METRICS_KEY: &str = "amazon-bedrock-invocationMetrics";

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an output body")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body<'de>, A::Error> {
        let mut body = Body::default();
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                "metrics" => {
                    if let Some(m) = map.next_value::<Option<Lenient<ConverseMetrics>>>()? {
                        body.converse_latency_ms = m.0.and_then(|m| m.latency_ms);
                    }
                }
                "stopReason" | "stop_reason" => {
                    if let Some(s) = map.next_value::<StrOrSkip>()?.0 {
                        body.stop_reason = Some(s);
                    }
                }
                METRICS_KEY => body.metrics = map.next_value::<Option<StreamMetrics>>()?,
                "usage" => {
                    let (split, tier) = Usage::read(map.next_value()?);
                    body.cache_creation = split;
                    body.service_tier = tier.or(body.service_tier);
                }
                "serviceTier" | "service_tier" => {
                    body.service_tier = tier_of(map.next_value()?).or(body.service_tier);
                }
                "performanceConfig" => body.latency_optimized = PerformanceConfig::optimized(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(body)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body<'de>, A::Error> {
        let mut body = Body::default();
        while let Some(chunk) = seq.next_element::<Chunk>()? {
            if chunk.metrics.is_some() {
                body.metrics = chunk.metrics;
            }
            if chunk.stop_reason.is_some() {
                body.stop_reason = chunk.stop_reason;
            }
            if chunk.cache_creation.is_some() {
                body.cache_creation = chunk.cache_creation;
            }
            if chunk.service_tier.is_some() {
                body.service_tier = chunk.service_tier;
            }
        }
        Ok(body)
    }

    ignore_scalars!(Body<'de>, Body::default(), and strings);
}

/// One element of a streamed body: metrics on the last chunk, stop reason on `message_delta`,
/// usage on `message_start` (in its message) and on `message_delta`.
#[derive(Default)]
struct Chunk<'a> {
    metrics: Option<StreamMetrics>,
    stop_reason: Option<Cow<'a, str>>,
    cache_creation: Option<CacheCreation>,
    service_tier: Option<ServiceTier>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Chunk<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let body = d.deserialize_any(ChunkVisitor)?;
        Ok(body)
    }
}

struct ChunkVisitor;

impl<'de> Visitor<'de> for ChunkVisitor {
    type Value = Chunk<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stream chunk")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Chunk<'de>, A::Error> {
        let mut chunk = Chunk::default();
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                METRICS_KEY => chunk.metrics = map.next_value::<Option<StreamMetrics>>()?,
                "delta" => chunk.stop_reason = map.next_value::<Delta>()?.stop_reason,
                "usage" | "message" => {
                    let usage = match key.0.as_ref() {
                        "usage" => map.next_value()?,
                        _ => map.next_value::<Option<StartMessage>>()?.and_then(|m| m.usage),
                    };
                    let (split, tier) = Usage::read(usage);
                    chunk.cache_creation = split.or(chunk.cache_creation);
                    chunk.service_tier = tier.or(chunk.service_tier);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(chunk)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunk<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Chunk::default())
    }
    ignore_scalars!(Chunk<'de>, Chunk::default(), and strings);
}

/// Inside a model's own body, shapes vary by provider: a `delta` or `metrics` of an unexpected
/// shape is not the log's fault, so it is read as absent instead of rejecting the record.
/// The value is borrowed raw (no allocation) and read again: these values are a few bytes.
struct Lenient<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de serde_json::value::RawValue = Deserialize::deserialize(d)?;
        Ok(Lenient(serde_json::from_str(raw.get()).ok()))
    }
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
struct StrOrSkip<'a>(Option<Cow<'a, str>>);

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

/// Keeps the borrow when `part` lies inside `whole` (as canonical model ids do).
fn sub<'a>(whole: &Cow<'a, str>, part: &str) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(w) => {
            let start = part.as_ptr() as usize - w.as_ptr() as usize;
            Cow::Borrowed(&w[start..start + part.len()])
        }
        Cow::Owned(_) => Cow::Owned(part.to_string()),
    }
}

/// Parses one line (already without BOM, CR and newline) into a Record.
pub fn parse_line<'a>(line: &'a [u8], profiles: &'a Profiles) -> Result<Record<'a>, Reject> {
    let raw: Raw<'a> = match serde_json::from_slice(line) {
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
    let resolved = resolve(&region, &model_id, raw.inference_region.map(|t| t.0), profiles);

    let input = raw.input.as_ref();
    let output = raw.output;
    let output_tokens = output.as_ref().and_then(|o| o.output_token_count);
    let body_in_s3 = input.is_some_and(|i| i.input_body_s3_path.is_some())
        || output.as_ref().is_some_and(|o| o.output_body_s3_path.is_some());
    let body = output.and_then(|o| o.output_body_json).unwrap_or_default();
    let metrics = body.metrics;
    let cache_read = input
        .and_then(|i| i.cache_read_input_token_count)
        .or_else(|| metrics.and_then(|m| m.cache_read_input_token_count));
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
        model_id_kind: resolved.kind,
        model: resolved.model,
        model_id,
        route: resolved.route,
        inference_region: resolved.ran_in,
        input_tokens: input.and_then(|i| i.input_token_count).unwrap_or(0),
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
    };
    in_range(&record)?;
    Ok(record)
}

/// What a model id and an inference region say about a call, whichever record carries them.
pub(super) struct Resolved<'a> {
    pub kind: ModelIdKind,
    pub model: Cow<'a, str>,
    pub route: Route,
    pub ran_in: Option<Cow<'a, str>>,
}

/// Kind, base model (through the profiles file for application profiles), route and where the
/// call ran (contract section 3), for invocation-log records and CloudTrail events alike.
pub(super) fn resolve<'a>(
    region: &Cow<'a, str>,
    model_id: &Cow<'a, str>,
    inference_region: Option<Cow<'a, str>>,
    profiles: &'a Profiles,
) -> Resolved<'a> {
    let canonical = canonicalise(model_id);
    let (kind, base) = (canonical.kind, canonical.base);
    let profile = match kind {
        ModelIdKind::ApplicationProfile => profiles.get(base),
        _ => None,
    };
    let model = match profile {
        Some(p) => Cow::Borrowed(canonicalise(&p.model).base),
        None => sub(model_id, base),
    };
    let inference_region = inference_region.filter(|r| !r.is_empty());
    let (route, ran_in) = route(region, inference_region.as_deref(), &canonical, profile.map(|p| p.regions.as_slice()));
    let ran_in = match ran_in {
        None => None,
        Some(_) if inference_region.is_some() => inference_region,
        Some(_) => Some(region.clone()),
    };
    Resolved { kind, model, route, ran_in }
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
mod tests {
    use super::*;

    #[test]
    fn latency_table() {
        let cases = [
            ("Converse", Some(842), None, Some(842)),
            ("ConverseStream", Some(302), None, Some(302)),
            ("Converse", None, None, None),
            ("InvokeModel", Some(5), Some(6), None),
            ("InvokeModelWithResponseStream", None, Some(9876), Some(9876)),
            ("InvokeModelWithResponseStream", Some(1), None, None),
            ("ApplyGuardrail", Some(1), Some(2), None),
        ];
        for (op, converse, stream, want) in cases {
            assert_eq!(latency_for(op, converse, stream), want, "{op}");
        }
    }

    #[test]
    fn timestamp_table() {
        let cases = [
            ("2025-10-02T08:14:31Z", Some(1_759_392_871_000)),
            ("2025-10-02T08:14:31.250Z", Some(1_759_392_871_250)),
            ("2025-10-02T08:14:31.250123Z", Some(1_759_392_871_250)),
            ("2025-10-02T10:14:31+02:00", Some(1_759_392_871_000)),
            ("2025-10-02 08:14:31", None),
            ("2025-10-02", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_timestamp_ms(s), want, "{s}");
        }
    }
}
