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

    /// Every column, in contract order.
    pub const ALL: [&str; 21] = [
        TIMESTAMP,
        REQUEST_ID,
        ACCOUNT_ID,
        IDENTITY_ARN,
        SOURCE_REGION,
        OPERATION,
        MODEL_ID,
        MODEL_ID_KIND,
        MODEL,
        ROUTE,
        INFERENCE_REGION,
        INPUT_TOKENS,
        OUTPUT_TOKENS,
        CACHE_READ_TOKENS,
        CACHE_WRITE_TOKENS,
        LATENCY_MS,
        FIRST_BYTE_MS,
        ERROR_CODE,
        STOP_REASON,
        REQUEST_METADATA,
        BODY_IN_S3,
    ];
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
    fn code(&mut self, v: Option<&str>) -> IdxSize {
        let Some(v) = v else { return NULL_CODE };
        if let Some(&c) = self.index.get(v) {
            return c;
        }
        let c = self.values.len() as IdxSize;
        self.values.push(v.into());
        self.index.insert(v.into(), c);
        c
    }

    fn push(&mut self, v: Option<&str>) {
        let c = self.code(v);
        self.codes.push(c);
    }

    /// Appends row `i` of another column, translating its code through `table` (other's code ->
    /// this column's code), which fills once per distinct value.
    fn push_from(&mut self, other: &Interned, i: usize, table: &mut Vec<IdxSize>) {
        let theirs = other.codes[i];
        if theirs == NULL_CODE {
            self.codes.push(NULL_CODE);
            return;
        }
        let slot = theirs as usize;
        if table.len() <= slot {
            table.resize(other.values.len(), NULL_CODE);
        }
        if table[slot] == NULL_CODE {
            table[slot] = self.code(Some(&other.values[slot]));
        }
        self.codes.push(table[slot]);
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

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn finish(self, name: &str) -> Column {
        StringChunked::from_iter_values(name.into(), (0..self.ends.len()).map(|i| self.get(i))).into_series().into()
    }
}

/// 128 bits of a request id (XXH3-128). A collision, which would drop a record as a duplicate,
/// has odds of about n^2 / 2^129 (1e-24 for ten million records); the set costs 16 bytes a record.
fn id_hash(id: &str) -> u128 {
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

/// The string columns kept as dictionaries, in this order.
const INTERNED: [&str; 12] = [
    col::ACCOUNT_ID,
    col::IDENTITY_ARN,
    col::SOURCE_REGION,
    col::OPERATION,
    col::MODEL_ID,
    col::MODEL_ID_KIND,
    col::MODEL,
    col::ROUTE,
    col::INFERENCE_REGION,
    col::ERROR_CODE,
    col::STOP_REASON,
    col::REQUEST_METADATA,
];

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Column storage, for one unit's batch and for the whole frame alike.
#[derive(Default)]
struct Columns {
    timestamp: Vec<i64>,
    request_id: Arena,
    strings: [Interned; INTERNED.len()],
    /// input, output, cache read, cache write
    tokens: [Vec<i64>; 4],
    latency_ms: Vec<Option<i64>>,
    first_byte_ms: Vec<Option<i64>>,
    body_in_s3: Vec<bool>,
}

impl Columns {
    fn push(&mut self, r: &Record) {
        self.timestamp.push(r.timestamp_ms);
        self.request_id.push(&r.request_id);
        let strings: [Option<&str>; INTERNED.len()] = [
            r.account_id.as_deref(),
            r.identity_arn.as_deref(),
            Some(&r.source_region),
            Some(&r.operation),
            Some(&r.model_id),
            Some(r.model_id_kind.as_str()),
            Some(&r.model),
            Some(r.route.as_str()),
            r.inference_region.as_deref(),
            r.error_code.as_deref(),
            r.stop_reason.as_deref(),
            Some(&r.request_metadata),
        ];
        for (c, v) in self.strings.iter_mut().zip(strings) {
            c.push(v);
        }
        let tokens = [r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens];
        for (c, v) in self.tokens.iter_mut().zip(tokens) {
            c.push(count(v));
        }
        self.latency_ms.push(r.latency_ms.map(count));
        self.first_byte_ms.push(r.first_byte_ms.map(count));
        self.body_in_s3.push(r.body_in_s3);
    }

    fn push_from(&mut self, other: &Columns, i: usize, tables: &mut [Vec<IdxSize>; INTERNED.len()]) {
        self.timestamp.push(other.timestamp[i]);
        self.request_id.push(other.request_id.get(i));
        for ((c, o), t) in self.strings.iter_mut().zip(&other.strings).zip(tables.iter_mut()) {
            c.push_from(o, i, t);
        }
        for (c, o) in self.tokens.iter_mut().zip(&other.tokens) {
            c.push(o[i]);
        }
        self.latency_ms.push(other.latency_ms[i]);
        self.first_byte_ms.push(other.first_byte_ms[i]);
        self.body_in_s3.push(other.body_in_s3[i]);
    }

    fn finish(self) -> PolarsResult<DataFrame> {
        let height = self.timestamp.len();
        let mut columns: Vec<Column> = Vec::with_capacity(col::ALL.len());
        columns.push(
            Series::new(col::TIMESTAMP.into(), self.timestamp).into_datetime(TimeUnit::Milliseconds, None).into(),
        );
        columns.push(self.request_id.finish(col::REQUEST_ID));
        for (c, name) in self.strings.into_iter().zip(INTERNED) {
            columns.push(c.finish(name)?);
        }
        let token_names = [col::INPUT_TOKENS, col::OUTPUT_TOKENS, col::CACHE_READ_TOKENS, col::CACHE_WRITE_TOKENS];
        for (c, name) in self.tokens.into_iter().zip(token_names) {
            columns.push(Column::new(name.into(), c));
        }
        columns.push(Column::new(col::LATENCY_MS.into(), self.latency_ms));
        columns.push(Column::new(col::FIRST_BYTE_MS.into(), self.first_byte_ms));
        columns.push(Column::new(col::BODY_IN_S3.into(), self.body_in_s3));
        DataFrame::new(height, columns)?.select(col::ALL)
    }
}

/// One unit's records, built on the worker that parsed them, with their request-id hashes.
#[derive(Default)]
pub struct Batch {
    hashes: Vec<u128>,
    cols: Columns,
}

impl Batch {
    pub fn push(&mut self, r: &Record) {
        self.hashes.push(id_hash(&r.request_id));
        self.cols.push(r);
    }
}

/// Merges batches in input order, dropping repeated request ids (the first one read wins).
#[derive(Default)]
pub struct FrameBuilder {
    seen: IdSet,
    pub duplicates: u64,
    cols: Columns,
}

impl FrameBuilder {
    pub fn append(&mut self, batch: &Batch) {
        let mut tables: [Vec<IdxSize>; INTERNED.len()] = Default::default();
        for (i, hash) in batch.hashes.iter().enumerate() {
            if self.seen.insert(*hash) {
                self.cols.push_from(&batch.cols, i, &mut tables);
            } else {
                self.duplicates += 1;
            }
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        self.cols.finish()
    }
}

/// Each row's timestamp in ms (UTC).
pub fn timestamps_ms(frame: &DataFrame) -> PolarsResult<Vec<Option<i64>>> {
    let ts = frame.column(col::TIMESTAMP)?.as_materialized_series().to_physical_repr().into_owned();
    Ok(ts.i64()?.iter().collect())
}

/// The rows whose timestamp falls in the window.
pub fn within(frame: &DataFrame, window: crate::window::Window) -> PolarsResult<DataFrame> {
    if window.since.is_none() && window.until.is_none() {
        return Ok(frame.clone());
    }
    let mask: BooleanChunked =
        timestamps_ms(frame)?.into_iter().map(|t| t.is_some_and(|t| window.contains(t))).collect();
    frame.filter(&mask)
}
