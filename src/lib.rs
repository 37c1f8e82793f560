//! mila, the Model-Invocation Log Analyzer.
//!
//! Data flows one way: `source` (lines with their origin) -> `record::parse` -> `frame` (a
//! unit's columns) -> `tally` (one pass: the per-question `tables`) -> `analysis` -> `summary`
//! -> `render` (bytes) -> `output` (files).

mod allocator;
pub mod analysis;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod escape;
pub mod fetch;
pub mod frame;
pub mod given;
pub mod guard;
pub mod load;
pub mod local_sql;
pub mod names;
pub mod output;
pub mod progress;
pub mod record;
pub mod render;
pub mod resolve;
pub mod sample;
pub mod scope;
pub mod scratch;
pub mod settings;
pub mod source;
pub mod store;
pub mod summary;
pub mod tables;
pub mod tally;
pub mod tell;
pub mod window;

use std::process::ExitCode;

use clap::Parser;

pub use commands::Status;

/// Parses the command line, runs, and decides the exit status: the one place that does.
pub fn main() -> ExitCode {
    allocator::tune();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; bad arguments are "could not run".
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    guard::install();
    let status = guard::catch("running", || run(cli)).unwrap_or_else(|panicked| Err(panicked.into()));
    match status {
        // A panic that was caught (a unit, a chart) was reported where it happened; what could
        // be done was done, but the run did not go as it should.
        Ok(_) if guard::panics() > 0 => {
            tell::line(&format!(
                "mila: error: {} internal error(s) (reported above); the output is incomplete",
                guard::panics()
            ));
            ExitCode::from(2)
        }
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Violations) => ExitCode::from(1),
        Err(e) => {
            tell::line(&format!("mila: error: {}", escape::terminal(&format!("{e:#}"))));
            ExitCode::from(2)
        }
    }
}

pub fn run(cli: cli::Cli) -> anyhow::Result<Status> {
    commands::run(settings::from_cli(cli, chrono::Utc::now())?)
}
