//! Where lines come from. A source expands into units (a file, an object, standard input),
//! each read into lines that keep their origin.

pub mod aws;
pub mod cloudwatch;
pub mod decode;
pub mod file;
pub mod history;
pub mod s3;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A source as the user named it, validated by settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Path(PathBuf),
    Stdin,
    S3(s3::Location),
    CloudWatch(cloudwatch::LogGroup),
    /// CloudTrail's Event history in a region.
    History(history::History),
}

impl SourceSpec {
    pub fn is_cloud(&self) -> bool {
        matches!(self, SourceSpec::S3(_) | SourceSpec::CloudWatch(_) | SourceSpec::History(_))
    }
}

/// One readable unit of input: a file, standard input, a fetched object or a page of log events.
#[derive(Debug)]
pub enum Unit {
    File(PathBuf),
    Stdin,
    /// An S3 object's bytes, as stored (compressed).
    Object {
        name: Arc<str>,
        bytes: Vec<u8>,
    },
    /// An S3 object too large to hold, read as its body arrives.
    Stream {
        name: Arc<str>,
        body: s3::BodyReader,
    },
    /// A page of CloudWatch Logs events, each message one record.
    Events {
        group: Arc<str>,
        events: Vec<cloudwatch::Event>,
    },
}

impl Unit {
    pub fn name(&self) -> Arc<str> {
        match self {
            Unit::File(p) => p.display().to_string().into(),
            Unit::Stdin => "<stdin>".into(),
            Unit::Object { name, .. } | Unit::Stream { name, .. } | Unit::Events { group: name, .. } => name.clone(),
        }
    }
}

/// Where a line came from: the unit's name and the 1-based line number within it, or for a
/// CloudWatch event its stream and event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub unit: Arc<str>,
    pub line: u64,
    pub event: Option<Arc<str>>,
}

impl Origin {
    pub fn line(unit: &Arc<str>, line: u64) -> Origin {
        Origin { unit: unit.clone(), line, event: None }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.event {
            Some(event) => write!(f, "{} {}", self.unit, event),
            None => write!(f, "{}:{}", self.unit, self.line),
        }
    }
}

/// A unit that could not be read, or not read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub unit: Arc<str>,
    pub message: String,
}

/// What fetching a cloud source found besides units: filled in while it runs, complete once
/// its units have all been handed on.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub skipped: Vec<String>,
    pub problems: Vec<Problem>,
    /// The source itself could not be read (no such bucket, access denied, no credentials).
    pub fatal: Option<String>,
    /// S3 objects fetched whole, with the source (`s3://bucket/prefix`) that listed them, for
    /// incremental ingest.
    pub objects: Vec<(String, s3::ObjectInfo)>,
    /// S3 log objects not fetched because an earlier ingest read them.
    pub already_read: u64,
    pub bytes: u64,
    pub pages: u64,
}

pub enum CloudJob {
    S3(s3::Job),
    CloudWatch(cloudwatch::Job),
    History(history::Job),
}

impl CloudJob {
    /// Whether the job reads CloudTrail (after every invocation log: `frame::Dedupe`).
    pub fn reads_trail(&self) -> bool {
        match self {
            CloudJob::S3(j) => j.part == s3::Part::Trail,
            CloudJob::CloudWatch(_) => false,
            CloudJob::History(_) => true,
        }
    }
}

/// Starts fetching on a thread with a runtime of its own; units arrive, in order, on the
/// returned iterator, which ends when the job is done. Polars never runs on that runtime.
pub fn start(job: CloudJob, report: Arc<std::sync::Mutex<FetchReport>>) -> impl Iterator<Item = Unit> + Send {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    std::thread::spawn(move || match aws::runtime() {
        Ok(rt) => rt.block_on(async move {
            match job {
                CloudJob::S3(job) => s3::fetch(job, tx, report).await,
                CloudJob::CloudWatch(job) => cloudwatch::fetch(job, tx, report).await,
                CloudJob::History(job) => history::fetch(job, tx, report).await,
            }
        }),
        Err(e) => report.lock().expect("report lock").fatal = Some(format!("cannot start the async runtime: {e}")),
    });
    std::iter::from_fn(move || rx.blocking_recv())
}

/// A source named on the command line that is not one: the text, and the form it should take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}: {expected}")]
pub struct NotASource {
    pub text: String,
    pub expected: &'static str,
}

impl NotASource {
    pub fn new(text: &str, expected: &'static str) -> NotASource {
        NotASource { text: text.to_string(), expected }
    }
}

/// The region of a `PREFIX:REGION` source (`cloudtrail:`, `metrics:`): lowercase letters, digits
/// and dashes, at most 32; `expected` says the form when it is not one.
pub fn region_of(text: &str, prefix: &str, expected: &'static str) -> Result<String, NotASource> {
    let region = text.strip_prefix(prefix).ok_or_else(|| NotASource::new(text, expected))?;
    let valid = !region.is_empty()
        && region.len() <= 32
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    match valid {
        true => Ok(region.to_string()),
        false => Err(NotASource::new(text, expected)),
    }
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
