//! The independent bare scan (scripts/bench): what reading a corpus costs at the least, with
//! none of mila's code. Every `*.json.gz` under the directories is inflated whole (libdeflate)
//! and each line read with sonic-rs' SIMD parser into only the fields a report needs; bodies
//! are skipped, except a stream's metrics and Converse's latency. Two threads share the files.
//! Request ids are deduplicated. Prints the counts `scripts/bench` checks against mila's.
//!
//!   bare-scan [--inflate-only] DIR...
//!
//! `--inflate-only` inflates and counts lines, nothing more: the part of the floor that is gzip.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rec<'a> {
    timestamp: Option<&'a str>,
    request_id: Option<&'a str>,
    region: Option<&'a str>,
    operation: Option<&'a str>,
    model_id: Option<&'a str>,
    inference_region: Option<&'a str>,
    error_code: Option<&'a str>,
    #[serde(borrow)]
    identity: Option<Identity<'a>>,
    input: Option<Input>,
    #[serde(borrow)]
    output: Option<Output<'a>>,
    #[serde(borrow)]
    request_metadata: Option<LazyValue<'a>>,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[allow(dead_code)]
    arn: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    input_token_count: Option<u64>,
    cache_read_input_token_count: Option<u64>,
    cache_write_input_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    output_token_count: Option<u64>,
    #[serde(borrow)]
    output_body_json: Option<LazyValue<'a>>,
}

#[derive(Default)]
struct Counts {
    lines: u64,
    rejected: u64,
    rerouted: u64,
    latency_known: u64,
    invocation_errors: u64,
    tokens: u64,
    ids: HashSet<u128, foldhash::fast::RandomState>,
}

/// Latency as the log writes it: Converse's `metrics.latencyMs`, a stream's last chunk's
/// `amazon-bedrock-invocationMetrics.invocationLatency`.
fn latency(operation: &str, body: &LazyValue) -> Option<u64> {
    match operation {
        "Converse" | "ConverseStream" => body.get("metrics")?.get("latencyMs")?.as_u64(),
        "InvokeModelWithResponseStream" => sonic_rs::to_array_iter(body.as_raw_str()).flatten().find_map(|chunk| {
            chunk.get("amazon-bedrock-invocationMetrics")?.get("invocationLatency")?.as_u64()
        }),
        _ => None,
    }
}

fn id_key(id: &str) -> u128 {
    // Two 64-bit hashes of the id with different seeds: collisions are out of reach for a bench.
    use std::hash::BuildHasher;
    let a = foldhash::quality::FixedState::with_seed(1).hash_one(id);
    let b = foldhash::quality::FixedState::with_seed(2).hash_one(id);
    (u128::from(a) << 64) | u128::from(b)
}

fn scan_line(line: &[u8], c: &mut Counts) {
    c.lines += 1;
    let Ok(r) = sonic_rs::from_slice::<Rec>(line) else {
        c.rejected += 1;
        return;
    };
    let (Some(_), Some(id), Some(region), Some(op), Some(model)) =
        (r.timestamp, r.request_id, r.region, r.operation, r.model_id)
    else {
        c.rejected += 1;
        return;
    };
    if !c.ids.insert(id_key(id)) {
        return;
    }
    std::hint::black_box((&r.identity, &r.request_metadata));
    // A profile's request ran where inferenceRegion says; an in-region model id ran at home.
    if let Some(ran) = r.inference_region {
        c.rerouted += u64::from(ran != region);
    }
    let _ = model;
    if let Some(i) = &r.input {
        c.tokens += i.input_token_count.unwrap_or(0)
            + i.cache_read_input_token_count.unwrap_or(0)
            + i.cache_write_input_token_count.unwrap_or(0);
    }
    match r.error_code {
        Some(_) => c.invocation_errors += 1,
        None => {
            if let Some(o) = &r.output {
                c.tokens += o.output_token_count.unwrap_or(0);
                if o.output_body_json.as_ref().and_then(|b| latency(op, b)).is_some() {
                    c.latency_known += 1;
                }
            }
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "data") {
                files(&p, out);
            }
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
}

/// Every gzip member of `gz` inflated into `out` (libdeflate, a member at a time: delivery
/// objects can hold several). Returns the bytes written.
fn inflate(d: *mut libdeflate_sys::libdeflate_decompressor, gz: &[u8], out: &mut Vec<u8>) -> usize {
    let (mut read, mut written) = (0usize, 0usize);
    while read < gz.len() {
        if out.len() - written < gz.len() * 4 {
            out.resize(written + gz.len() * 8 + 1024, 0);
        }
        let (mut used, mut made) = (0usize, 0usize);
        // SAFETY: the pointers and lengths describe live slices; libdeflate writes within them.
        let r = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                d,
                gz[read..].as_ptr().cast(),
                gz.len() - read,
                out[written..].as_mut_ptr().cast(),
                out.len() - written,
                &mut used,
                &mut made,
            )
        };
        match r {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS => {
                read += used;
                written += made;
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => {
                let len = out.len();
                out.resize(len * 2, 0);
            }
            _ => panic!("not gzip"),
        }
    }
    written
}

fn main() {
    let mut paths = Vec::new();
    let mut inflate_only = false;
    for d in std::env::args_os().skip(1) {
        if d == "--inflate-only" {
            inflate_only = true;
            continue;
        }
        files(Path::new(&d), &mut paths);
    }
    paths.sort();
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Counts::default());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let mut c = Counts::default();
                // SAFETY: a decompressor of this thread's own, freed when it ends.
                let d = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
                let mut buf = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = paths.get(i) else { break };
                    let gz = std::fs::read(p).expect("read");
                    let n = inflate(d, &gz, &mut buf);
                    // memchr finds the line ends with SIMD; a byte-at-a-time split cost a fifth of
                    // the scan.
                    let text = &buf[..n];
                    let mut start = 0;
                    for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(n)) {
                        let line = &text[start..end];
                        start = end + 1;
                        if line.is_empty() {
                            continue;
                        }
                        if inflate_only {
                            c.lines += 1;
                        } else {
                            scan_line(line, &mut c);
                        }
                    }
                }
                unsafe { libdeflate_sys::libdeflate_free_decompressor(d) };
                let mut t = total.lock().unwrap();
                t.lines += c.lines;
                t.rerouted += c.rerouted;
                t.rejected += c.rejected;
                t.latency_known += c.latency_known;
                t.invocation_errors += c.invocation_errors;
                t.tokens += c.tokens;
                // Each thread deduplicates its own records; the union of the sets is the distinct ids
                // (the figure checked against mila's). The other counts may count an id read on
                // both threads twice: they are only there so the fields are really read.
                for id in c.ids {
                    t.ids.insert(id);
                }
            });
        }
    });
    let t = total.into_inner().unwrap();
    println!(
        "{{\"lines\": {}, \"rejected\": {}, \"distinct_ids\": {}, \"rerouted\": {}, \"latency_known\": {}, \"invocation_errors\": {}, \"tokens\": {}}}",
        t.lines,
        t.rejected,
        t.ids.len(),
        t.rerouted,
        t.latency_known,
        t.invocation_errors,
        t.tokens
    );
}
