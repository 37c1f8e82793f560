//! Sources -> records -> frame. Units are read and parsed on all cores, then merged in input
//! order so that "the first one read wins" is deterministic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;

use polars::prelude::DataFrame;
use rayon::prelude::*;

use crate::frame::FrameBuilder;
use crate::inputs::profiles::Profiles;
use crate::record::{parse_line, Record};
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
    records: Vec<Record>,
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
        ..LoadStats::default()
    };
    let mut builder = FrameBuilder::default();
    // Bounded batches keep memory to a few units' records while both cores stay busy.
    let batch = (rayon::current_num_threads() * 4).max(8);
    for chunk in expanded.units.chunks(batch) {
        let results: Vec<UnitResult> = chunk.par_iter().map(|u| read_unit(u, window, profiles)).collect();
        for r in results {
            merge(&mut stats, r.stats);
            for rec in &r.records {
                builder.push(rec);
            }
        }
    }
    stats.duplicates = builder.duplicates;
    let frame = builder.finish()?;
    Ok(Loaded { frame, stats })
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

fn read_unit(unit: &Unit, window: Window, profiles: &Profiles) -> UnitResult {
    let name = unit.name();
    let mut out = UnitResult::default();
    let problem = |message: String| Problem { unit: name.clone(), message };
    let reader: Box<dyn Read> = match unit {
        Unit::Stdin => Box::new(std::io::stdin().lock()),
        Unit::File(path) => match File::open(path) {
            Ok(f) => {
                let gz_name = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
                if gz_name && f.metadata().is_ok_and(|m| m.len() == 0) {
                    out.stats.problems.push(problem("empty file (0 bytes) where a gzip object was expected".into()));
                    return out;
                }
                Box::new(f)
            }
            Err(e) => {
                out.stats.problems.push(problem(format!("cannot open: {e}")));
                return out;
            }
        },
    };
    let (compression, mut lines) = match decode::decompressed(reader) {
        Ok(x) => x,
        Err(e) => {
            out.stats.problems.push(problem(format!("cannot read: {e}")));
            return out;
        }
    };
    out.stats.units_read = 1;
    let (line_stats, failure) = decode::for_each_line(&mut lines, |n, line| {
        let origin = || Origin { unit: name.clone(), line: n };
        match parse_line(line, profiles) {
            Ok(rec) if window.contains(rec.timestamp_ms) => {
                out.stats.lines += 1;
                out.records.push(rec);
            }
            Ok(_) => out.stats.outside_window += 1,
            Err(reject) => {
                out.stats.lines += 1;
                out.stats.reject(reject.kind(), &origin());
            }
        }
    });
    let partial = failure.as_ref().is_some_and(|f| f.partial_line);
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
    debug_assert_eq!(out.stats.lines + out.stats.outside_window, line_stats.lines + u64::from(partial));
    out
}
