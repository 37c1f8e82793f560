//! Records -> the polars frame. Column names live here and nowhere else.

use std::collections::HashSet;

use polars::prelude::*;

use crate::record::Record;

pub mod col {
    pub const TIMESTAMP: &str = "timestamp";
    pub const REQUEST_ID: &str = "request_id";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const IDENTITY_ARN: &str = "identity_arn";
    pub const SOURCE_REGION: &str = "source_region";
    pub const OPERATION: &str = "operation";
    pub const MODEL_ID: &str = "model_id";
    pub const MODEL_ID_KIND: &str = "model_id_kind";
    pub const MODEL: &str = "model";
    pub const ROUTE: &str = "route";
    pub const INFERENCE_REGION: &str = "inference_region";
    pub const INPUT_TOKENS: &str = "input_tokens";
    pub const OUTPUT_TOKENS: &str = "output_tokens";
    pub const CACHE_READ_TOKENS: &str = "cache_read_tokens";
    pub const CACHE_WRITE_TOKENS: &str = "cache_write_tokens";
    pub const LATENCY_MS: &str = "latency_ms";
    pub const FIRST_BYTE_MS: &str = "first_byte_ms";
    pub const ERROR_CODE: &str = "error_code";
    pub const STOP_REASON: &str = "stop_reason";
    /// The caller's `requestMetadata` as a JSON object text with sorted keys.
    pub const REQUEST_METADATA: &str = "request_metadata";
    pub const BODY_IN_S3: &str = "body_in_s3";
}

/// Appends records column by column, dropping repeated request ids (the first one read wins).
#[derive(Default)]
pub struct FrameBuilder {
    seen: HashSet<Box<str>>,
    pub duplicates: u64,
    timestamp: Vec<i64>,
    request_id: Vec<String>,
    account_id: Vec<Option<String>>,
    identity_arn: Vec<Option<String>>,
    source_region: Vec<String>,
    operation: Vec<String>,
    model_id: Vec<String>,
    model_id_kind: Vec<&'static str>,
    model: Vec<String>,
    route: Vec<&'static str>,
    inference_region: Vec<Option<String>>,
    input_tokens: Vec<i64>,
    output_tokens: Vec<i64>,
    cache_read_tokens: Vec<i64>,
    cache_write_tokens: Vec<i64>,
    latency_ms: Vec<Option<i64>>,
    first_byte_ms: Vec<Option<i64>>,
    error_code: Vec<Option<String>>,
    stop_reason: Vec<Option<String>>,
    request_metadata: Vec<String>,
    body_in_s3: Vec<bool>,
}

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl FrameBuilder {
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }

    /// Adds a record unless its request id was seen before; returns whether it was added.
    pub fn push(&mut self, r: Record) -> bool {
        if !self.seen.insert(r.request_id.as_str().into()) {
            self.duplicates += 1;
            return false;
        }
        self.timestamp.push(r.timestamp_ms);
        self.request_id.push(r.request_id);
        self.account_id.push(r.account_id);
        self.identity_arn.push(r.identity_arn);
        self.source_region.push(r.source_region);
        self.operation.push(r.operation);
        self.model_id.push(r.model_id);
        self.model_id_kind.push(r.model_id_kind.as_str());
        self.model.push(r.model);
        self.route.push(r.route.as_str());
        self.inference_region.push(r.inference_region);
        self.input_tokens.push(count(r.input_tokens));
        self.output_tokens.push(count(r.output_tokens));
        self.cache_read_tokens.push(count(r.cache_read_tokens));
        self.cache_write_tokens.push(count(r.cache_write_tokens));
        self.latency_ms.push(r.latency_ms.map(count));
        self.first_byte_ms.push(r.first_byte_ms.map(count));
        self.error_code.push(r.error_code);
        self.stop_reason.push(r.stop_reason);
        self.request_metadata.push(serde_json::to_string(&r.request_metadata).unwrap_or_default());
        self.body_in_s3.push(r.body_in_s3);
        true
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let height = self.timestamp.len();
        let ts = Series::new(col::TIMESTAMP.into(), self.timestamp).into_datetime(TimeUnit::Milliseconds, None);
        let columns: Vec<Column> = vec![
            ts.into(),
            Column::new(col::REQUEST_ID.into(), self.request_id),
            Column::new(col::ACCOUNT_ID.into(), self.account_id),
            Column::new(col::IDENTITY_ARN.into(), self.identity_arn),
            Column::new(col::SOURCE_REGION.into(), self.source_region),
            Column::new(col::OPERATION.into(), self.operation),
            Column::new(col::MODEL_ID.into(), self.model_id),
            Column::new(col::MODEL_ID_KIND.into(), self.model_id_kind),
            Column::new(col::MODEL.into(), self.model),
            Column::new(col::ROUTE.into(), self.route),
            Column::new(col::INFERENCE_REGION.into(), self.inference_region),
            Column::new(col::INPUT_TOKENS.into(), self.input_tokens),
            Column::new(col::OUTPUT_TOKENS.into(), self.output_tokens),
            Column::new(col::CACHE_READ_TOKENS.into(), self.cache_read_tokens),
            Column::new(col::CACHE_WRITE_TOKENS.into(), self.cache_write_tokens),
            Column::new(col::LATENCY_MS.into(), self.latency_ms),
            Column::new(col::FIRST_BYTE_MS.into(), self.first_byte_ms),
            Column::new(col::ERROR_CODE.into(), self.error_code),
            Column::new(col::STOP_REASON.into(), self.stop_reason),
            Column::new(col::REQUEST_METADATA.into(), self.request_metadata),
            Column::new(col::BODY_IN_S3.into(), self.body_in_s3),
        ];
        DataFrame::new(height, columns)
    }
}
