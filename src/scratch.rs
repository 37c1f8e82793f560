//! Temporary files for reading more records than memory should hold: a directory under the
//! system's temporary directory (`TMPDIR`) that only the user can read, removed when the
//! `Scratch` is dropped, whatever happened. Frames go there as uncompressed Parquet (written
//! once, read once). `ingest` spills its batches by day here (`store::spill`), `query` its
//! batches of the named columns (`QueryFrame`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::frame::{Batch, FrameBuilder, Seen, Sink};

/// Records held before a batch is written out: about 50 MB while the whole record becomes a
/// frame, a few MB for a query's few columns.
pub const ROWS: usize = 100_000;

pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new directory named for `purpose` (`ingest`, `query`).
    pub fn new(purpose: &str) -> Result<Scratch> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("mila-{purpose}-{}-{}", std::process::id(), stamp.as_nanos()));
        // A new directory of the user's alone: the records name callers and their metadata, and a
        // shared temporary directory is readable by everyone (and a name there may be taken).
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `frame` to the file `name` here; its path.
    pub fn write(&self, name: &str, frame: &mut DataFrame) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let mut file = fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let written = ParquetWriter::new(&mut file).with_compression(ParquetCompression::Uncompressed).finish(frame);
        anyhow::Context::with_context(written, || format!("cannot write {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Temporary files only: nothing to report if they are gone already.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The frame `mila query` runs over: the columns its statement names, of every record read.
/// Each `rows` records are written out to scratch files, so reading holds one batch, and the
/// statement then runs on polars' streaming engine over the files and the last batch: memory
/// follows the query's result and state, not the input.
pub struct QueryFrame {
    columns: Vec<&'static str>,
    rows: usize,
    builder: FrameBuilder,
    scratch: Option<Scratch>,
    files: Vec<PathBuf>,
    /// A sink cannot fail: the first error writing a file is kept, and `finish` returns it.
    error: Option<anyhow::Error>,
}

/// A query's frame, and the files it reads (removed when this is dropped).
pub struct Spooled {
    pub frame: LazyFrame,
    _scratch: Option<Scratch>,
}

impl QueryFrame {
    /// Builds the `columns` named (of `frame::col::ALL`), written out each `rows` records.
    pub fn new(columns: &[&'static str], rows: usize) -> QueryFrame {
        QueryFrame {
            columns: columns.to_vec(),
            rows,
            builder: FrameBuilder::only(columns),
            scratch: None,
            files: Vec::new(),
            error: None,
        }
    }

    fn write_out(&mut self) -> Result<()> {
        let mut frame = std::mem::replace(&mut self.builder, FrameBuilder::only(&self.columns)).finish()?;
        let scratch = match &mut self.scratch {
            Some(s) => s,
            None => self.scratch.insert(Scratch::new("query")?),
        };
        let path = scratch.write(&format!("{}.parquet", self.files.len()), &mut frame)?;
        self.files.push(path);
        Ok(())
    }

    /// The records' frame: in memory when they were fewer than a batch, else a scan of the
    /// written files then the last batch, in the order read.
    pub fn finish(mut self) -> Result<Spooled> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let last = std::mem::take(&mut self.builder).finish()?.lazy();
        if self.files.is_empty() {
            return Ok(Spooled { frame: last, _scratch: None });
        }
        let paths = self.files.iter().map(|p| PlRefPath::new(p.to_string_lossy().as_ref())).collect();
        let written = LazyFrame::scan_parquet_files(paths, ScanArgsParquet::default())?;
        let frame = concat([written, last], UnionArgs::default())?;
        Ok(Spooled { frame, _scratch: self.scratch })
    }
}

impl Sink for QueryFrame {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        if take_batch(&mut self.builder, self.rows, &self.error, batch, seen) {
            self.error = self.write_out().err();
        }
    }
}

/// The sink of records written out a batch at a time (`QueryFrame`, ingest's `Spill`): takes
/// `batch` into `builder` and says whether it now holds `rows` records, to be written out. A
/// sink cannot fail, so the first error writing is kept (`error`) and returned at the end; after
/// it nothing more is taken.
pub fn take_batch(
    builder: &mut FrameBuilder,
    rows: usize,
    error: &Option<anyhow::Error>,
    batch: &Batch,
    seen: &[Seen],
) -> bool {
    if error.is_some() {
        return false;
    }
    builder.take(batch, seen);
    builder.len() >= rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::col;
    use crate::record::parse_line;

    fn batch(id: usize) -> Batch {
        let line = format!(
            r#"{{"timestamp":"2026-03-02T10:00:0{}Z","region":"us-east-1","requestId":"r{id}","operation":"Converse","modelId":"amazon.nova-lite-v1:0","input":{{"inputTokenCount":{id}}}}}"#,
            id % 10
        );
        let mut b = Batch::default();
        b.push(&parse_line(line.as_bytes()).unwrap(), &crate::given::profiles::Profiles::default());
        b
    }

    /// Seven records written out every three (two files and one in memory) and seven never
    /// written out give the same answers, in the order read; the files go with the frame.
    #[test]
    fn a_spooled_query_frame_is_the_frame_in_memory() {
        let columns = [col::TIMESTAMP, col::INPUT_TOKENS];
        let answer = |rows: usize| {
            let mut q = QueryFrame::new(&columns, rows);
            for id in 0..7 {
                q.take(&batch(id), &[Seen::New]);
            }
            let files = q.files.clone();
            let spooled = q.finish().unwrap();
            assert!(files.iter().all(|f| f.exists()));
            let all = spooled.frame.clone().collect_with_engine(Engine::Streaming).unwrap().unwrap_single();
            let sum = spooled
                .frame
                .clone()
                .select([col(col::INPUT_TOKENS).sum()])
                .collect_with_engine(Engine::Streaming)
                .unwrap()
                .unwrap_single();
            drop(spooled);
            assert!(files.iter().all(|f| !f.exists()), "the files go with the frame");
            (files.len(), all, sum)
        };
        let (written, all, sum) = answer(3);
        let (none, in_memory, in_memory_sum) = answer(100);
        assert_eq!((written, none), (2, 0));
        assert_eq!(all, in_memory);
        let tokens: Vec<i64> = all.column(col::INPUT_TOKENS).unwrap().i64().unwrap().into_no_null_iter().collect();
        assert_eq!(tokens, vec![0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(all.schema().len(), 2, "only the columns named");
        assert_eq!(sum, in_memory_sum);
        assert_eq!(sum.column(col::INPUT_TOKENS).unwrap().i64().unwrap().get(0), Some(21));
    }
}
