//! The local store `mila ingest` writes and `report/check --store` read:
//!
//! ```text
//! DIR/state.json                        the checkpoint: which file holds each day, what was read
//! DIR/records/day=YYYY-MM-DD/gN.parquet one file per day, rewritten when the day gains records
//! DIR/.lock                             held by a writer (exclusive) or a reader (shared)
//! ```
//!
//! A run commits by replacing `state.json` (temporary name, fsync, rename, fsync of the folder).
//! Data files are written the same way before it, under new names, so until the rename the old
//! state and its files are intact; files no state names are leftovers of a run that died, and
//! the next writer deletes them. File names come from dates and counters, never from S3 keys.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::col;
use crate::inputs::profiles::Profiles;
use crate::output;
use crate::record::model_id::{canonicalise, route};
use crate::record::{ModelIdKind, Route};
use crate::source::s3::ObjectInfo;
use crate::window::DAY_MS;

const STATE: &str = "state.json";
const LOCK: &str = ".lock";
const RECORDS: &str = "records";
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
    dir: PathBuf,
    pub state: State,
    _lock: File,
}

fn lock_file(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK);
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn read_state(dir: &Path) -> Result<State> {
    let path = dir.join(STATE);
    match fs::read(&path) {
        Ok(bytes) => {
            let state: State = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a mila store checkpoint", path.display()))?;
            if state.format != FORMAT {
                bail!("{}: store format {:?}, this mila reads {FORMAT}", path.display(), state.format);
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State { format: FORMAT.into(), ..State::default() }),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

impl Store {
    /// Opens (creating it if need be) for writing. A second writer is refused, not queued.
    pub fn open_for_writing(dir: &Path) -> Result<Store> {
        fs::create_dir_all(dir.join(RECORDS)).with_context(|| format!("cannot create store {}", dir.display()))?;
        let lock = lock_file(dir)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                bail!("store {} is in use by another mila process (lock {})", dir.display(), dir.join(LOCK).display())
            }
            Err(fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", dir.display())),
        }
        let store = Store { state: read_state(dir)?, dir: dir.to_path_buf(), _lock: lock };
        store.remove_leftovers()?;
        Ok(store)
    }

    /// Opens for reading; waits while a writer commits.
    pub fn open_for_reading(dir: &Path) -> Result<Store> {
        if !dir.join(STATE).exists() {
            bail!("{} is not a mila store (no {STATE}; make one with mila ingest)", dir.display());
        }
        let lock = lock_file(dir)?;
        lock.lock_shared().with_context(|| format!("cannot lock {}", dir.display()))?;
        Ok(Store { state: read_state(dir)?, dir: dir.to_path_buf(), _lock: lock })
    }

    /// Files under `records/` that the state does not name: a dead run's, or replaced ones.
    fn remove_leftovers(&self) -> Result<()> {
        let named: HashSet<PathBuf> = self.state.days.values().map(|f| self.dir.join(f)).collect();
        for day in fs::read_dir(self.dir.join(RECORDS))? {
            let day = day?.path();
            if !day.is_dir() {
                fs::remove_file(&day)?;
                continue;
            }
            for file in fs::read_dir(&day)? {
                let file = file?.path();
                if !named.contains(&file) {
                    fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
                }
            }
        }
        Ok(())
    }

    /// Hands the record frame of each day that overlaps `[since, until)` to `each`, a day at a
    /// time, so memory holds one day; rows are not filtered here.
    pub fn for_each_day(
        &self,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
        mut each: impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        for (day, file) in &self.state.days {
            let start = day_start_ms(day)?;
            if since_ms.is_some_and(|s| start + DAY_MS <= s) || until_ms.is_some_and(|u| start >= u) {
                continue;
            }
            each(read_parquet(&self.dir.join(file))?)?;
        }
        Ok(())
    }

    /// Adds `new` (already free of duplicates among itself) to the store, dropping rows whose
    /// request id is stored already. Writes the changed days' files; the caller then commits.
    /// Returns (rows added, rows already stored).
    pub fn add(&mut self, new: &DataFrame) -> Result<(u64, u64)> {
        let days = day_of_each_row(new)?;
        let mut groups: BTreeMap<i64, Vec<IdxSize>> = BTreeMap::new();
        for (row, day) in days.iter().enumerate() {
            groups.entry(*day).or_default().push(row as IdxSize);
        }
        let generation = self.state.generation + 1;
        let mut added = 0u64;
        for (day, rows) in groups {
            let name = day_name(day);
            let part = new.take(&IdxCa::from_vec("idx".into(), rows))?;
            let old = match self.state.days.get(&name) {
                Some(file) => Some(read_parquet(&self.dir.join(file))?),
                None => None,
            };
            let fresh = match &old {
                Some(old) => {
                    let stored: HashSet<&str> = old.column(col::REQUEST_ID)?.str()?.iter().flatten().collect();
                    let keep: BooleanChunked = part
                        .column(col::REQUEST_ID)?
                        .str()?
                        .iter()
                        .map(|id| id.is_some_and(|id| !stored.contains(id)))
                        .collect();
                    part.filter(&keep)?
                }
                None => part,
            };
            if fresh.height() == 0 {
                continue;
            }
            added += fresh.height() as u64;
            let mut merged = match old {
                Some(old) => concat_frames(vec![old, fresh])?,
                None => fresh,
            };
            merged = merged.sort([col::TIMESTAMP, col::REQUEST_ID], SortMultipleOptions::default())?;
            let relative = format!("{RECORDS}/day={name}/g{generation:06}.parquet");
            let mut bytes = Vec::new();
            ParquetWriter::new(&mut bytes).with_compression(ParquetCompression::Zstd(None)).finish(&mut merged)?;
            let path = self.dir.join(&relative);
            let folder = path.parent().expect("day folder");
            fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
            output::write_atomic(&path, &bytes)?;
            self.state.days.insert(name, relative);
        }
        Ok((added, new.height() as u64 - added))
    }

    /// Makes the new state the store's: after this returns, a crash keeps it.
    pub fn commit(&mut self) -> Result<()> {
        self.state.generation += 1;
        output::write_atomic(&self.dir.join(STATE), &serde_json::to_vec_pretty(&self.state)?)?;
        Ok(())
    }

    /// After a commit: the replaced files are no longer named, so they go.
    pub fn clean(&self) -> Result<()> {
        self.remove_leftovers()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Applies a profiles file to stored records. The store keeps application profiles
/// unresolved (model = the profile's ARN; route unknown unless the log named the inference
/// region), so that a report resolves them with the profiles it is given, as it would from
/// the logs themselves (contract section 3).
pub fn resolve_profiles(frame: DataFrame, profiles: &Profiles) -> Result<DataFrame> {
    if profiles.iter().next().is_none() || frame.height() == 0 {
        return Ok(frame);
    }
    let strs = |name| -> PolarsResult<Vec<Option<String>>> {
        Ok(frame.column(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (kinds, sources) = (strs(col::MODEL_ID_KIND)?, strs(col::SOURCE_REGION)?);
    let (mut models, mut routes, mut ran_in) = (strs(col::MODEL)?, strs(col::ROUTE)?, strs(col::INFERENCE_REGION)?);
    let app = ModelIdKind::ApplicationProfile;
    for i in 0..frame.height() {
        if kinds[i].as_deref() != Some(app.as_str()) {
            continue;
        }
        let Some(profile) = models[i].as_deref().and_then(|arn| profiles.get(arn)) else { continue };
        let source = sources[i].as_deref().unwrap_or("");
        if routes[i].as_deref() == Some(Route::Unknown.as_str()) {
            let (route, region) = route(source, None, app, Some(&profile.regions));
            routes[i] = Some(route.as_str().to_string());
            ran_in[i] = region.map(str::to_string);
        }
        models[i] = Some(canonicalise(&profile.model).base.to_string());
    }
    let mut frame = frame;
    for (name, values) in [(col::MODEL, models), (col::ROUTE, routes), (col::INFERENCE_REGION, ran_in)] {
        frame.with_column(Column::new(name.into(), values))?;
    }
    Ok(frame)
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

fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    anyhow::Context::with_context(ParquetReader::new(file).finish(), || format!("cannot read {}", path.display()))
}

/// The UTC day (days since 1970-01-01) of each row's timestamp.
fn day_of_each_row(frame: &DataFrame) -> Result<Vec<i64>> {
    Ok(crate::frame::timestamps_ms(frame)?.into_iter().map(|t| t.unwrap_or(0).div_euclid(DAY_MS)).collect())
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
    fn day_names_round_trip() {
        for (ms, name) in [(0i64, "1970-01-01"), (1_762_646_400_000, "2025-11-09"), (1_798_761_599_999, "2026-12-31")] {
            assert_eq!(day_name(ms.div_euclid(DAY_MS)), name);
            assert_eq!(day_start_ms(name).unwrap(), ms.div_euclid(DAY_MS) * DAY_MS);
        }
    }
}
