//! The one place that writes to the terminal's streams: a command's result on standard output,
//! and what mila says of its run on standard error (warnings, what it wrote, what it cost). The
//! crate's lints forbid printing anywhere else, so a message cannot bypass the escaping here.

use std::io::Write;

use anyhow::{Context, Result};

/// A command's result. A closed pipe (`mila ... | head`) is the reader's choice, not an error.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// One line on standard error, as written: callers escape what came from outside
/// (`escape::terminal`).
#[allow(clippy::print_stderr)] // the one place
pub fn line(text: &str) {
    eprintln!("{text}");
}
