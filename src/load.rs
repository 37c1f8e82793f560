//! Sources -> records -> a `Sink`. Units are read and parsed on all cores into column batches,
//! then handed on in input order, each request id once, so that "the first one read wins" is
//! deterministic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Read};
use std::sync::{Arc, Mutex};

use crate::frame::{Batch, Dedupe, Sink};
use crate::given::profiles::Profiles;
use crate::guard;
use crate::progress::Progress;
use crate::record::trail;
use crate::record::{parse_line, Record};
use crate::source::aws::AwsSettings;
use crate::source::decode::{self, Compression, Line};
use crate::source::{self, cloudwatch, file, s3, CloudJob, FetchReport, Origin, Problem, SourceSpec, Unit};
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
    /// CloudTrail events that are not Bedrock runtime calls (other services, other Bedrock
    /// calls), skipped.
    pub other_events: u64,
    /// CloudTrail events of calls read in the invocation logs (counted once, as their log record).
    pub also_logged: u64,
    /// Rejections by reason, with the first locations of each.
    pub rejects: BTreeMap<String, RejectGroup>,
    /// Units that could not be read, or not to their end.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RejectGroup {
    pub count: u64,
    pub first: Vec<String>,
}

impl LoadStats {
    /// Counts the objects or files `skipped`, keeping the first few names, and adds `problems`.
    pub fn add_skipped(&mut self, skipped: &[String], problems: impl IntoIterator<Item = Problem>) {
        self.skipped_objects += skipped.len() as u64;
        let room = FIRST_LOCATIONS.saturating_sub(self.skipped_examples.len());
        self.skipped_examples.extend(skipped.iter().take(room).cloned());
        self.problems.extend(problems);
    }

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

/// How every line is read: the window it must fall in, the profiles that resolve its model,
/// and the longest line held (longer ones are rejected with their location).
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    pub window: Window,
    pub profiles: &'a Profiles,
    pub max_line: usize,
}

/// The default `--max-line-length`: far above any record Bedrock writes inline (bodies past
/// 100 KB go to `data/` sidecars; CloudWatch events stop at 256 KB).
pub const MAX_LINE: usize = 64 << 20;

/// What one unit yielded.
#[derive(Default)]
struct UnitResult {
    /// The unit's records as columns, built here on the worker, each request id once: a unit
    /// that repeats one record costs one row.
    batch: Batch,
    stats: LoadStats,
    /// Bytes read, as stored (for progress).
    bytes: u64,
}

pub struct Loaded {
    pub stats: LoadStats,
    /// What the cloud sources fetched, for incremental ingest.
    pub fetched: FetchReport,
}

/// Reads local sources, then cloud jobs in order, into `sink`: each request id once, the
/// first read winning. A cloud source that cannot be read at all (no such bucket, no
/// credentials) fails the run; unreadable objects are problems.
pub fn load(
    local: &[SourceSpec],
    cloud: Vec<CloudJob>,
    reading: Reading,
    progress: &mut Progress,
    sink: &mut impl Sink,
) -> anyhow::Result<Loaded> {
    let expanded = file::expand(local)?;
    let mut stats = LoadStats::default();
    stats.add_skipped(&expanded.skipped, expanded.problems);
    let report = Arc::new(Mutex::new(FetchReport::default()));
    let (cloud_trails, cloud): (Vec<CloudJob>, Vec<CloudJob>) = cloud.into_iter().partition(CloudJob::reads_trail);
    let fetch = |jobs: Vec<CloudJob>| {
        let report = report.clone();
        jobs.into_iter().flat_map(move |job| {
            // A source that failed outright stops the rest from starting.
            let failed = report.lock().expect("report lock").fatal.is_some();
            (!failed).then(|| source::start(job, report.clone())).into_iter().flatten()
        })
    };
    // Invocation logs are read before CloudTrail files where the path tells them apart; the count
    // does not depend on it (`frame::Dedupe` holds back trail events whose log may still come).
    let (trail_files, log_units): (Vec<Unit>, Vec<Unit>) =
        expanded.units.into_iter().partition(|u| matches!(u, Unit::File(p) if file::is_trail_file(p)));
    // Each unit with whether it is of the trail phase: once there, no invocation log is read
    // any more, and CloudTrail events are final as they are read (`Dedupe::seal`), so memory
    // holds only the trail events of units read before (standard input, files of no known name).
    let logs = log_units.into_iter().chain(fetch(cloud)).map(|u| (u, false));
    let trails = trail_files.into_iter().chain(fetch(cloud_trails)).map(|u| (u, true));
    let mut seen = Dedupe::default();
    for_each_in_order(
        logs.chain(trails),
        |(u, trail_phase)| {
            let name = u.name();
            let read =
                guard::catch(format_args!("reading {name}"), || read_unit(u, reading)).unwrap_or_else(|panicked| {
                    // What the unit yielded before the panic is dropped with it: the unit is a problem.
                    let mut out = UnitResult::default();
                    out.stats.problems.push(Problem { unit: name, message: panicked.to_string() });
                    out
                });
            (read, trail_phase)
        },
        |(r, trail_phase)| {
            if trail_phase {
                seen.seal(sink);
            }
            progress.read(r.bytes, r.stats.lines);
            merge(&mut stats, r.stats);
            seen.feed(r.batch, sink);
        },
    );
    seen.finish(sink);
    progress.finish();
    let fetched = std::mem::take(&mut *report.lock().expect("report lock"));
    if let Some(message) = fetched.fatal {
        anyhow::bail!("{message}");
    }
    stats.add_skipped(&fetched.skipped, fetched.problems.iter().cloned());
    stats.duplicates += seen.duplicates;
    stats.also_logged += seen.logged;
    Ok(Loaded { stats, fetched })
}

/// How far event times and hour folders reach beyond the window: delivery lags the record.
pub const MARGIN_MS: i64 = crate::window::HOUR_MS;

/// The job that reads one part of a cloud source over a window, with nothing remembered from
/// before. Every `Logs` part is read before any `Trail` part (`s3::Part`).
pub fn cloud_job(
    spec: &SourceSpec,
    part: s3::Part,
    window: Window,
    aws: &AwsSettings,
    now_ms: i64,
) -> Option<CloudJob> {
    match spec {
        SourceSpec::S3(location) => Some(CloudJob::S3(s3::Job {
            location: location.clone(),
            listing: s3::Listing {
                since_ms: window.since,
                until_ms: window.since.map(|_| window.until.unwrap_or(now_ms)),
            },
            part,
            settings: aws.clone(),
            seen: Arc::new(|_| false),
        })),
        SourceSpec::CloudWatch(_) if part == s3::Part::Trail => None,
        SourceSpec::History(_) if part == s3::Part::Logs => None,
        SourceSpec::History(history) => Some(CloudJob::History(source::history::Job {
            history: history.clone(),
            start_ms: window.since.map(|s| s - MARGIN_MS),
            end_ms: window.until.map(|u| u + MARGIN_MS),
            now_ms,
            settings: aws.clone(),
        })),
        SourceSpec::CloudWatch(group) => Some(CloudJob::CloudWatch(cloudwatch::Job {
            group: group.clone(),
            start_ms: window.since.map(|s| s - MARGIN_MS),
            end_ms: window.until.map(|u| u + MARGIN_MS),
            settings: aws.clone(),
        })),
        SourceSpec::Path(_) | SourceSpec::Stdin => None,
    }
}

/// Runs `work` on every item on all cores and hands the results to `merge` in input order, as
/// they complete. Workers stay at most `WINDOW` items ahead of the merge, which bounds memory.
fn for_each_in_order<T: Send, R: Send>(
    items: impl Iterator<Item = T> + Send,
    work: impl Fn(T) -> R + Sync,
    mut merge: impl FnMut(R),
) {
    use std::sync::{mpsc, Condvar};
    const WINDOW: usize = 16;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // (the items, next index to hand out, items merged so far); None once the items ran out.
    let state = Mutex::new((Some(items), 0usize, 0usize));
    let advanced = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (state, advanced, work) = (&state, &advanced, &work);
            scope.spawn(move || loop {
                let (index, item) = {
                    let mut s = state.lock().expect("no worker panics while holding the lock");
                    while s.0.is_some() && s.1 >= s.2 + WINDOW {
                        s = advanced.wait(s).expect("lock");
                    }
                    // Pulling the next item may block on a download; other workers wait here
                    // meanwhile, which keeps hand-out order equal to input order.
                    let Some(item) = s.0.as_mut().and_then(Iterator::next) else {
                        s.0 = None;
                        advanced.notify_all();
                        return;
                    };
                    s.1 += 1;
                    (s.1 - 1, item)
                };
                if tx.send((index, work(item))).is_err() {
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
                state.lock().expect("lock").2 = next;
                advanced.notify_all();
            }
        }
    });
}

fn merge(into: &mut LoadStats, from: LoadStats) {
    into.lines += from.lines;
    into.rejected += from.rejected;
    into.duplicates += from.duplicates;
    into.outside_window += from.outside_window;
    into.units_read += from.units_read;
    into.other_events += from.other_events;
    into.also_logged += from.also_logged;
    merge_rejects(&mut into.rejects, from.rejects);
    into.problems.extend(from.problems);
}

pub fn merge_rejects(into: &mut BTreeMap<String, RejectGroup>, from: BTreeMap<String, RejectGroup>) {
    for (reason, g) in from {
        let group = into.entry(reason).or_default();
        group.count += g.count;
        let room = FIRST_LOCATIONS.saturating_sub(group.first.len());
        group.first.extend(g.first.into_iter().take(room));
    }
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

fn read_unit(unit: Unit, reading: Reading) -> UnitResult {
    let name = unit.name();
    guard::test_panic("read", &name);
    let mut out = UnitResult::default();
    match unit {
        Unit::Stdin => stream_lines(&name, std::io::stdin().lock(), reading, &mut out),
        Unit::File(path) => read_file(&path, &name, reading, &mut out),
        Unit::Object { bytes, .. } => {
            out.bytes = bytes.len() as u64;
            BUFFERS.with_borrow_mut(|(_, inflated)| read_bytes(&name, &bytes, inflated, reading, &mut out));
            release_buffers();
        }
        Unit::Stream { body, .. } => stream_lines(&name, body, reading, &mut out),
        Unit::Events { events, .. } => {
            out.stats.units_read = 1;
            for (n, e) in events.iter().enumerate() {
                out.bytes += e.message.len() as u64;
                let line = e.message.trim_end_matches(['\r', '\n']).as_bytes();
                let origin = || Origin {
                    unit: name.clone(),
                    line: n as u64 + 1,
                    event: Some(format!("stream {} event {}", e.stream, e.id).into()),
                };
                take(decode::checked(line, reading.max_line), origin, reading, &mut out);
            }
        }
    }
    out
}

fn read_file(path: &std::path::Path, name: &Arc<str>, reading: Reading, out: &mut UnitResult) {
    let problem = |message: String| Problem { unit: name.clone(), message };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return out.stats.problems.push(problem(format!("cannot open: {e}"))),
    };
    // A pipe or device named on the command line has no size to trust: it is streamed.
    let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    if size.is_none_or(|size| size > WHOLE_OBJECT_LIMIT) {
        out.bytes = size.unwrap_or(0);
        return stream_lines(name, file, reading, out);
    }
    BUFFERS.with_borrow_mut(|(raw, inflated)| {
        raw.clear();
        match file.read_to_end(raw) {
            Ok(n) => out.bytes = n as u64,
            Err(e) => return out.stats.problems.push(problem(format!("cannot read: {e}"))),
        }
        read_bytes(name, raw, inflated, reading, out);
    });
    release_buffers();
}

/// Reads a whole unit held in memory: inflated in one go when it is gzip.
fn read_bytes(name: &Arc<str>, raw: &[u8], inflated: &mut Vec<u8>, reading: Reading, out: &mut UnitResult) {
    if raw.is_empty() && name.to_ascii_lowercase().ends_with(".gz") {
        let message = "empty file (0 bytes) where a gzip object was expected".into();
        return out.stats.problems.push(Problem { unit: name.clone(), message });
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
                return stream_lines(name, raw, reading, out);
            }
        },
    };
    if trail::is_document(text) {
        // A CloudTrail file: one document, however it is broken into lines.
        return read_trail(name, text, (1, Compression::None), reading, out);
    }
    decode::for_each_line_in(text, reading.max_line, |n, line| take(line, || Origin::line(name, n), reading, out));
}

/// The Bedrock runtime calls of the CloudTrail documents in `doc` (`at_line`: where they start in
/// their unit), read as a stream: memory holds one event at a time. Each event is located by its
/// place in `Records` (and its document's, after the first).
fn read_trail(name: &Arc<str>, doc: impl Read, at: (u64, Compression), reading: Reading, out: &mut UnitResult) {
    let (at_line, compression) = at;
    let read = trail::for_each_event(doc, |d, n, raw| {
        let origin = || {
            let event = match d {
                0 => format!("Records[{n}]"),
                d => format!("document {} Records[{n}]", d + 1),
            };
            Origin { unit: name.clone(), line: at_line, event: Some(event.into()) }
        };
        if raw.get().len() > reading.max_line {
            out.stats.lines += 1;
            let reason = format!("CloudTrail event longer than --max-line-length ({} bytes)", reading.max_line);
            return out.stats.reject(reason, &origin());
        }
        match trail::parse_event(raw) {
            Ok(Some(rec)) => accept(rec, reading, out),
            Ok(None) => {
                // Counted in the window, as calls are (an event without a time counts).
                if trail::event_time(raw).is_none_or(|t| reading.window.contains(t)) {
                    out.stats.other_events += 1;
                }
            }
            Err(reject) => {
                out.stats.lines += 1;
                out.stats.reject(reject.kind(), &origin());
            }
        }
    });
    if let Some(damage) = read.damage {
        let message = format!("CloudTrail file: {damage}; the {} events before it were read", read.events);
        out.stats.problems.push(Problem { unit: name.clone(), message });
    }
    if let Some(error) = read.read_error {
        let message =
            format!("CloudTrail file: {} ({error}); the {} events before it were read", cut(compression), read.events);
        out.stats.problems.push(Problem { unit: name.clone(), message });
    }
}

/// What a read that failed part way means, by the unit's compression.
fn cut(compression: Compression) -> &'static str {
    match compression {
        Compression::Gzip => "gzip stream is corrupt or truncated",
        Compression::None => "read failed",
    }
}

/// A parsed record: counted when in the window, once per request id within its unit.
fn accept(rec: Record, reading: Reading, out: &mut UnitResult) {
    if !reading.window.contains(rec.timestamp_ms) {
        out.stats.outside_window += 1;
        return;
    }
    out.stats.lines += 1;
    if !out.batch.push_new(&rec, reading.profiles) {
        out.stats.duplicates += 1;
    }
}

fn release_buffers() {
    BUFFERS.with_borrow_mut(|(raw, inflated)| {
        for buf in [raw, inflated] {
            if buf.capacity() > KEEP_BUFFER {
                *buf = Vec::new();
            }
        }
    });
}

/// Parses one record; `origin` is only built for a rejected line.
fn take(line: Line, origin: impl Fn() -> Origin, reading: Reading, out: &mut UnitResult) {
    let line = match line {
        Line::Text(line) => line,
        Line::TooLong { .. } => {
            out.stats.lines += 1;
            let reason = format!("line longer than --max-line-length ({} bytes)", reading.max_line);
            return out.stats.reject(reason, &origin());
        }
    };
    if trail::is_document(line) {
        let at = origin().line;
        return read_trail(&origin().unit, line, (at, Compression::None), reading, out);
    }
    match parse_line(line) {
        Ok(rec) => accept(rec, reading, out),
        Err(reject) => {
            out.stats.lines += 1;
            out.stats.reject(reject.kind(), &origin());
        }
    }
}

/// Reads a unit as a stream: standard input, files too big to hold, and damaged objects.
fn stream_lines(name: &Arc<str>, reader: impl Read, reading: Reading, out: &mut UnitResult) {
    let problem = |message: String| Problem { unit: name.clone(), message };
    let (compression, mut lines) = match decode::decompressed(reader) {
        Ok(x) => x,
        Err(e) => {
            out.stats.problems.push(problem(format!("cannot read: {e}")));
            return;
        }
    };
    out.stats.units_read = 1;
    // A CloudTrail file is JSON documents, not lines (pretty-printed, or one line of any length):
    // read as a stream of documents, its damage said where it stops.
    match lines.fill_buf().map(trail::is_document) {
        Ok(true) => return read_trail(name, lines, (1, compression), reading, out),
        Ok(false) => {}
        Err(e) => {
            let message = format!("{} at line 1: {e}; lines before it were read", cut(compression));
            return out.stats.problems.push(problem(message));
        }
    }
    let (_, failure) = decode::for_each_line(&mut lines, reading.max_line, |n, line| {
        take(line, || Origin::line(name, n), reading, out)
    });
    if let Some(f) = failure {
        out.stats.problems.push(problem(format!(
            "{} at line {}: {}; lines before it were read",
            cut(compression),
            f.at_line,
            f.error
        )));
        if trail::is_document(&f.partial) {
            // A CloudTrail file is one line: its events before the cut are read, and the cut is
            // reported with them.
            read_trail(name, f.partial.as_slice(), (f.at_line, Compression::None), reading, out);
        } else if f.partial_line {
            // The cut-off line is counted and located, not silently dropped.
            out.stats.lines += 1;
            out.stats.reject("cut off by a read error".into(), &Origin::line(name, f.at_line));
        }
    }
}
