//! A parsed invocation: the typed row, with no prompt or completion text in it.

/// Scalar values where mila expects an object or array carry nothing it reads: they are read as
/// `$empty` instead of failing the record.
// Defined before the modules that use it (a macro is in scope after its definition).
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

pub mod batch;
pub mod body;
pub mod caller;
pub mod model_id;
pub mod parse;
pub mod trail;

use std::borrow::Cow;

pub use model_id::{ModelIdKind, Route};
pub use parse::{parse_line, Reject};

/// The operations Bedrock's invocation logs were written for when mila was made. Any other
/// (the OpenAI-compatible Chat Completions and Responses calls on bedrock-runtime, say) is kept
/// under its own name, counted, and shown as not known.
pub const KNOWN_OPERATIONS: [&str; 4] = ["Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"];

/// One ModelInvocationLog record (or CloudTrail event) as the frame needs it (contract section
/// 3), its model id as logged: kind, model and route are resolved where records meet their
/// unit's columns (`crate::resolve`). Strings borrow from the line wherever JSON escapes allow,
/// so parsing allocates little.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    pub request_id: Cow<'a, str>,
    pub account_id: Option<Cow<'a, str>>,
    pub identity_arn: Option<Cow<'a, str>>,
    pub source_region: Cow<'a, str>,
    pub operation: Cow<'a, str>,
    pub model_id: Cow<'a, str>,
    /// As logged (`inferenceRegion`, CloudTrail's `additionalEventData.inferenceRegion`).
    pub inference_region: Option<Cow<'a, str>>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Of `cache_write_tokens`, those written for one hour.
    pub cache_write_1h_tokens: u64,
    pub latency_ms: Option<u64>,
    pub first_byte_ms: Option<u64>,
    pub error_code: Option<Cow<'a, str>>,
    pub stop_reason: Option<Cow<'a, str>>,
    /// The caller's `requestMetadata` as a JSON object with sorted keys (`{}` when absent).
    pub request_metadata: Cow<'a, str>,
    pub body_in_s3: bool,
    pub recorded_by: RecordedBy,
    pub service_tier: ServiceTier,
    /// The most output tokens the request allowed (`body::MAX_TOKENS_PATHS`): with its input, what
    /// Bedrock reserves of a tokens-per-minute quota when the call starts.
    pub max_tokens: Option<u64>,
    /// A CloudTrail event that says the call came with a bearer token (an API key:
    /// `additionalEventData.callWithBearerToken` is `true`); never an invocation-log record.
    pub bearer_token: bool,
}

/// How a call was served, as its response says (Converse's `serviceTier.type` and
/// `performanceConfig.latency`, an OpenAI-style body's `service_tier`, Anthropic's
/// `usage.service_tier`). It changes the price; a call that says nothing was standard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceTier {
    #[default]
    Standard,
    Priority,
    Flex,
    Reserved,
    LatencyOptimized,
    /// A batch inference job's records: priced by a prices file's `batch` rows. No invocation log
    /// names it (`from_response` never gives it).
    Batch,
    /// A tier name mila does not know: priced only by a `*` row, never as standard.
    Other,
}

impl ServiceTier {
    pub const ALL: [ServiceTier; 7] = [
        ServiceTier::Standard,
        ServiceTier::Priority,
        ServiceTier::Flex,
        ServiceTier::Reserved,
        ServiceTier::LatencyOptimized,
        ServiceTier::Batch,
        ServiceTier::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Priority => "priority",
            ServiceTier::Flex => "flex",
            ServiceTier::Reserved => "reserved",
            ServiceTier::LatencyOptimized => "latency-optimized",
            ServiceTier::Batch => "batch",
            ServiceTier::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceTier> {
        ServiceTier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The tier names responses write (lowercase), and the tier each means: `default` is
    /// Bedrock's word for standard. Any other name is `Other`. The Athena SQL maps from this too.
    pub const RESPONSE_NAMES: [(&'static str, ServiceTier); 7] = [
        ("default", ServiceTier::Standard),
        ("standard", ServiceTier::Standard),
        ("on_demand", ServiceTier::Standard),
        ("on-demand", ServiceTier::Standard),
        ("priority", ServiceTier::Priority),
        ("flex", ServiceTier::Flex),
        ("reserved", ServiceTier::Reserved),
    ];

    /// A tier as a response names it.
    pub fn from_response(name: &str) -> ServiceTier {
        let name = name.trim().to_ascii_lowercase();
        ServiceTier::RESPONSE_NAMES.iter().find(|(n, _)| *n == name).map_or(ServiceTier::Other, |(_, t)| *t)
    }
}

impl Record<'_> {
    /// The token counts in `frame::col::TOKENS` order.
    pub fn tokens(&self) -> [u64; 5] {
        [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.cache_write_1h_tokens,
        ]
    }
}

/// Which record of a call this is: its invocation-log record, or its CloudTrail event (which
/// has no tokens, latency or bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordedBy {
    InvocationLog,
    CloudTrail,
}

impl RecordedBy {
    pub const ALL: [RecordedBy; 2] = [RecordedBy::InvocationLog, RecordedBy::CloudTrail];

    /// The `recorded_by` column's values.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordedBy::InvocationLog => "invocation_log",
            RecordedBy::CloudTrail => "cloudtrail",
        }
    }

    pub fn parse(s: &str) -> Option<RecordedBy> {
        RecordedBy::ALL.into_iter().find(|r| r.as_str() == s)
    }
}
