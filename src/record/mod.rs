//! A parsed invocation: the typed row, with no prompt or completion text in it.

pub mod model_id;
pub mod parse;

use std::collections::BTreeMap;

pub use model_id::{ModelIdKind, Route};
pub use parse::{parse_line, Reject};

/// One ModelInvocationLog record as the frame needs it (contract section 3).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    pub request_id: String,
    pub account_id: Option<String>,
    pub identity_arn: Option<String>,
    pub source_region: String,
    pub operation: String,
    pub model_id: String,
    pub model_id_kind: ModelIdKind,
    pub model: String,
    pub route: Route,
    pub inference_region: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub latency_ms: Option<u64>,
    pub first_byte_ms: Option<u64>,
    pub error_code: Option<String>,
    pub stop_reason: Option<String>,
    pub request_metadata: BTreeMap<String, String>,
    pub body_in_s3: bool,
}
