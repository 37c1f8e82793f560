//! A progress line on standard error while reading cloud sources or ingesting: objects,
//! records, bytes and rate. Only on a terminal, and never with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    units: u64,
    records: u64,
    bytes: u64,
}

impl Progress {
    /// A progress line if `wanted` and standard error is a terminal; otherwise one that
    /// draws nothing.
    pub fn new(wanted: bool) -> Progress {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar, start: Instant::now(), units: 0, records: 0, bytes: 0 }
    }

    pub fn hidden() -> Progress {
        Progress::new(false)
    }

    /// One unit (file, object, page of events) read.
    pub fn read(&mut self, bytes: u64, records: u64) {
        self.units += 1;
        self.records += records;
        self.bytes += bytes;
        if let Some(bar) = &self.bar {
            let rate = self.records as f64 / self.start.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} objects, {} records, {} read, {:.0} records/s",
                self.units,
                self.records,
                HumanBytes(self.bytes),
                rate
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
