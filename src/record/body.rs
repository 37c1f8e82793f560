//! The bodies of a record's `output`: one object (Converse, InvokeModel) or the array of a
//! stream's decoded chunks (InvokeModelWithResponseStream). Only what mila reads is kept:
//! latency, stream metrics, stop reason, cache-write split and service tier; the text is skipped.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::parse::{StrOrSkip, Text};
use super::ServiceTier;

/// What mila reads out of an output body, whether it is one object (Converse, InvokeModel)
/// or the array of decoded stream chunks (InvokeModelWithResponseStream).
#[derive(Default, Debug)]
pub(super) struct Body<'a> {
    pub(super) converse_latency_ms: Option<u64>,
    pub(super) stop_reason: Option<Cow<'a, str>>,
    pub(super) metrics: Option<StreamMetrics>,
    /// Anthropic's `usage.cache_creation` (the last one a stream carries: its final usage).
    pub(super) cache_creation: Option<CacheCreation>,
    /// The tier the response names, if it names one.
    pub(super) service_tier: Option<ServiceTier>,
    /// Converse's `performanceConfig.latency` is `optimized`.
    pub(super) latency_optimized: bool,
    /// The counts of an OpenAI-shaped `usage` (the last a stream carries).
    pub(super) openai: OpenAiUsage,
}

impl Body<'_> {
    pub(super) fn tier(&self) -> ServiceTier {
        match self.latency_optimized {
            true => ServiceTier::LatencyOptimized,
            false => self.service_tier.unwrap_or_default(),
        }
    }
}

/// A service tier as a response writes it: a name (`"priority"`) or Converse's object
/// (`{"type": "priority"}`).
pub(super) struct TierName(ServiceTier);

impl<'de> Deserialize<'de> for TierName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TierVisitor)
    }
}

pub(super) struct TierVisitor;

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
pub(super) struct PerformanceConfig<'a> {
    #[serde(borrow)]
    pub(super) latency: Option<Text<'a>>,
}

impl PerformanceConfig<'_> {
    fn optimized(config: Option<Lenient<PerformanceConfig>>) -> bool {
        config.and_then(|c| c.0).and_then(|c| c.latency).is_some_and(|l| l.0.eq_ignore_ascii_case("optimized"))
    }
}

pub(super) fn tier_of(value: Option<Lenient<TierName>>) -> Option<ServiceTier> {
    value.and_then(|t| t.0).map(|t| t.0)
}

/// Cache writes split by how long they are kept. Numbers only: any other value makes the split
/// absent rather than the record rejected.
#[derive(Deserialize, Default, Debug, Clone, Copy)]
pub(super) struct CacheCreation {
    pub(super) ephemeral_5m_input_tokens: Option<u64>,
    pub(super) ephemeral_1h_input_tokens: Option<u64>,
}

/// An OpenAI-shaped `usage` (Chat Completions): `prompt_tokens` (cached ones included),
/// `completion_tokens` and `prompt_tokens_details.cached_tokens`. Read for calls whose log
/// carries no counts of its own (the OpenAI-compatible operations).
#[derive(Default, Debug, Clone, Copy, PartialEq)]
pub(super) struct OpenAiUsage {
    pub(super) prompt: Option<u64>,
    pub(super) completion: Option<u64>,
    pub(super) cached: Option<u64>,
}

impl OpenAiUsage {
    fn is_some(&self) -> bool {
        self.prompt.is_some() || self.completion.is_some()
    }
}

/// `prompt_tokens_details`: only its `cached_tokens`, and only of an object.
struct PromptDetails(Option<u64>);

impl<'de> Deserialize<'de> for PromptDetails {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PromptDetailsVisitor)
    }
}

struct PromptDetailsVisitor;

impl<'de> Visitor<'de> for PromptDetailsVisitor {
    type Value = PromptDetails;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("prompt token details")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PromptDetails, A::Error> {
        let mut cached = None;
        while let Some(key) = map.next_key::<Text>()? {
            match key.0.as_ref() {
                "cached_tokens" => cached = map.next_value::<Whole>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(PromptDetails(cached))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PromptDetails, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PromptDetails(None))
    }
    ignore_scalars!(PromptDetails, PromptDetails(None), and strings);
}

/// A `usage` object (Anthropic's, OpenAI's, or Converse's): its cache-write split, service tier
/// and OpenAI counts are read, in one pass; any other shape reads as empty. Every Converse
/// body has one, so it is not buffered and read twice as `Lenient` would.
#[derive(Default)]
pub(super) struct Usage {
    pub(super) cache_creation: Option<CacheCreation>,
    /// Converse's `cacheDetails`, the same split in another shape.
    pub(super) cache_details: Option<CacheCreation>,
    pub(super) service_tier: Option<ServiceTier>,
    pub(super) openai: OpenAiUsage,
}

/// Converse's `usage.cacheDetails`: `[{"inputTokens": N, "ttl": "1h" | "5m"}]`, one entry a
/// lifetime, 1h first (Bedrock API Reference, `TokenUsage.cacheDetails`, `CacheDetail`). The
/// first entry of each lifetime is read; an entry of another shape, or a count that is no whole
/// number, is none. Nothing of either lifetime reads as no split.
struct CacheDetails(Option<CacheCreation>);

impl<'de> Deserialize<'de> for CacheDetails {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CacheDetailsVisitor)
    }
}

struct CacheDetailsVisitor;

impl<'de> Visitor<'de> for CacheDetailsVisitor {
    type Value = CacheDetails;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("cache details")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CacheDetails, A::Error> {
        let mut split = CacheCreation::default();
        while let Some(entry) = seq.next_element::<Option<Lenient<CacheDetail>>>()? {
            let Some(CacheDetail { input_tokens: Some(Whole(Some(n))), ttl: Some(StrOrSkip(Some(ttl))) }) =
                entry.and_then(|e| e.0)
            else {
                continue;
            };
            match ttl.as_ref() {
                "5m" => split.ephemeral_5m_input_tokens = split.ephemeral_5m_input_tokens.or(Some(n)),
                "1h" => split.ephemeral_1h_input_tokens = split.ephemeral_1h_input_tokens.or(Some(n)),
                _ => {}
            }
        }
        let any = split.ephemeral_5m_input_tokens.is_some() || split.ephemeral_1h_input_tokens.is_some();
        Ok(CacheDetails(any.then_some(split)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CacheDetails, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(CacheDetails(None))
    }
    ignore_scalars!(CacheDetails, CacheDetails(None), and strings);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheDetail<'a> {
    input_tokens: Option<Whole>,
    #[serde(borrow)]
    ttl: Option<StrOrSkip<'a>>,
}

impl<'de> Deserialize<'de> for Usage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UsageVisitor)
    }
}

pub(super) struct UsageVisitor;

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
                "cacheDetails" => usage.cache_details = map.next_value::<CacheDetails>()?.0,
                "service_tier" => usage.service_tier = tier_of(map.next_value()?),
                "prompt_tokens" => usage.openai.prompt = map.next_value::<Whole>()?.0,
                "completion_tokens" => usage.openai.completion = map.next_value::<Whole>()?.0,
                "prompt_tokens_details" => usage.openai.cached = map.next_value::<PromptDetails>()?.0,
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

/// A stream's `message_start` message: only its usage is read; any other shape reads as empty.
#[derive(Default)]
pub(super) struct StartMessage {
    pub(super) usage: Option<Usage>,
}

impl<'de> Deserialize<'de> for StartMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StartMessageVisitor)
    }
}

pub(super) struct StartMessageVisitor;

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
pub(super) struct StreamMetrics {
    pub(super) invocation_latency: Option<u64>,
    pub(super) first_byte_latency: Option<u64>,
    pub(super) cache_read_input_token_count: Option<u64>,
    pub(super) cache_write_input_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConverseMetrics {
    pub(super) latency_ms: Option<u64>,
}

/// A chunk's `delta`: only `stop_reason` is read. Its text (the completion) is skipped, never
/// buffered: a visitor instead of `Lenient`, which would scan the text again.
#[derive(Default)]
pub(super) struct Delta<'a> {
    pub(super) stop_reason: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Delta<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DeltaVisitor)
    }
}

pub(super) struct DeltaVisitor;

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

pub(super) const METRICS_KEY: &str = "amazon-bedrock-invocationMetrics";

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

pub(super) struct BodyVisitor;

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
                    let u = map.next_value::<Option<Usage>>()?.unwrap_or_default();
                    // Anthropic's split, else Converse's `cacheDetails` (a body's own usage only).
                    body.cache_creation = u.cache_creation.or(u.cache_details);
                    body.service_tier = u.service_tier.or(body.service_tier);
                    body.openai = u.openai;
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
            if chunk.openai.is_some() {
                body.openai = chunk.openai;
            }
        }
        Ok(body)
    }

    ignore_scalars!(Body<'de>, Body::default(), and strings);
}

/// One element of a streamed body: metrics on the last chunk, stop reason on `message_delta`,
/// usage on `message_start` (in its message) and on `message_delta`.
#[derive(Default)]
pub(super) struct Chunk<'a> {
    pub(super) metrics: Option<StreamMetrics>,
    pub(super) stop_reason: Option<Cow<'a, str>>,
    pub(super) cache_creation: Option<CacheCreation>,
    pub(super) service_tier: Option<ServiceTier>,
    pub(super) openai: OpenAiUsage,
}

impl<'de: 'a, 'a> Deserialize<'de> for Chunk<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let body = d.deserialize_any(ChunkVisitor)?;
        Ok(body)
    }
}

pub(super) struct ChunkVisitor;

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
                    let u: Usage = usage.unwrap_or_default();
                    chunk.cache_creation = u.cache_creation.or(chunk.cache_creation);
                    chunk.service_tier = u.service_tier.or(chunk.service_tier);
                    if u.openai.is_some() {
                        chunk.openai = u.openai;
                    }
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
pub(super) struct Lenient<T>(pub(super) Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de serde_json::value::RawValue = Deserialize::deserialize(d)?;
        Ok(Lenient(serde_json::from_str(raw.get()).ok()))
    }
}

/// Where request bodies name the most output tokens a call may make (its quota reservation), in
/// the order read when a body names several: Converse's `inferenceConfig.maxTokens`; Anthropic's,
/// OpenAI Chat Completions', Mistral's and Cohere's `max_tokens`; OpenAI's `max_completion_tokens`
/// and (Responses) `max_output_tokens`; Nova's `inferenceConfig.max_new_tokens`; Titan's
/// `textGenerationConfig.maxTokenCount`; Llama's `max_gen_len`. The Athena SQL and the Logs
/// Insights QL read the same list.
pub const MAX_TOKENS_PATHS: [(Option<&str>, &str); 7] = [
    (Some("inferenceConfig"), "maxTokens"),
    (None, "max_tokens"),
    (None, "max_completion_tokens"),
    (None, "max_output_tokens"),
    (Some("inferenceConfig"), "max_new_tokens"),
    (Some("textGenerationConfig"), "maxTokenCount"),
    (None, "max_gen_len"),
];

/// A request body's `MAX_TOKENS_PATHS` values. Only those keys are read; the messages, system
/// prompt and tools are skipped, never buffered.
#[derive(Default, Debug, Clone, Copy, PartialEq)]
pub(super) struct RequestBody([Option<u64>; MAX_TOKENS_PATHS.len()]);

impl RequestBody {
    /// The first of the paths the body names with a usable value.
    pub(super) fn max_tokens(&self) -> Option<u64> {
        self.0.iter().find_map(|v| *v)
    }
}

impl<'de> Deserialize<'de> for RequestBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RequestVisitor { parent: None })
    }
}

/// Reads the keys of `MAX_TOKENS_PATHS` below `parent` (the body itself when none).
struct RequestVisitor {
    parent: Option<&'static str>,
}

impl<'de> de::DeserializeSeed<'de> for RequestVisitor {
    type Value = RequestBody;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RequestBody, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = RequestBody;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a request body")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestBody, A::Error> {
        let mut body = RequestBody::default();
        while let Some(key) = map.next_key::<Text>()? {
            let key = key.0.as_ref();
            if let Some(i) = MAX_TOKENS_PATHS.iter().position(|(p, k)| *p == self.parent && *k == key) {
                // Past `parse::MAX_TOKENS` it is no value either: Bedrock would have refused the
                // call, and the record's own counts are still good, so it is not rejected for it.
                body.0[i] = map.next_value::<Whole>()?.0.filter(|v| *v <= super::parse::MAX_TOKENS);
            } else if let Some(parent) =
                MAX_TOKENS_PATHS.iter().find_map(|(p, _)| p.filter(|p| self.parent.is_none() && *p == key))
            {
                let inner = map.next_value_seed(RequestVisitor { parent: Some(parent) })?;
                for (a, b) in body.0.iter_mut().zip(inner.0) {
                    *a = a.or(b);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(body)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RequestBody, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RequestBody::default())
    }

    ignore_scalars!(RequestBody, RequestBody::default(), and strings);
}

/// A whole number a u64 holds; anything else (a string, a fraction, a negative number, an
/// object) is no value.
pub(super) struct Whole(pub(super) Option<u64>);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor)
    }
}

struct WholeVisitor;

impl<'de> Visitor<'de> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
        Ok(Whole(Some(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Whole, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Whole(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Whole, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Whole(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Whole, E> {
        Ok(Whole(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Whole, E> {
        Ok(Whole(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Whole, E> {
        Ok(Whole(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Whole, E> {
        Ok(Whole(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Whole, E> {
        Ok(Whole(None))
    }
}
