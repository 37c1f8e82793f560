//! Sources -> records -> frame. Units are read and parsed on all cores, then merged in input
//! order so that "the first one read wins" is deterministic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use polars::prelude::DataFrame;

use crate::frame::{Batch, FrameBuilder};
use crate::inputs::profiles::Profiles;
use crate::record::parse_line;
use crate::source::decode::{self, Compression};
use crate::source::{file, Origin, Problem, SourceSpec, Unit};
use crate::window::Window;

/// How many locations to keep for each kind of rejected line.
pub const FIRST_LOCATIONS: usize = 5;

/// Everything the summary says about the input itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LoadStats {
    /// Non-blank lines read, not counting records outside the window.
    pub lines: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub outside_window: u64,
    pub units_read: u64,
    pub skipped_objects: u64,
    pub skipped_examples: Vec<String>,
    /// Rejections by reason, with the first locations of each.
    pub rejects: BTreeMap<String, RejectGroup>,
    /// Units that could not be read, or not to their end.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RejectGroup {
    pub count: u64,
    pub first: Vec<String>,
}

impl LoadStats {
    pub fn parsed(&self) -> u64 {
        self.lines - self.rejected
    }

    fn reject(&mut self, reason: String, origin: &Origin) {
        self.rejected += 1;
        let group = self.rejects.entry(reason).or_default();
        group.count += 1;
        if group.first.len() < FIRST_LOCATIONS {
            group.first.push(origin.to_string());
        }
    }
}

/// What one unit yielded.
#[derive(Default)]
struct UnitResult {
    /// The unit's records as columns, built here on the worker.
    batch: Batch,
    stats: LoadStats,
}

pub struct Loaded {
    pub frame: DataFrame,
    pub stats: LoadStats,
}

pub fn load(sources: &[SourceSpec], window: Window, profiles: &Profiles) -> anyhow::Result<Loaded> {
    let expanded = file::expand(sources)?;
    let mut stats = LoadStats {
        skipped_objects: expanded.skipped.len() as u64,
        skipped_examples: expanded.skipped.iter().take(FIRST_LOCATIONS).map(|p| p.display().to_string()).collect(),
        problems: expanded.problems,
        ..LoadStats::default()
    };
    let mut builder = FrameBuilder::default();
    for_each_in_order(
        &expanded.units,
        |u| read_unit(u, window, profiles),
        |r| {
            merge(&mut stats, r.stats);
            builder.append(&r.batch);
        },
    );
    stats.duplicates = builder.duplicates;
    let frame = builder.finish()?;
    Ok(Loaded { frame, stats })
}

/// Runs `work` on every item on all cores and hands the results to `merge` in input order, as
/// they complete. Workers stay at most `WINDOW` items ahead of the merge, which bounds memory.
fn for_each_in_order<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync, mut merge: impl FnMut(R)) {
    use std::collections::BTreeMap;
    use std::sync::{mpsc, Condvar, Mutex};
    const WINDOW: usize = 16;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(items.len().max(1));
    // (next item to hand out, items merged so far)
    let progress = Mutex::new((0usize, 0usize));
    let advanced = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (progress, advanced, work) = (&progress, &advanced, &work);
            scope.spawn(move || loop {
                let index = {
                    let mut p = progress.lock().expect("no worker panics while holding the lock");
                    while p.0 < items.len() && p.0 >= p.1 + WINDOW {
                        p = advanced.wait(p).expect("lock");
                    }
                    if p.0 >= items.len() {
                        return;
                    }
                    p.0 += 1;
                    p.0 - 1
                };
                if tx.send((index, work(&items[index]))).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for (index, result) in rx {
            pending.insert(index, result);
            while let Some(result) = pending.remove(&next) {
                merge(result);
                next += 1;
                progress.lock().expect("lock").1 = next;
                advanced.notify_all();
            }
        }
    });
}

fn merge(into: &mut LoadStats, from: LoadStats) {
    into.lines += from.lines;
    into.rejected += from.rejected;
    into.outside_window += from.outside_window;
    into.units_read += from.units_read;
    for (reason, g) in from.rejects {
        let group = into.rejects.entry(reason).or_default();
        group.count += g.count;
        let room = FIRST_LOCATIONS.saturating_sub(group.first.len());
        group.first.extend(g.first.into_iter().take(room));
    }
    into.problems.extend(from.problems);
}

/// Objects up to this size (compressed) are read and inflated whole, which is fastest; larger
/// files, and objects that inflate past `INFLATED_LIMIT`, stream instead, so memory stays bounded.
const WHOLE_OBJECT_LIMIT: u64 = 8 << 20;
const INFLATED_LIMIT: usize = 64 << 20;
/// Buffers grown past this by a large object are released afterwards.
const KEEP_BUFFER: usize = 16 << 20;

thread_local! {
    /// Per-worker buffers for whole objects, reused from one object to the next.
    static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn read_unit(unit: &Unit, window: Window, profiles: &Profiles) -> UnitResult {
    let name = unit.name();
    let mut out = UnitResult::default();
    let problem = |message: String| Problem { unit: name.clone(), message };
    let mut file = match unit {
        Unit::Stdin => {
            stream_lines(&name, std::io::stdin().lock(), window, profiles, &mut out);
            return out;
        }
        Unit::File(path) => match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                out.stats.problems.push(problem(format!("cannot open: {e}")));
                return out;
            }
        },
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    if size == 0 && matches!(unit, Unit::File(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))) {
        out.stats.problems.push(problem("empty file (0 bytes) where a gzip object was expected".into()));
        return out;
    }
    if size > WHOLE_OBJECT_LIMIT {
        stream_lines(&name, file, window, profiles, &mut out);
        return out;
    }
    BUFFERS.with_borrow_mut(|(raw, inflated)| {
        raw.clear();
        if let Err(e) = file.read_to_end(raw) {
            out.stats.problems.push(problem(format!("cannot read: {e}")));
            return;
        }
        out.stats.units_read = 1;
        let text: &[u8] = match decode::detect(raw) {
            Compression::None => raw,
            Compression::Gzip => match decode::gunzip_all(raw, inflated, INFLATED_LIMIT) {
                Ok(()) => inflated,
                Err(_) => {
                    // Too large to hold, or damaged: stream it instead, which also keeps every
                    // line before any damage and says where it stopped.
                    inflated.clear();
                    out.stats.units_read = 0;
                    stream_lines(&name, &raw[..], window, profiles, &mut out);
                    return;
                }
            },
        };
        decode::for_each_line_in(text, |n, line| take_line(&name, n, line, window, profiles, &mut out));
    });
    BUFFERS.with_borrow_mut(|(raw, inflated)| {
        for buf in [raw, inflated] {
            if buf.capacity() > KEEP_BUFFER {
                *buf = Vec::new();
            }
        }
    });
    out
}

fn take_line(name: &Arc<str>, n: u64, line: &[u8], window: Window, profiles: &Profiles, out: &mut UnitResult) {
    match parse_line(line, profiles) {
        Ok(rec) if window.contains(rec.timestamp_ms) => {
            out.stats.lines += 1;
            out.batch.push(&rec);
        }
        Ok(_) => out.stats.outside_window += 1,
        Err(reject) => {
            out.stats.lines += 1;
            out.stats.reject(reject.kind(), &Origin { unit: name.clone(), line: n });
        }
    }
}

/// Reads a unit as a stream: standard input, files too big to hold, and damaged objects.
fn stream_lines(name: &Arc<str>, reader: impl Read, window: Window, profiles: &Profiles, out: &mut UnitResult) {
    let problem = |message: String| Problem { unit: name.clone(), message };
    let (compression, mut lines) = match decode::decompressed(reader) {
        Ok(x) => x,
        Err(e) => {
            out.stats.problems.push(problem(format!("cannot read: {e}")));
            return;
        }
    };
    out.stats.units_read = 1;
    let (_, failure) = decode::for_each_line(&mut lines, |n, line| take_line(name, n, line, window, profiles, out));
    if let Some(f) = failure {
        let what = match compression {
            Compression::Gzip => "gzip stream is corrupt or truncated",
            Compression::None => "read failed",
        };
        out.stats
            .problems
            .push(problem(format!("{what} at line {}: {}; lines before it were read", f.at_line, f.error)));
        if f.partial_line {
            // The cut-off line is counted and located, not silently dropped.
            out.stats.lines += 1;
            out.stats.reject("cut off by a read error".into(), &Origin { unit: name.clone(), line: f.at_line });
        }
    }
}
