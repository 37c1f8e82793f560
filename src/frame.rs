//! Records -> the polars frame. Column names live here and nowhere else.

use std::collections::{HashMap, HashSet};

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

/// A low-cardinality string column: values interned once, rows stored as 4-byte codes.
/// The polars column is made by gathering from the small dictionary, so its string views share
/// the dictionary's bytes instead of copying every value (memory stays flat per row).
#[derive(Default)]
struct Interned {
    index: HashMap<Box<str>, IdxSize, foldhash::fast::RandomState>,
    values: Vec<Box<str>>,
    codes: Vec<IdxSize>,
}

const NULL_CODE: IdxSize = IdxSize::MAX;

impl Interned {
    fn push(&mut self, v: Option<&str>) {
        let code = match v {
            None => NULL_CODE,
            Some(v) => match self.index.get(v) {
                Some(&c) => c,
                None => {
                    let c = self.values.len() as IdxSize;
                    self.values.push(v.into());
                    self.index.insert(v.into(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }

    fn finish(self, name: &str) -> PolarsResult<Column> {
        let dict = StringChunked::from_iter_values(name.into(), self.values.iter().map(|v| &**v));
        let idx: IdxCa = self.codes.into_iter().map(|c| (c != NULL_CODE).then_some(c)).collect();
        Ok(dict.take(&idx)?.into_series().into())
    }
}

/// Unique strings (request ids) in one arena: no allocation per row.
#[derive(Default)]
struct Arena {
    bytes: String,
    ends: Vec<usize>,
}

impl Arena {
    fn push(&mut self, v: &str) {
        self.bytes.push_str(v);
        self.ends.push(self.bytes.len());
    }

    fn finish(self, name: &str) -> Column {
        let mut start = 0;
        let values = self.ends.iter().map(|&end| {
            let v = &self.bytes[start..end];
            start = end;
            v
        });
        StringChunked::from_iter_values(name.into(), values).into_series().into()
    }
}

/// 128 bits of a request id (XXH3-128). A collision, which would drop a record as a duplicate,
/// has odds of about n^2 / 2^129 (1e-24 for ten million records); the set costs 16 bytes a record.
pub fn id_hash(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// The set of seen request-id hashes: they are uniform already, so they are used as they are.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u128 keys are hashed")
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

type IdSet = HashSet<u128, std::hash::BuildHasherDefault<PassThrough>>;

/// Appends records column by column, dropping repeated request ids (the first one read wins).
#[derive(Default)]
pub struct FrameBuilder {
    seen: IdSet,
    pub duplicates: u64,
    timestamp: Vec<i64>,
    request_id: Arena,
    account_id: Interned,
    identity_arn: Interned,
    source_region: Interned,
    operation: Interned,
    model_id: Interned,
    model_id_kind: Interned,
    model: Interned,
    route: Interned,
    inference_region: Interned,
    input_tokens: Vec<i64>,
    output_tokens: Vec<i64>,
    cache_read_tokens: Vec<i64>,
    cache_write_tokens: Vec<i64>,
    latency_ms: Vec<Option<i64>>,
    first_byte_ms: Vec<Option<i64>>,
    error_code: Interned,
    stop_reason: Interned,
    request_metadata: Interned,
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

    /// Adds a record unless its request id (`id_hash`) was seen before; returns whether it was added.
    pub fn push(&mut self, id_hash: u128, r: &Record) -> bool {
        if !self.seen.insert(id_hash) {
            self.duplicates += 1;
            return false;
        }
        self.timestamp.push(r.timestamp_ms);
        self.request_id.push(&r.request_id);
        self.account_id.push(r.account_id.as_deref());
        self.identity_arn.push(r.identity_arn.as_deref());
        self.source_region.push(Some(&r.source_region));
        self.operation.push(Some(&r.operation));
        self.model_id.push(Some(&r.model_id));
        self.model_id_kind.push(Some(r.model_id_kind.as_str()));
        self.model.push(Some(&r.model));
        self.route.push(Some(r.route.as_str()));
        self.inference_region.push(r.inference_region.as_deref());
        self.input_tokens.push(count(r.input_tokens));
        self.output_tokens.push(count(r.output_tokens));
        self.cache_read_tokens.push(count(r.cache_read_tokens));
        self.cache_write_tokens.push(count(r.cache_write_tokens));
        self.latency_ms.push(r.latency_ms.map(count));
        self.first_byte_ms.push(r.first_byte_ms.map(count));
        self.error_code.push(r.error_code.as_deref());
        self.stop_reason.push(r.stop_reason.as_deref());
        let metadata = if r.request_metadata.is_empty() {
            "{}".to_string()
        } else {
            serde_json::to_string(&r.request_metadata).unwrap_or_default()
        };
        self.request_metadata.push(Some(&metadata));
        self.body_in_s3.push(r.body_in_s3);
        true
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let height = self.timestamp.len();
        let ts = Series::new(col::TIMESTAMP.into(), self.timestamp).into_datetime(TimeUnit::Milliseconds, None);
        let columns: Vec<Column> = vec![
            ts.into(),
            self.request_id.finish(col::REQUEST_ID),
            self.account_id.finish(col::ACCOUNT_ID)?,
            self.identity_arn.finish(col::IDENTITY_ARN)?,
            self.source_region.finish(col::SOURCE_REGION)?,
            self.operation.finish(col::OPERATION)?,
            self.model_id.finish(col::MODEL_ID)?,
            self.model_id_kind.finish(col::MODEL_ID_KIND)?,
            self.model.finish(col::MODEL)?,
            self.route.finish(col::ROUTE)?,
            self.inference_region.finish(col::INFERENCE_REGION)?,
            Column::new(col::INPUT_TOKENS.into(), self.input_tokens),
            Column::new(col::OUTPUT_TOKENS.into(), self.output_tokens),
            Column::new(col::CACHE_READ_TOKENS.into(), self.cache_read_tokens),
            Column::new(col::CACHE_WRITE_TOKENS.into(), self.cache_write_tokens),
            Column::new(col::LATENCY_MS.into(), self.latency_ms),
            Column::new(col::FIRST_BYTE_MS.into(), self.first_byte_ms),
            self.error_code.finish(col::ERROR_CODE)?,
            self.stop_reason.finish(col::STOP_REASON)?,
            self.request_metadata.finish(col::REQUEST_METADATA)?,
            Column::new(col::BODY_IN_S3.into(), self.body_in_s3),
        ];
        DataFrame::new(height, columns)
    }
}
