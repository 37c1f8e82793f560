//! Benchmark only (`scripts/bench`): the bare scan of a corpus, the floor `mila report` is
//! measured against. It reads, inflates and parses every line into a unit's columns exactly as
//! `mila report` does (the same `load` pipeline, request ids deduplicated), then drops them: no
//! tally, no analysis, no output. Prints the lines it read.
//!
//!   bare_scan DIR...
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test tool reports what it measured

use mila::frame::{Batch, Seen, Sink};
use mila::given::profiles::Profiles;
use mila::progress::Progress;
use mila::source::SourceSpec;
use mila::window::Window;

struct Discard(u64);

impl Sink for Discard {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        self.0 += seen.iter().filter(|s| s.is_new()).count() as u64;
        std::hint::black_box(batch);
    }
}

fn main() -> anyhow::Result<()> {
    let sources: Vec<SourceSpec> = std::env::args_os().skip(1).map(|p| SourceSpec::Path(p.into())).collect();
    anyhow::ensure!(!sources.is_empty(), "usage: bare_scan DIR...");
    let mut sink = Discard(0);
    let profiles = Profiles::default();
    let reading =
        mila::load::Reading { window: Window::default(), profiles: &profiles, max_line: mila::load::MAX_LINE };
    let loaded = mila::load::load(&sources, Vec::new(), reading, &mut Progress::new(false), &mut sink)?;
    println!("{{\"lines\": {}, \"records\": {}, \"rejected\": {}}}", loaded.stats.lines, sink.0, loaded.stats.rejected);
    Ok(())
}
