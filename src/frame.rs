//! Records -> columns. Column names live here and nowhere else; a unit's records become a
//! [`Batch`] on the worker that parsed them, `load` drops repeated request ids ([`Dedupe`]), and a
//! [`Sink`] takes the rest: the whole record frame ([`FrameBuilder`], for `query` and the store)
//! or the report's one-pass tally (`crate::tally`).

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use crate::given::profiles::Profiles;
use crate::record::{Record, RecordedBy};
use crate::resolve::Resolver;
use crate::window::Window;

pub mod col {
    pub const TIMESTAMP: &str = "timestamp";
    pub const REQUEST_ID: &str = "request_id";
    pub const ACCOUNT_ID: &str = "account_id";
    pub const IDENTITY_ARN: &str = "identity_arn";
    /// `check`'s listing: the kind of caller the identity ARN names (`record::caller::CallerKind`).
    pub const CALLER_KIND: &str = "caller_kind";
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
    /// Of the cache-write tokens, those written for one hour (Anthropic's `ephemeral_1h`); the
    /// rest were written for five minutes. They are priced apart.
    pub const CACHE_WRITE_1H_TOKENS: &str = "cache_write_1h_tokens";
    pub const LATENCY_MS: &str = "latency_ms";
    pub const FIRST_BYTE_MS: &str = "first_byte_ms";
    pub const ERROR_CODE: &str = "error_code";
    pub const STOP_REASON: &str = "stop_reason";
    /// How the call was served, as the response says: `standard`, `priority`, `flex`,
    /// `reserved`, `latency-optimized`, or `other` (`record::ServiceTier`).
    pub const SERVICE_TIER: &str = "service_tier";
    /// The caller's `requestMetadata` as a JSON object text with sorted keys.
    pub const REQUEST_METADATA: &str = "request_metadata";
    pub const BODY_IN_S3: &str = "body_in_s3";
    /// `invocation_log` or `cloudtrail` (`RecordedBy::as_str`).
    pub const RECORDED_BY: &str = "recorded_by";
    /// The most output tokens the request allowed (`maxTokens`, `max_tokens` ...); null when
    /// its body names none (or is not logged).
    pub const MAX_TOKENS: &str = "max_tokens";
    /// A CloudTrail event that says its call came with a bearer token (an API key).
    pub const BEARER_TOKEN: &str = "bearer_token";

    /// Every column of the record frame, in contract order (`recorded_by`, `max_tokens` and
    /// `bearer_token` are additions).
    pub const ALL: [&str; 26] = [
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
        CACHE_WRITE_1H_TOKENS,
        LATENCY_MS,
        FIRST_BYTE_MS,
        ERROR_CODE,
        STOP_REASON,
        REQUEST_METADATA,
        SERVICE_TIER,
        BODY_IN_S3,
        RECORDED_BY,
        MAX_TOKENS,
        BEARER_TOKEN,
    ];

    /// What prices a row of usage, callers or metadata besides its tokens, in this order wherever
    /// they travel together.
    pub const PRICED: [&str; 8] =
        [MODEL_ID, MODEL, MODEL_ID_KIND, SOURCE_REGION, ERROR_CODE, SERVICE_TIER, CONTEXT, RECORDED_BY];

    /// The token counts, in this order wherever they travel together.
    pub const TOKENS: [&str; 5] =
        [INPUT_TOKENS, OUTPUT_TOKENS, CACHE_READ_TOKENS, CACHE_WRITE_TOKENS, CACHE_WRITE_1H_TOKENS];

    // Columns of the aggregated tables (`crate::tables`) and of the analyses over them.
    /// How many requests a row stands for.
    pub const REQUESTS: &str = "requests";
    /// Requests by route (`Route::as_str` values are the route column's values).
    pub const LOCAL: &str = "local";
    pub const REROUTED: &str = "rerouted";
    pub const UNKNOWN: &str = "unknown";
    /// Rerouted / requests.
    pub const RATE: &str = "rate";
    /// Start of the UTC day, ms since the epoch.
    pub const DAY: &str = "day";
    /// Start of the UTC minute, ms since the epoch.
    pub const MINUTE: &str = "minute";
    /// A call's size for pricing (`given::prices::Context`: `standard`, or `long` past
    /// `LONG_CONTEXT_TOKENS` of input), worked out from its token counts by every engine.
    pub const CONTEXT: &str = "context";
    /// A `--by-metadata` key and the record's value under it.
    pub const KEY: &str = "key";
    pub const VALUE: &str = "value";
}

/// The string columns kept as dictionaries, in this order (indices into `Batch::strings`).
pub const STRINGS: [&str; 13] = [
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
    col::SERVICE_TIER,
];

/// Index of each string column in `STRINGS`.
pub mod s {
    pub const ACCOUNT: usize = 0;
    pub const IDENTITY: usize = 1;
    pub const SOURCE: usize = 2;
    pub const OPERATION: usize = 3;
    pub const MODEL_ID: usize = 4;
    pub const KIND: usize = 5;
    pub const MODEL: usize = 6;
    pub const ROUTE: usize = 7;
    pub const INFERENCE: usize = 8;
    pub const ERROR: usize = 9;
    pub const STOP: usize = 10;
    pub const METADATA: usize = 11;
    pub const TIER: usize = 12;
}

/// The code of a missing value in a dictionary column.
pub const NULL_CODE: u32 = u32::MAX;

/// A low-cardinality string column: values interned once, rows stored as 4-byte codes.
#[derive(Default)]
pub struct Interned {
    index: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    pub values: Vec<Box<str>>,
    pub codes: Vec<u32>,
}

impl Interned {
    /// The code of `v`, added to the dictionary when new.
    pub fn code(&mut self, v: Option<&str>) -> u32 {
        let Some(v) = v else { return NULL_CODE };
        if let Some(&c) = self.index.get(v) {
            return c;
        }
        let c = self.values.len() as u32;
        self.values.push(v.into());
        self.index.insert(v.into(), c);
        c
    }

    pub fn value(&self, code: u32) -> Option<&str> {
        (code != NULL_CODE).then(|| &*self.values[code as usize])
    }

    /// Appends row `i` of another column, translating its code through `table`.
    fn push_from(&mut self, other: &Interned, i: usize, table: &mut Translation) {
        let c = table.code(self, other, other.codes[i]);
        self.codes.push(c);
    }

    fn finish(self, name: &str) -> PolarsResult<Column> {
        gather(name, self.values.iter().map(|v| &**v), self.codes.into_iter())
    }
}

/// A string column of dictionary `codes` into `values` (`NULL_CODE` is null): a gather from the
/// values, so the rows' string views share the values' bytes instead of each row copying its
/// string (a table of many rows and few distinct strings costs 16 bytes a cell, not the text).
pub fn gather<'a>(
    name: &str,
    values: impl Iterator<Item = &'a str>,
    codes: impl Iterator<Item = u32>,
) -> PolarsResult<Column> {
    let dict = StringChunked::from_iter_values(name.into(), values);
    let idx: IdxCa = codes.map(|c| (c != NULL_CODE).then_some(c as IdxSize)).collect();
    Ok(dict.take(&idx)?.into_series().into())
}

/// Another dictionary's codes -> this one's, filled once per distinct value.
#[derive(Default)]
pub struct Translation(Vec<u32>);

impl Translation {
    pub fn code(&mut self, into: &mut Interned, from: &Interned, theirs: u32) -> u32 {
        if theirs == NULL_CODE {
            return NULL_CODE;
        }
        let slot = theirs as usize;
        if self.0.len() <= slot {
            self.0.resize(from.values.len(), NULL_CODE);
        }
        if self.0[slot] == NULL_CODE {
            self.0[slot] = into.code(from.value(theirs));
        }
        self.0[slot]
    }
}

/// Unique strings (request ids) in one arena: no allocation per row.
#[derive(Default)]
pub struct Arena {
    bytes: String,
    ends: Vec<usize>,
}

impl Arena {
    fn push(&mut self, v: &str) {
        self.bytes.push_str(v);
        self.ends.push(self.bytes.len());
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn finish(self, name: &str) -> Column {
        StringChunked::from_iter_values(name.into(), (0..self.ends.len()).map(|i| self.get(i))).into_series().into()
    }
}

/// 128 bits of a request id (XXH3-128), of which a seen-id set keeps 70: the top `SHARD_BITS`
/// choose its shard and the low 64 are its key (`key`). A collision, which would count a record
/// as a duplicate, has odds of about n^2 / 2^71 (4e-8 for ten million records, 4e-6 for a
/// hundred million); a slot costs 9 bytes, not a full hash's 17, and the sets are most of what a
/// report's memory grows by per record.
fn id_hash(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// What a seen-id set holds of a hash: its low 64 bits.
fn key(h: u128) -> u64 {
    h as u64
}

/// The set of seen request-id hashes: they are uniform already, so they are used as they are.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type IdSet = HashSet<u64, std::hash::BuildHasherDefault<PassThrough>>;

/// Request ids read so far, per kind of record: within a kind the first record read with an id
/// wins and later ones are duplicates. A CloudTrail event whose call has an invocation-log record
/// is that call again (`Seen::Logged`). Which it is must not depend on the order of reading (a
/// trail on standard input, a trail file of no known layout, a store's days either side of
/// midnight). An event whose log record was read already is `Logged` at once; one whose log may
/// still come is held back (`Seen::Later`) until the caller says no more logs can come for it:
/// `seal` (`load`: every unit that can hold log records is read), `settle` (a store read a day at
/// a time: a call's two records lie at most a day apart) or `finish`. What is held is each call
/// once, never the repeats.
/// Each set is split by the hash's top bits into shards that grow one at a time, so growing never
/// holds two copies of the whole set (at a million ids a single table doubling briefly needs
/// 28 MB; the shards, 19 MB).
pub struct Dedupe {
    logs: Vec<IdSet>,
    trail: Vec<IdSet>,
    /// When the input is known ahead (a store), the ids that may occur more than once: any
    /// other is unique, so it is `New` without going into a set (`MayRepeat`).
    may_repeat: Option<IdSet>,
    /// Batches with CloudTrail events not handed on yet, and which of their rows those are.
    held: Vec<(Batch, Vec<bool>)>,
    /// No invocation-log record comes any more: a new CloudTrail event is final as it is read.
    sealed: bool,
    pub duplicates: u64,
    /// CloudTrail events of calls read in the invocation logs.
    pub logged: u64,
}

const SHARD_BITS: u32 = 6;

fn shards() -> Vec<IdSet> {
    (0..1 << SHARD_BITS).map(|_| IdSet::default()).collect()
}

fn shard(h: u128) -> usize {
    (h >> (128 - SHARD_BITS)) as usize
}

impl Default for Dedupe {
    fn default() -> Dedupe {
        Dedupe {
            logs: shards(),
            trail: Vec::new(),
            may_repeat: None,
            held: Vec::new(),
            sealed: false,
            duplicates: 0,
            logged: 0,
        }
    }
}

/// The request ids of an input read twice (a store: ids first, then the records) that may
/// occur more than once: every id that does, and about 1% of the others. A Bloom filter of 10
/// bits an id finds them, so deduplicating a store costs ~1.3 bytes a record, not a set's ~20.
pub struct MayRepeat {
    bits: Vec<u64>,
    mask: u64,
    found: IdSet,
}

/// Probes an id sets: 7 is the optimum for 10 bits an id (a 0.8% false-positive rate).
const PROBES: u64 = 7;

impl MayRepeat {
    /// For about `expected` ids (more only make false positives likelier, never an id missed).
    pub fn new(expected: u64) -> MayRepeat {
        let bits = expected.saturating_mul(10).clamp(1 << 16, 1 << 40).next_power_of_two();
        MayRepeat { bits: vec![0; (bits / 64) as usize], mask: bits - 1, found: IdSet::default() }
    }

    pub fn add(&mut self, id: &str) {
        let h = id_hash(id);
        // Double hashing over the two halves of a uniform 128-bit hash.
        let (a, b) = (h as u64, (h >> 64) as u64 | 1);
        let mut all_set = true;
        for i in 0..PROBES {
            let bit = a.wrapping_add(i.wrapping_mul(b)) & self.mask;
            let (word, m) = ((bit / 64) as usize, 1u64 << (bit % 64));
            all_set &= self.bits[word] & m != 0;
            self.bits[word] |= m;
        }
        if all_set {
            self.found.insert(key(h));
        }
    }

    /// A `Dedupe` that holds only these ids: as exact as one that holds them all.
    pub fn dedupe(self) -> Dedupe {
        Dedupe { may_repeat: Some(self.found), ..Dedupe::default() }
    }
}

/// What a row of a batch is, given everything read before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A call not read before: counted.
    New,
    /// The same record read again (same kind, same request id): dropped.
    Again,
    /// A CloudTrail event of a call read in the invocation logs: kept by the store and by
    /// logging coverage, not counted again.
    Logged,
    /// Not handed on in this pass (a CloudTrail event held until every log is read).
    Later,
}

impl Seen {
    pub fn is_new(self) -> bool {
        self == Seen::New
    }

    /// Whether a store or a record frame keeps the row: each record once per kind.
    pub fn is_kept(self) -> bool {
        matches!(self, Seen::New | Seen::Logged)
    }
}

impl Dedupe {
    /// Hands `batch` to `sink`: its log records now, each request id once; its CloudTrail events
    /// seen before are dropped now, those of calls logged already are handed on as `Logged`, and
    /// the rest are held (`Later`) unless no log can come any more.
    pub fn feed(&mut self, batch: Batch, sink: &mut impl Sink) {
        let seen: Vec<Seen> = batch
            .hashes
            .iter()
            .zip(&batch.recorded_by)
            .map(|(h, by)| match by {
                // Read once in all the input: no other row can meet it.
                _ if self.may_repeat.as_ref().is_some_and(|m| !m.contains(&key(*h))) => match by {
                    RecordedBy::CloudTrail if !self.sealed => Seen::Later,
                    _ => Seen::New,
                },
                RecordedBy::InvocationLog => {
                    let counted = |trail: &[IdSet]| trail.get(shard(*h)).is_some_and(|t| t.contains(&key(*h)));
                    match self.logs[shard(*h)].insert(key(*h)) {
                        // After the seal a call's event is final: a log record of it read
                        // later (a log line in a file of CloudTrail's layout) is not counted twice.
                        true if self.sealed && counted(&self.trail) => Seen::Again,
                        true => Seen::New,
                        false => Seen::Again,
                    }
                }
                RecordedBy::CloudTrail => {
                    if self.trail.is_empty() {
                        self.trail = shards();
                    }
                    if !self.trail[shard(*h)].insert(key(*h)) {
                        Seen::Again
                    } else if self.logs[shard(*h)].contains(&key(*h)) {
                        Seen::Logged
                    } else if self.sealed {
                        Seen::New
                    } else {
                        Seen::Later
                    }
                }
            })
            .collect();
        self.duplicates += seen.iter().filter(|s| **s == Seen::Again).count() as u64;
        self.logged += seen.iter().filter(|s| **s == Seen::Logged).count() as u64;
        if seen.iter().any(|s| s.is_kept()) {
            sink.take(&batch, &seen);
        }
        if seen.contains(&Seen::Later) {
            let held = seen.iter().map(|s| *s == Seen::Later).collect();
            self.held.push((batch, held));
        }
    }

    /// No invocation-log record will be fed any more: the held events are handed on, and new
    /// ones are final as they are read.
    pub fn seal(&mut self, sink: &mut impl Sink) {
        self.finish(sink);
        self.sealed = true;
    }

    /// Hands on the held events of every batch but the last `keep` fed: their calls' log
    /// records, if any, have been read.
    pub fn settle(&mut self, keep: usize, sink: &mut impl Sink) {
        let ready = self.held.len().saturating_sub(keep);
        for (batch, held) in self.held.drain(..ready).collect::<Vec<_>>() {
            let seen: Vec<Seen> = batch
                .hashes
                .iter()
                .zip(&held)
                .map(|(h, held)| match held {
                    false => Seen::Later,
                    true if self.logs[shard(*h)].contains(&key(*h)) => Seen::Logged,
                    true => Seen::New,
                })
                .collect();
            self.logged += seen.iter().filter(|s| **s == Seen::Logged).count() as u64;
            sink.take(&batch, &seen);
        }
    }

    /// Hands on every event held back, now that every log record has been read: each is a call
    /// only in CloudTrail, or the CloudTrail record of a logged one.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        self.settle(0, sink);
    }
}

/// A count as polars' Int64 (counts past `i64::MAX` stay at it).
pub fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// One unit's records as columns, built on the worker that parsed them.
#[derive(Default)]
pub struct Batch {
    hashes: Vec<u128>,
    /// The same hashes as a set: a unit holds each request id once (`push_new`).
    ids: IdSet,
    pub timestamp: Vec<i64>,
    pub request_id: Arena,
    pub strings: [Interned; STRINGS.len()],
    /// input, output, cache read, cache write, of which one-hour writes (`col::TOKENS`)
    pub tokens: [Vec<u64>; col::TOKENS.len()],
    pub latency_ms: Vec<Option<u64>>,
    pub first_byte_ms: Vec<Option<u64>>,
    pub max_tokens: Vec<Option<u64>>,
    pub body_in_s3: Vec<bool>,
    pub recorded_by: Vec<RecordedBy>,
    pub bearer_token: Vec<bool>,
    resolver: Resolver,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.timestamp.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timestamp.is_empty()
    }

    /// Adds `r` unless this batch holds its request id already; whether it did. Its model is
    /// resolved with `profiles`.
    pub fn push_new(&mut self, r: &Record, profiles: &Profiles) -> bool {
        let hash = id_hash(&r.request_id);
        // A call's log record and its CloudTrail event are both kept (`Dedupe` tells them apart).
        let new = self.ids.insert(key(hash) ^ (r.recorded_by == RecordedBy::CloudTrail) as u64);
        if new {
            self.push_hashed(r, hash, profiles);
        }
        new
    }

    pub fn push(&mut self, r: &Record, profiles: &Profiles) {
        self.push_hashed(r, id_hash(&r.request_id), profiles);
    }

    fn push_hashed(&mut self, r: &Record, hash: u128, profiles: &Profiles) {
        let strings: [Option<&str>; STRINGS.len()] = [
            r.account_id.as_deref(),
            r.identity_arn.as_deref(),
            Some(&r.source_region),
            Some(&r.operation),
            Some(&r.model_id),
            None,
            None,
            None,
            None,
            r.error_code.as_deref(),
            r.stop_reason.as_deref(),
            Some(&r.request_metadata),
            Some(r.service_tier.as_str()),
        ];
        let codes = self.codes(strings, r.inference_region.as_deref(), profiles);
        self.push_row(
            (hash, &r.request_id),
            r.timestamp_ms,
            codes,
            r.tokens(),
            [r.latency_ms, r.first_byte_ms, r.max_tokens],
            (r.body_in_s3, r.recorded_by, r.bearer_token),
        );
    }

    /// The dictionary codes of a row's strings. Kind, model, route and inference region are not
    /// read but resolved (`resolve`), from the source region, the model id and the `logged`
    /// inference region.
    fn codes(
        &mut self,
        strings: [Option<&str>; STRINGS.len()],
        logged: Option<&str>,
        profiles: &Profiles,
    ) -> [u32; STRINGS.len()] {
        let mut codes = [NULL_CODE; STRINGS.len()];
        for i in
            [s::ACCOUNT, s::IDENTITY, s::SOURCE, s::OPERATION, s::MODEL_ID, s::ERROR, s::STOP, s::METADATA, s::TIER]
        {
            codes[i] = self.strings[i].code(strings[i]);
        }
        let [_, _, _, _, _, kind, model, route, inference, ..] = &mut self.strings;
        let resolved = self.resolver.codes(
            (strings[s::SOURCE].unwrap_or_default(), codes[s::SOURCE]),
            (strings[s::MODEL_ID].unwrap_or_default(), codes[s::MODEL_ID]),
            logged,
            profiles,
            [kind, model, route, inference],
        );
        codes[s::KIND..=s::INFERENCE].copy_from_slice(&resolved);
        codes
    }

    /// `id`: the request id's hash and the id.
    fn push_row(
        &mut self,
        (hash, request_id): (u128, &str),
        timestamp_ms: i64,
        codes: [u32; STRINGS.len()],
        tokens: [u64; col::TOKENS.len()],
        [latency, first_byte, max_tokens]: [Option<u64>; 3],
        (body_in_s3, recorded_by, bearer_token): (bool, RecordedBy, bool),
    ) {
        self.hashes.push(hash);
        self.timestamp.push(timestamp_ms);
        self.request_id.push(request_id);
        for (c, code) in self.strings.iter_mut().zip(codes) {
            c.codes.push(code);
        }
        for (c, v) in self.tokens.iter_mut().zip(tokens) {
            c.push(v);
        }
        self.latency_ms.push(latency);
        self.first_byte_ms.push(first_byte);
        self.max_tokens.push(max_tokens);
        self.body_in_s3.push(body_in_s3);
        self.recorded_by.push(recorded_by);
        self.bearer_token.push(bearer_token);
    }

    /// The rows of a record frame (a store's day file) in `window`, resolved with `profiles`
    /// (the store keeps application profiles unresolved); returns the batch and how many rows
    /// fell outside the window. The frame has every column of `col::ALL` (`with_all_columns`).
    pub fn from_frame(frame: &DataFrame, window: Window, profiles: &Profiles) -> PolarsResult<(Batch, u64)> {
        let mut batch = Batch::default();
        let ts = timestamps_ms(frame)?;
        let ids = frame.column(col::REQUEST_ID)?.str()?.clone();
        let strings: Vec<StringChunked> =
            STRINGS.iter().map(|c| frame.column(c).and_then(|c| c.str().cloned())).collect::<PolarsResult<_>>()?;
        let ints = |name: &str| -> PolarsResult<Vec<Option<u64>>> {
            let c = frame.column(name)?.cast(&DataType::Int64)?;
            Ok(c.i64()?.iter().map(|v| v.map(|v| v.max(0) as u64)).collect())
        };
        // The frame has every column (`with_all_columns`): an old store's are filled in.
        let tokens: Vec<Vec<Option<u64>>> = col::TOKENS.iter().map(|c| ints(c)).collect::<PolarsResult<_>>()?;
        let (latency, first_byte) = (ints(col::LATENCY_MS)?, ints(col::FIRST_BYTE_MS)?);
        let max_tokens = ints(col::MAX_TOKENS)?;
        let body = frame.column(col::BODY_IN_S3)?.bool()?.clone();
        let bearer = frame.column(col::BEARER_TOKEN)?.bool()?.clone();
        let by = recorded_by_of(frame)?;
        let mut outside = 0;
        // Invocation-log rows first, so a CloudTrail event of the same call meets its log record.
        let mut rows: Vec<usize> = (0..frame.height()).collect();
        rows.sort_by_key(|&i| by[i]);
        for i in rows {
            let Some(t) = ts[i].filter(|t| window.contains(*t)) else {
                outside += 1;
                continue;
            };
            let row: [Option<&str>; STRINGS.len()] = std::array::from_fn(|c| strings[c].get(i));
            // The stored inference region is where the call was found to run, which resolves to
            // itself (`model_id::route`).
            let codes = batch.codes(row, row[s::INFERENCE], profiles);
            let id = ids.get(i).unwrap_or_default();
            batch.push_row(
                (id_hash(id), id),
                t,
                codes,
                std::array::from_fn(|k| tokens[k][i].unwrap_or(0)),
                [latency[i], first_byte[i], max_tokens[i]],
                (body.get(i).unwrap_or(false), by[i], bearer.get(i).unwrap_or(false)),
            );
        }
        Ok((batch, outside))
    }
}

/// What takes the records that survive deduplication, a unit at a time, in input order.
pub trait Sink {
    /// What each row of `batch` is, given the rows read before it.
    fn take(&mut self, batch: &Batch, seen: &[Seen]);
}

/// The whole record frame (contract section 3): for `query` and for the store.
pub struct FrameBuilder {
    timestamp: Vec<i64>,
    request_id: Arena,
    strings: [Interned; STRINGS.len()],
    tokens: [Vec<i64>; col::TOKENS.len()],
    latency_ms: Vec<Option<i64>>,
    first_byte_ms: Vec<Option<i64>>,
    max_tokens: Vec<Option<i64>>,
    body_in_s3: Vec<bool>,
    recorded_by: Vec<RecordedBy>,
    bearer_token: Vec<bool>,
    /// Which columns of `col::ALL` are built (a query needs only those it names); the others
    /// hold nothing. The records are counted by `rows` whatever is kept.
    wanted: [bool; col::ALL.len()],
    rows: usize,
}

impl Default for FrameBuilder {
    fn default() -> FrameBuilder {
        FrameBuilder::only(&col::ALL)
    }
}

impl Sink for FrameBuilder {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        let want = |name: &str| self.wanted[col::ALL.iter().position(|c| *c == name).expect("a column")];
        let (ts, id, latency, first_byte, body, by) = (
            want(col::TIMESTAMP),
            want(col::REQUEST_ID),
            want(col::LATENCY_MS),
            want(col::FIRST_BYTE_MS),
            want(col::BODY_IN_S3),
            want(col::RECORDED_BY),
        );
        let (max_tokens, bearer) = (want(col::MAX_TOKENS), want(col::BEARER_TOKEN));
        let strings: [bool; STRINGS.len()] = std::array::from_fn(|k| want(STRINGS[k]));
        let tokens: [bool; col::TOKENS.len()] = std::array::from_fn(|k| want(col::TOKENS[k]));
        let mut tables: [Translation; STRINGS.len()] = Default::default();
        for (i, _) in seen.iter().enumerate().filter(|(_, s)| s.is_kept()) {
            self.rows += 1;
            if ts {
                self.timestamp.push(batch.timestamp[i]);
            }
            if id {
                self.request_id.push(batch.request_id.get(i));
            }
            for (k, ((c, o), t)) in self.strings.iter_mut().zip(&batch.strings).zip(tables.iter_mut()).enumerate() {
                if strings[k] {
                    c.push_from(o, i, t);
                }
            }
            for (k, (c, o)) in self.tokens.iter_mut().zip(&batch.tokens).enumerate() {
                if tokens[k] {
                    c.push(count(o[i]));
                }
            }
            if latency {
                self.latency_ms.push(batch.latency_ms[i].map(count));
            }
            if first_byte {
                self.first_byte_ms.push(batch.first_byte_ms[i].map(count));
            }
            if max_tokens {
                self.max_tokens.push(batch.max_tokens[i].map(count));
            }
            if body {
                self.body_in_s3.push(batch.body_in_s3[i]);
            }
            if by {
                self.recorded_by.push(batch.recorded_by[i]);
            }
            if bearer {
                self.bearer_token.push(batch.bearer_token[i]);
            }
        }
    }
}

impl FrameBuilder {
    /// A builder of only the `columns` named (of `col::ALL`; others are left out).
    pub fn only(columns: &[&str]) -> FrameBuilder {
        FrameBuilder {
            timestamp: Vec::new(),
            request_id: Arena::default(),
            strings: Default::default(),
            tokens: Default::default(),
            latency_ms: Vec::new(),
            first_byte_ms: Vec::new(),
            max_tokens: Vec::new(),
            body_in_s3: Vec::new(),
            recorded_by: Vec::new(),
            bearer_token: Vec::new(),
            wanted: col::ALL.map(|c| columns.contains(&c)),
            rows: 0,
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let height = self.rows;
        let wanted: Vec<&str> = col::ALL.iter().zip(self.wanted).filter(|(_, w)| *w).map(|(c, _)| *c).collect();
        let want = |name: &str| wanted.contains(&name);
        let mut columns: Vec<Column> = Vec::with_capacity(wanted.len());
        if want(col::TIMESTAMP) {
            columns.push(
                Series::new(col::TIMESTAMP.into(), self.timestamp).into_datetime(TimeUnit::Milliseconds, None).into(),
            );
        }
        if want(col::REQUEST_ID) {
            columns.push(self.request_id.finish(col::REQUEST_ID));
        }
        for (c, name) in self.strings.into_iter().zip(STRINGS).filter(|(_, name)| want(name)) {
            columns.push(c.finish(name)?);
        }
        for (c, name) in self.tokens.into_iter().zip(col::TOKENS).filter(|(_, name)| want(name)) {
            columns.push(Column::new(name.into(), c));
        }
        let rest = [
            (col::LATENCY_MS, Column::new(col::LATENCY_MS.into(), self.latency_ms)),
            (col::FIRST_BYTE_MS, Column::new(col::FIRST_BYTE_MS.into(), self.first_byte_ms)),
            (col::BODY_IN_S3, Column::new(col::BODY_IN_S3.into(), self.body_in_s3)),
            (col::RECORDED_BY, recorded_by_column(self.recorded_by.into_iter())?),
            (col::MAX_TOKENS, Column::new(col::MAX_TOKENS.into(), self.max_tokens)),
            (col::BEARER_TOKEN, Column::new(col::BEARER_TOKEN.into(), self.bearer_token)),
        ];
        columns.extend(rest.into_iter().filter(|(name, _)| want(name)).map(|(_, c)| c));
        DataFrame::new(height, columns)?.select(wanted)
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// The `recorded_by` column of `values`, gathered from the two names.
pub fn recorded_by_column(values: impl Iterator<Item = RecordedBy>) -> PolarsResult<Column> {
    let code = |r: RecordedBy| RecordedBy::ALL.iter().position(|a| *a == r).expect("every kind") as u32;
    gather(col::RECORDED_BY, RecordedBy::ALL.iter().map(|r| r.as_str()), values.map(code))
}

/// Each row's kind of record. Stores written before CloudTrail was read have no such column
/// and hold invocation-log records only.
pub fn recorded_by_of(frame: &DataFrame) -> PolarsResult<Vec<RecordedBy>> {
    Ok(match frame.column(col::RECORDED_BY) {
        Ok(c) => c.str()?.iter().map(|v| v.and_then(RecordedBy::parse).unwrap_or(RecordedBy::InvocationLog)).collect(),
        Err(_) => vec![RecordedBy::InvocationLog; frame.height()],
    })
}

/// The columns a day file written by an older mila may lack: `with_all_columns` fills them in.
pub const ADDED_LATER: [&str; 5] =
    [col::SERVICE_TIER, col::CACHE_WRITE_1H_TOKENS, col::RECORDED_BY, col::MAX_TOKENS, col::BEARER_TOKEN];

/// A record frame with every column of `col::ALL`: an old store's day file gains the columns
/// `ADDED_LATER`.
pub fn with_all_columns(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    // A store from before service tiers were read: its calls were served as standard, as the
    // logs then had no other tier.
    if frame.column(col::SERVICE_TIER).is_err() {
        let standard = crate::record::ServiceTier::Standard.as_str();
        frame.with_column(Column::new(col::SERVICE_TIER.into(), vec![standard; frame.height()]))?;
    }
    if frame.column(col::CACHE_WRITE_1H_TOKENS).is_err() {
        frame.with_column(Column::new(col::CACHE_WRITE_1H_TOKENS.into(), vec![0i64; frame.height()]))?;
    }
    if frame.column(col::RECORDED_BY).is_err() {
        let by = recorded_by_of(&frame)?;
        frame.with_column(Column::new(col::RECORDED_BY.into(), by.iter().map(|r| r.as_str()).collect::<Vec<_>>()))?;
    }
    // A store from before request bodies' most tokens were read: none known.
    if frame.column(col::MAX_TOKENS).is_err() {
        frame.with_column(Column::full_null(col::MAX_TOKENS.into(), frame.height(), &DataType::Int64))?;
    }
    if frame.column(col::BEARER_TOKEN).is_err() {
        frame.with_column(Column::new(col::BEARER_TOKEN.into(), vec![false; frame.height()]))?;
    }
    frame.select(col::ALL)
}

/// The columns of `col::ALL` a projected read (`Store::for_each_day`) left out, as nulls: a
/// column that was asked for and is missing is still an error (`with_all_columns`).
pub fn with_unread_columns(mut frame: DataFrame, read: &[&str]) -> PolarsResult<DataFrame> {
    for name in col::ALL {
        if !read.contains(&name) && frame.column(name).is_err() {
            let dtype = match name {
                col::TIMESTAMP => DataType::Datetime(TimeUnit::Milliseconds, None),
                col::BODY_IN_S3 | col::BEARER_TOKEN => DataType::Boolean,
                n if STRINGS.contains(&n) || n == col::REQUEST_ID => DataType::String,
                _ => DataType::Int64,
            };
            frame.with_column(Column::full_null(name.into(), frame.height(), &dtype))?;
        }
    }
    Ok(frame)
}

/// The day-file columns a record frame of `wanted` columns is made from: those, the ones every
/// row needs (its time, request id and kind, for the window and deduplication) and those the
/// model, its kind and the route are resolved from (which are themselves never read).
pub fn read_for(wanted: &[&str]) -> Vec<&'static str> {
    let always =
        [col::TIMESTAMP, col::REQUEST_ID, col::RECORDED_BY, col::SOURCE_REGION, col::MODEL_ID, col::INFERENCE_REGION];
    let resolved = [col::MODEL_ID_KIND, col::MODEL, col::ROUTE];
    col::ALL.into_iter().filter(|c| always.contains(c) || (wanted.contains(c) && !resolved.contains(c))).collect()
}

/// Each row's timestamp in ms (UTC).
pub fn timestamps_ms(frame: &DataFrame) -> PolarsResult<Vec<Option<i64>>> {
    let ts = frame.column(col::TIMESTAMP)?.as_materialized_series().to_physical_repr().into_owned();
    Ok(ts.i64()?.iter().collect())
}

#[cfg(test)]
mod tests;
