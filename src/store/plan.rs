//! What an ingest reads, from where it resumes, and the checkpoint it leaves: a `Plan` is made
//! from the store's state and the sources (each cloud job is `load::cloud_job`'s, narrowed to
//! what is new), and `State::record` updates the checkpoint from what was loaded.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::{file_key, file_seen, Seen, State};
use crate::load::{self, LoadStats, Loaded};
use crate::scope::{LocalSources, Scope};
use crate::source::{self, cloudwatch, s3, CloudJob, Problem, SourceSpec, Unit};
use crate::window::Window;

/// A local file to read: its path, its key in the checkpoint, and how it looked before reading.
pub struct PlannedFile {
    path: PathBuf,
    key: String,
    seen: Option<Seen>,
}

pub struct Plan {
    /// Local files new or changed since they were read.
    pub files: Vec<PlannedFile>,
    pub cloud: Vec<CloudJob>,
    /// Files read before and unchanged since (not read again, as S3 objects are not).
    pub files_read_before: u64,
    /// What walking the local sources skipped, and could not read.
    walked: (Vec<String>, Vec<Problem>),
    /// Per event stream (CloudWatch log group, Event history): the end this run reads to.
    stream_ends: Vec<(String, i64)>,
}

/// How far back an ingest looks again for what arrived late: S3 objects in hours already
/// listed, events in windows already read.
pub struct Resume {
    pub lookback_ms: i64,
}

impl Plan {
    pub fn new(state: &State, sources: &LocalSources, scope: &Scope, resume: Resume) -> Result<Plan> {
        let local: Vec<SourceSpec> = sources.sources.iter().filter(|x| !x.is_cloud()).cloned().collect();
        let walked = source::file::expand(&local)?;
        let (mut files, mut files_read_before, mut keys) = (Vec::new(), 0, HashSet::new());
        for unit in walked.units {
            if let Unit::File(path) = unit {
                // One file named twice (`x`, `./x`, its absolute path, a link) is read once.
                let key = file_key(&path);
                if !keys.insert(key.clone()) {
                    continue;
                }
                let seen = file_seen(&path);
                if seen.is_some() && state.files.get(&key) == seen.as_ref() {
                    files_read_before += 1;
                } else {
                    files.push(PlannedFile { path, key, seen });
                }
            }
        }
        let (mut cloud, mut stream_ends) = (Vec::new(), Vec::new());
        // Everything read is stored, whatever its time: the window only narrows what is listed.
        let window = scope.window;
        for spec in sources.sources.iter().filter(|s| s.is_cloud()) {
            for part in [s3::Part::Logs, s3::Part::Trail] {
                let Some(job) = load::cloud_job(spec, part, window, &sources.aws, scope.now_ms) else { continue };
                cloud.push(resumed(job, state, window, scope.now_ms, &resume, &mut stream_ends));
            }
        }
        let walked = (walked.skipped, walked.problems);
        Ok(Plan { files, cloud, files_read_before, walked, stream_ends })
    }

    /// The local sources to read: the planned files.
    pub fn local(&self) -> Vec<SourceSpec> {
        self.files.iter().map(|f| SourceSpec::Path(f.path.clone())).collect()
    }

    /// Adds what walking the local sources met to what loading them met.
    pub fn add_walked(&mut self, stats: &mut LoadStats) {
        let (skipped, problems) = std::mem::take(&mut self.walked);
        stats.add_skipped(&skipped, problems);
    }
}

/// A job of `load::cloud_job` over the window, narrowed to what this store has not read.
fn resumed(
    job: CloudJob,
    state: &State,
    window: Window,
    now_ms: i64,
    resume: &Resume,
    ends: &mut Vec<(String, i64)>,
) -> CloudJob {
    // Event streams are read again from a little before the newest end an ingest read, where
    // late events land; the window narrows that further.
    let mut stream = |key: String| {
        let resume = state.cloudwatch.get(&key).map(|end| end - resume.lookback_ms);
        let start = match (window.since.map(|t| t - load::MARGIN_MS), resume) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let end = window.until.map(|u| u + load::MARGIN_MS).unwrap_or(now_ms);
        ends.push((key, end));
        (start, end)
    };
    match job {
        CloudJob::S3(mut job) => {
            let known = state.s3.get(&job.location.url(&job.location.prefix)).cloned().unwrap_or_default();
            // Without a window, list again from a few hours before the newest hour read, where
            // late objects land.
            let since = window.since.or(known.newest_hour_ms.map(|h| h - resume.lookback_ms));
            job.listing = s3::Listing { since_ms: since, until_ms: since.map(|_| window.until.unwrap_or(now_ms)) };
            job.seen = Arc::new(move |o: &s3::ObjectInfo| known.has(o));
            CloudJob::S3(job)
        }
        CloudJob::CloudWatch(mut job) => {
            let (start, end) = stream(group_key(&job.group));
            (job.start_ms, job.end_ms) = (start, Some(end));
            CloudJob::CloudWatch(job)
        }
        CloudJob::History(mut job) => {
            let (start, end) = stream(job.history.name());
            (job.start_ms, job.end_ms) = (start, Some(end));
            CloudJob::History(job)
        }
    }
}

fn group_key(group: &cloudwatch::LogGroup) -> String {
    match &group.region {
        Some(region) => format!("cloudwatch:{}@{region}", group.name),
        None => format!("cloudwatch:{}", group.name),
    }
}

impl State {
    /// Records in the checkpoint what `plan` read: the objects fetched, the ends of the event
    /// streams, the files read to their end (one that could not be is read again next time),
    /// and the run's figures.
    pub fn record(&mut self, plan: Plan, loaded: &Loaded, added: u64, known: u64) {
        for (source, o) in &loaded.fetched.objects {
            let entry = self.s3.entry(source.clone()).or_default();
            entry.objects.insert(o.key.clone(), Seen { etag: o.etag.clone(), size: o.size });
            if let Some(hour) = s3::key_hour_ms(&o.key) {
                entry.newest_hour_ms = entry.newest_hour_ms.max(Some(hour));
            }
        }
        for (key, end) in plan.stream_ends {
            let entry = self.cloudwatch.entry(key).or_insert(end);
            *entry = (*entry).max(end);
        }
        for f in plan.files {
            let name = f.path.display().to_string();
            if let Some(seen) = f.seen.filter(|_| !loaded.stats.problems.iter().any(|p| *p.unit == *name)) {
                self.files.insert(f.key, seen);
            }
        }
        self.totals.add(&loaded.stats, added, known);
    }
}
