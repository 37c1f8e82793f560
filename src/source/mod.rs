//! Where lines come from. A source expands into units (a file, an object, standard input),
//! each read into lines that keep their origin.

pub mod decode;
pub mod file;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A source as the user named it, validated by settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Path(PathBuf),
    Stdin,
}

/// One readable unit of input: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    File(PathBuf),
    Stdin,
}

impl Unit {
    pub fn name(&self) -> Arc<str> {
        match self {
            Unit::File(p) => p.display().to_string().into(),
            Unit::Stdin => "<stdin>".into(),
        }
    }
}

/// Where a line came from: the unit's name and the 1-based line number within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub unit: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}:{}", self.unit, self.line)
    }
}

/// A unit that could not be read, or not read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub unit: Arc<str>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source {path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("source {path}: cannot read")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
