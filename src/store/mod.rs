//! The store `mila ingest` writes and `report/check --store` read, in a directory or under an
//! S3 prefix (`place`):
//!
//! ```text
//! state.json                        the checkpoint: which file holds each day, what was read
//! records/day=YYYY-MM-DD/gN.parquet one file per day, rewritten when the day gains records
//! metrics/day=YYYY-MM-DD/gN.json    a whole day's CloudWatch metrics (`ingest metrics:REGION`)
//! .lock                             held by a writer (and, locally, shared by readers)
//! ```
//!
//! A run commits by replacing `state.json`. Data files are written before it, under new names,
//! so until then the old state and its files are intact; files no state names are leftovers of
//! a run that died, and the next writer deletes them. File names come from dates and counters,
//! never from S3 keys.

pub mod place;
pub mod plan;
pub mod spill;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::col;
use crate::record::RecordedBy;
use crate::source::aws::AwsSettings;
use crate::source::s3::ObjectInfo;
use crate::window::DAY_MS;
pub use place::StoreAt;
use place::{Lock, Place};

const STATE: &str = "state.json";
const RECORDS: &str = "records";
const METRICS: &str = "metrics";
const FORMAT: &str = "mila.store/1";

/// The checkpoint.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format: String,
    /// Bumped by every commit; names the files it writes.
    pub generation: u64,
    /// Day (YYYY-MM-DD) -> file, relative to the store.
    pub days: BTreeMap<String, String>,
    /// Per `s3://bucket/prefix`: objects read, by key.
    pub s3: BTreeMap<String, S3State>,
    /// Per log group: the end of the last window read (ms).
    pub cloudwatch: BTreeMap<String, i64>,
    /// Local files read, by path: size and modification time (as `etag`), so that an ingest run
    /// again over the same folder reads only what changed, as for S3 objects.
    #[serde(default)]
    pub files: BTreeMap<String, Seen>,
    /// Day (YYYY-MM-DD) -> its metrics file, relative to the store.
    #[serde(default)]
    pub metrics: BTreeMap<String, String>,
    pub totals: Totals,
}

/// A local file as ingest remembers it; None when it cannot be inspected (it is read anyway).
pub fn file_seen(path: &Path) -> Option<Seen> {
    let meta = fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(Seen { etag: format!("mtime:{}", modified.as_nanos()), size: meta.len() })
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3State {
    pub objects: BTreeMap<String, Seen>,
    /// Start of the newest hour folder read; the next run lists from a few hours before it.
    pub newest_hour_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub etag: String,
    pub size: u64,
}

/// What all ingests so far read, for the record.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub records: u64,
    pub lines: u64,
    pub rejected: u64,
    /// Dropped because the same request id was read before (in the run or already stored).
    pub duplicates: u64,
    /// Of those, the ones dropped within a run (the rest were in the store already, which a
    /// file read again also is).
    #[serde(default)]
    pub duplicates_in_runs: u64,
    pub problems: u64,
    /// CloudTrail events that were not Bedrock runtime calls.
    #[serde(default)]
    pub other_events: u64,
    /// Rejected lines by reason, with the first locations of each, kept so that a report of the
    /// store says what a report of the files would.
    #[serde(default)]
    pub rejects: BTreeMap<String, crate::load::RejectGroup>,
    /// The first `MAX_PROBLEMS` units that could not be read (`problems` counts them all).
    #[serde(default)]
    pub problem_list: Vec<StoredProblem>,
}

/// Problems kept in the checkpoint: enough to find them, bounded however many runs there are.
pub const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProblem {
    pub unit: String,
    pub message: String,
}

impl Totals {
    /// Adds one ingest's input figures (`known`: records the store held already).
    pub fn add(&mut self, st: &crate::load::LoadStats, added: u64, known: u64) {
        self.records += added;
        self.lines += st.lines;
        self.rejected += st.rejected;
        self.duplicates += st.duplicates + known;
        self.duplicates_in_runs += st.duplicates;
        self.problems += st.problems.len() as u64;
        self.other_events += st.other_events;
        crate::load::merge_rejects(&mut self.rejects, st.rejects.clone());
        let room = MAX_PROBLEMS.saturating_sub(self.problem_list.len());
        self.problem_list.extend(
            st.problems
                .iter()
                .take(room)
                .map(|p| StoredProblem { unit: p.unit.to_string(), message: p.message.clone() }),
        );
    }

    /// What a direct read of everything ingested would report about its input besides the
    /// records themselves: rejects (which have no time to window them by), duplicates dropped
    /// within an ingest, and problems. Records an ingest found stored already are not counted:
    /// they are as often a file read twice as a request delivered twice.
    pub fn input_stats(&self) -> crate::load::LoadStats {
        crate::load::LoadStats {
            lines: self.rejected + self.duplicates_in_runs,
            rejected: self.rejected,
            duplicates: self.duplicates_in_runs,
            other_events: self.other_events,
            rejects: self.rejects.clone(),
            problems: self
                .problem_list
                .iter()
                .map(|p| crate::source::Problem { unit: p.unit.as_str().into(), message: p.message.clone() })
                .collect(),
            ..Default::default()
        }
    }
}

impl S3State {
    pub fn has(&self, o: &ObjectInfo) -> bool {
        self.objects.get(&o.key).is_some_and(|s| s.etag == o.etag && s.size == o.size)
    }
}

/// An open store, locked for as long as this lives.
pub struct Store {
    place: Place,
    pub state: State,
    /// The checkpoint's version as read (S3: its ETag), which a commit must still find.
    read_version: Option<String>,
    lock: Lock,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.place.unlock(&self.lock);
    }
}

/// The checkpoint and its version (S3: its ETag), or None when there is none yet.
fn read_state(place: &Place) -> Result<Option<(State, Option<String>)>> {
    let Some((bytes, version)) = place.read(STATE)? else { return Ok(None) };
    let state: State = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a mila store checkpoint", place.file_name(STATE)))?;
    if state.format != FORMAT {
        bail!("{}: store format {:?}, this mila reads {FORMAT}", place.file_name(STATE), state.format);
    }
    let records = state.days.iter().map(|(day, file)| (RECORDS, "parquet", day, file));
    let metrics = state.metrics.iter().map(|(day, file)| (METRICS, "json", day, file));
    for (folder, ext, day, file) in records.chain(metrics) {
        if !is_file_of(folder, ext, day, file) {
            bail!(
                "{}: day {day:?} names the file {file:?}, which is not a day file of this store ({folder}/day={day}/gNNNNNN.{ext}); the checkpoint was edited or damaged, refusing to read it",
                place.file_name(STATE)
            );
        }
    }
    Ok(Some((state, version)))
}

/// The only names mila gives day files: `records/day=YYYY-MM-DD/gNNNNNN.parquet` (and
/// `metrics/day=YYYY-MM-DD/gNNNNNN.json`), for that day. Anything else in a checkpoint
/// (`../x.parquet`, an absolute path, another day's folder) would read or delete a file outside
/// the store.
fn is_file_of(folder: &str, ext: &str, day: &str, file: &str) -> bool {
    let valid_day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() && day.len() == 10;
    let Some(rest) = file.strip_prefix(&format!("{folder}/day={day}/g")) else { return false };
    let Some(generation) = rest.strip_suffix(&format!(".{ext}")) else { return false };
    valid_day && !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit())
}

/// How ingest remembers a local file: its canonical path, so that `x`, `./x`, `/abs/x` and a link
/// to it are one file (read once); the path as given when it cannot be resolved.
pub fn file_key(path: &Path) -> String {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

impl Store {
    /// Opens (creating it if need be) for writing. A second writer is refused, not queued.
    pub fn open_for_writing(at: &StoreAt, aws: &AwsSettings) -> Result<Store> {
        let place = Place::open(at, aws)?;
        let lock = place.lock_for_writing()?;
        // From here the lock is released on every path, errors included.
        let mut store = Store { place, state: State::default(), read_version: None, lock };
        (store.state, store.read_version) =
            read_state(&store.place)?.unwrap_or_else(|| (State { format: FORMAT.into(), ..State::default() }, None));
        store.remove_leftovers()?;
        Ok(store)
    }

    /// Opens for reading; locally, waits while a writer commits.
    pub fn open_for_reading(at: &StoreAt, aws: &AwsSettings) -> Result<Store> {
        let place = Place::open(at, aws)?;
        let not_a_store =
            || anyhow::anyhow!("{} is not a mila store (no {STATE}; make one with mila ingest)", place.name());
        // Checked before the lock, which would create `.lock` in any directory named.
        if let StoreAt::Dir(d) = at {
            if !d.join(STATE).exists() {
                return Err(not_a_store());
            }
        }
        let lock = place.lock_for_reading()?;
        let (state, read_version) = read_state(&place)?.ok_or_else(not_a_store)?;
        Ok(Store { place, state, read_version, lock })
    }

    /// Files under `records/` and `metrics/` that the state does not name: a dead run's, or
    /// replaced ones.
    fn remove_leftovers(&self) -> Result<()> {
        let named: HashSet<&str> =
            self.state.days.values().chain(self.state.metrics.values()).map(String::as_str).collect();
        for folder in [RECORDS, METRICS] {
            for file in self.place.list(folder)? {
                if !named.contains(file.as_str()) {
                    self.place.delete(&file)?;
                }
            }
        }
        Ok(())
    }

    /// Keeps a whole day's metrics, its regions replacing what the store held of them. Writes the
    /// day's file; the caller then commits.
    pub fn put_metrics_day(&mut self, day: crate::fetch::metrics::MetricsDay) -> Result<()> {
        let generation = self.state.generation + 1;
        let name = day_name(day.day_ms.div_euclid(DAY_MS));
        let merged = match self.state.metrics.get(&name) {
            Some(file) => self.read_metrics_file(file)?.updated_by(day),
            None => day,
        };
        let relative = format!("{METRICS}/day={name}/g{generation:06}.json");
        self.place.create(&relative, serde_json::to_vec(&merged)?)?;
        self.state.metrics.insert(name, relative);
        Ok(())
    }

    /// The metrics of the days that overlap `[since, until)`, oldest first.
    pub fn metrics_between(
        &self,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<Vec<crate::fetch::metrics::MetricsDay>> {
        let mut out = Vec::new();
        for (day, file) in &self.state.metrics {
            let start = day_start_ms(day)?;
            if !(since_ms.is_some_and(|s| start + DAY_MS <= s) || until_ms.is_some_and(|u| start >= u)) {
                out.push(self.read_metrics_file(file)?);
            }
        }
        Ok(out)
    }

    fn read_metrics_file(&self, rel: &str) -> Result<crate::fetch::metrics::MetricsDay> {
        let name = self.place.file_name(rel);
        let (bytes, _) = self.place.read(rel)?.with_context(|| format!("{name}: missing (the checkpoint names it)"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{name} is not a day of metrics this mila wrote"))
    }

    /// Hands the record frame of each day that overlaps `[since, until)` to `each`, a day at a
    /// time, so memory holds one day; rows are not filtered here. With `columns`, only those
    /// are read (`frame::read_for`), the others are nulls.
    pub fn for_each_day(
        &self,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        columns: Option<&[&str]>,
        mut each: impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let names = columns.map(|c| c.iter().map(|c| c.to_string()).collect::<Vec<_>>());
        for file in self.files_between(since_ms, until_ms)? {
            let mut day = self.read_parquet_columns(file, names.clone())?;
            if let Some(read) = columns {
                day = crate::frame::with_unread_columns(day, read)?;
            }
            // Day files written by an older mila lack the newer columns: they are filled in.
            each(crate::frame::with_all_columns(day)?)?;
        }
        Ok(())
    }

    /// The files of the days that overlap `[since, until)`, oldest first.
    fn files_between(&self, since_ms: Option<i64>, until_ms: Option<i64>) -> Result<Vec<&str>> {
        let mut files = Vec::new();
        for (day, file) in &self.state.days {
            let start = day_start_ms(day)?;
            if !(since_ms.is_some_and(|s| start + DAY_MS <= s) || until_ms.is_some_and(|u| start >= u)) {
                files.push(file.as_str());
            }
        }
        Ok(files)
    }

    /// The request ids of each day that overlaps `[since, until)`, a day at a time: only that
    /// column is read.
    pub fn for_each_day_ids(
        &self,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        mut each: impl FnMut(&StringChunked),
    ) -> Result<()> {
        for file in self.files_between(since_ms, until_ms)? {
            let ids = self.read_parquet_columns(file, Some(vec![col::REQUEST_ID.to_string()]))?;
            each(ids.column(col::REQUEST_ID)?.str()?);
        }
        Ok(())
    }

    /// Adds `part`, the records of `day` (free of duplicates among themselves), to the store,
    /// dropping rows whose request id is stored already. Writes the day's file; the caller then
    /// commits. Returns the rows added.
    pub fn add_day(&mut self, day: i64, part: DataFrame) -> Result<u64> {
        let generation = self.state.generation + 1;
        let name = day_name(day);
        let old = match self.state.days.get(&name) {
            Some(file) => Some(crate::frame::with_all_columns(self.read_parquet(file)?)?),
            None => None,
        };
        // A record is known by its request id and kind: a call's CloudTrail event is kept
        // beside its log record, for logging coverage.
        let fresh = match &old {
            Some(old) => {
                let kinds = crate::frame::recorded_by_of(old)?;
                let stored: HashSet<(&str, RecordedBy)> = old
                    .column(col::REQUEST_ID)?
                    .str()?
                    .iter()
                    .zip(kinds)
                    .filter_map(|(id, k)| Some((id?, k)))
                    .collect();
                let keep: BooleanChunked = part
                    .column(col::REQUEST_ID)?
                    .str()?
                    .iter()
                    .zip(crate::frame::recorded_by_of(&part)?)
                    .map(|(id, k)| id.is_some_and(|id| !stored.contains(&(id, k))))
                    .collect();
                part.filter(&keep)?
            }
            None => part,
        };
        if fresh.height() == 0 {
            return Ok(0);
        }
        let added = fresh.height() as u64;
        let mut merged = match old {
            Some(old) => concat_frames(vec![old, fresh])?,
            None => fresh,
        };
        merged = merged.sort([col::TIMESTAMP, col::REQUEST_ID], SortMultipleOptions::default())?;
        let relative = format!("{RECORDS}/day={name}/g{generation:06}.parquet");
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).with_compression(ParquetCompression::Zstd(None)).finish(&mut merged)?;
        self.place.create(&relative, bytes)?;
        self.state.days.insert(name, relative);
        Ok(added)
    }

    /// Makes the new state the store's: after this returns, a crash keeps it.
    pub fn commit(&mut self) -> Result<()> {
        self.state.generation += 1;
        let bytes = serde_json::to_vec_pretty(&self.state)?;
        self.read_version = self.place.replace(STATE, bytes, self.read_version.as_deref())?;
        Ok(())
    }

    /// After a commit: the replaced files are no longer named, so they go.
    pub fn clean(&self) -> Result<()> {
        self.remove_leftovers()
    }

    /// The directory or `s3://` prefix, for messages.
    pub fn name(&self) -> String {
        self.place.name()
    }

    fn read_parquet(&self, rel: &str) -> Result<DataFrame> {
        self.read_parquet_columns(rel, None)
    }

    /// A day file, or only some of its columns: those an older mila's file lacks
    /// (`frame::ADDED_LATER`) are left out; any other missing one is an error naming the file.
    fn read_parquet_columns(&self, rel: &str, columns: Option<Vec<String>>) -> Result<DataFrame> {
        let name = self.place.file_name(rel);
        let (bytes, _) = self.place.read(rel)?.with_context(|| format!("{name}: missing (the checkpoint names it)"))?;
        let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
        let read = || -> PolarsResult<DataFrame> {
            let columns = match columns {
                Some(c) => {
                    let schema = reader.schema()?;
                    let lacks = |c: &str| crate::frame::ADDED_LATER.contains(&c) && !schema.contains(c);
                    Some(c.into_iter().filter(|c| !lacks(c)).collect())
                }
                None => None,
            };
            reader.with_columns(columns).finish()
        };
        anyhow::Context::with_context(read(), || format!("cannot read {name}"))
    }
}

fn concat_frames(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut iter = frames.into_iter();
    let mut out = iter.next().expect("at least one frame");
    for f in iter {
        out.vstack_mut(&f)?;
    }
    out.rechunk_mut();
    Ok(out)
}

/// The rows of `frame` by UTC day (days since 1970-01-01), each day's in their order.
fn by_day(frame: &DataFrame) -> Result<BTreeMap<i64, DataFrame>> {
    let mut groups: BTreeMap<i64, Vec<IdxSize>> = BTreeMap::new();
    for (row, t) in crate::frame::timestamps_ms(frame)?.into_iter().enumerate() {
        groups.entry(t.unwrap_or(0).div_euclid(DAY_MS)).or_default().push(row as IdxSize);
    }
    let mut days = BTreeMap::new();
    for (day, rows) in groups {
        days.insert(day, frame.take(&IdxCa::from_vec("idx".into(), rows))?);
    }
    Ok(days)
}

fn day_name(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS).expect("in range").format("%Y-%m-%d").to_string()
}

fn day_start_ms(name: &str) -> Result<i64> {
    let d =
        chrono::NaiveDate::parse_from_str(name, "%Y-%m-%d").with_context(|| format!("bad day {name} in {STATE}"))?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_files_are_only_what_mila_names_them() {
        let cases = [
            ("2026-11-16", "records/day=2026-11-16/g000003.parquet", true),
            ("2026-11-16", "records/day=2026-11-15/g000003.parquet", false),
            ("2026-11-16", "../victim/x.parquet", false),
            ("2026-11-16", "/etc/x.parquet", false),
            ("2026-11-16", "records/day=2026-11-16/../../../x.parquet", false),
            ("2026-11-16", "records/day=2026-11-16/g.parquet", false),
            ("../x", "records/day=../x/g1.parquet", false),
            ("2026-02-30", "records/day=2026-02-30/g1.parquet", false),
        ];
        for (day, file, ok) in cases {
            assert_eq!(is_file_of(RECORDS, "parquet", day, file), ok, "{day} {file}");
            let metrics = file.replace(RECORDS, METRICS).replace(".parquet", ".json");
            assert_eq!(is_file_of(METRICS, "json", day, &metrics), ok, "{day} {metrics}");
        }
        assert!(!is_file_of(METRICS, "json", "2026-11-16", "records/day=2026-11-16/g1.json"));
        assert!(!is_file_of(METRICS, "json", "2026-11-16", "metrics/day=2026-11-16/g1.parquet"));
    }

    /// A day file written before `max_tokens` and `bearer_token` existed is read, whole or for
    /// only the columns a query names, with them filled in (none known, not set).
    #[test]
    fn an_old_day_file_is_read_for_the_newer_columns() {
        let dir = std::env::temp_dir().join(format!("mila-old-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut store = Store::open_for_writing(&StoreAt::Dir(dir.clone()), &AwsSettings::default()).unwrap();
        let line = br#"{"timestamp":"2026-11-10T08:00:00Z","requestId":"r1","region":"us-east-1","operation":"Converse","modelId":"m","input":{"inputTokenCount":5,"inputBodyJson":{"inferenceConfig":{"maxTokens":9}}}}"#;
        let mut batch = crate::frame::Batch::default();
        batch.push(&crate::record::parse_line(line).unwrap(), &crate::given::profiles::Profiles::default());
        let mut builder = crate::frame::FrameBuilder::default();
        crate::frame::Sink::take(&mut builder, &batch, &[crate::frame::Seen::New]);
        let old = builder.finish().unwrap().drop_many([col::MAX_TOKENS, col::BEARER_TOKEN]);
        store.add_day(1_762_732_800_000 / DAY_MS, old).unwrap();
        for columns in [None, Some(crate::frame::read_for(&[col::MAX_TOKENS, col::BEARER_TOKEN]))] {
            let mut seen = Vec::new();
            store
                .for_each_day(None, None, columns.as_deref(), |day| {
                    seen.push((
                        day.column(col::MAX_TOKENS)?.i64()?.get(0),
                        day.column(col::BEARER_TOKEN)?.bool()?.get(0),
                    ));
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, [(None, Some(false))], "{columns:?}");
        }
        // A metrics day file that is not what mila wrote is an error naming it, not a guess.
        store.state.metrics.insert("2026-11-10".into(), "metrics/day=2026-11-10/g000001.json".into());
        fs::create_dir_all(dir.join("metrics/day=2026-11-10")).unwrap();
        fs::write(dir.join("metrics/day=2026-11-10/g000001.json"), b"\x1f\x8b not json").unwrap();
        let e = store.metrics_between(None, None).unwrap_err().to_string();
        assert!(e.contains("g000001.json is not a day of metrics this mila wrote"), "{e}");
        drop(store);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn day_names_round_trip() {
        for (ms, name) in [(0i64, "1970-01-01"), (1_762_646_400_000, "2025-11-09"), (1_798_761_599_999, "2026-12-31")] {
            assert_eq!(day_name(ms.div_euclid(DAY_MS)), name);
            assert_eq!(day_start_ms(name).unwrap(), ms.div_euclid(DAY_MS) * DAY_MS);
        }
    }
}
