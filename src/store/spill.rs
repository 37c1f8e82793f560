//! `ingest` in bounded memory: the records read go to a frame builder that is written out to
//! scratch files (`crate::scratch`), a file per day, each time it holds `ROWS` records. The store
//! then takes the files of one day at a time (`Spill::days`), so memory holds one batch of records
//! while reading and one day's records while writing, never the whole input.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::frame::{Batch, FrameBuilder, Seen, Sink};
use crate::scratch::Scratch;
pub use crate::scratch::ROWS;

pub struct Spill {
    scratch: Scratch,
    rows: usize,
    builder: FrameBuilder,
    /// Day (days since 1970-01-01) -> its files, in the order read.
    days: BTreeMap<i64, Vec<PathBuf>>,
    files: usize,
    /// A sink cannot fail: the first error writing a file is kept, and `days` returns it.
    error: Option<anyhow::Error>,
}

impl Spill {
    pub fn new(rows: usize) -> Result<Spill> {
        let scratch = Scratch::new("ingest")?;
        Ok(Spill { scratch, rows, builder: FrameBuilder::default(), days: BTreeMap::new(), files: 0, error: None })
    }

    fn write_out(&mut self) -> Result<()> {
        let frame = std::mem::take(&mut self.builder).finish()?;
        for (day, mut part) in super::by_day(&frame)? {
            let path = self.scratch.write(&format!("{day}-{}.parquet", self.files), &mut part)?;
            self.files += 1;
            self.days.entry(day).or_default().push(path);
        }
        Ok(())
    }

    /// Each day and its records (free of duplicates among themselves), a day at a time, oldest
    /// first: the first error met while reading is returned here.
    pub fn days(mut self) -> Result<Days> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.builder.is_empty() {
            self.write_out()?;
        }
        let days = std::mem::take(&mut self.days);
        Ok(Days { _spill: self, days: days.into_iter() })
    }
}

impl Sink for Spill {
    fn take(&mut self, batch: &Batch, seen: &[Seen]) {
        if crate::scratch::take_batch(&mut self.builder, self.rows, &self.error, batch, seen) {
            self.error = self.write_out().err();
        }
    }
}

/// The days of a spill; the files go with it.
pub struct Days {
    _spill: Spill,
    days: std::collections::btree_map::IntoIter<i64, Vec<PathBuf>>,
}

impl Iterator for Days {
    type Item = Result<(i64, DataFrame)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (day, files) = self.days.next()?;
        Some(read_day(&files).map(|frame| (day, frame)))
    }
}

fn read_day(files: &[PathBuf]) -> Result<DataFrame> {
    let mut frames = Vec::with_capacity(files.len());
    for path in files {
        let file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let frame = ParquetReader::new(file).finish();
        frames.push(anyhow::Context::with_context(frame, || format!("cannot read {}", path.display()))?);
    }
    Ok(super::concat_frames(frames)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::parse_line;

    fn batch(lines: &[String]) -> Batch {
        let profiles = crate::given::profiles::Profiles::default();
        let mut b = Batch::default();
        for line in lines {
            let r = parse_line(line.as_bytes()).unwrap();
            b.push(&r, &profiles);
        }
        b
    }

    fn line(id: usize, day: usize) -> String {
        format!(
            r#"{{"timestamp":"2026-03-0{day}T10:00:00Z","region":"us-east-1","requestId":"r{id}","operation":"Converse","modelId":"amazon.nova-lite-v1:0","input":{{"inputTokenCount":{id}}}}}"#
        )
    }

    /// Seven records over three days, written out every three: each day comes back whole, in
    /// the order read, and the files are gone when the spill is.
    #[test]
    fn each_day_comes_back_whole_and_the_files_go() {
        let mut spill = Spill::new(3).unwrap();
        let dir = spill.scratch.dir().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700, "the user's alone");
        }
        let days = [2, 3, 2, 4, 2, 3, 2];
        for (id, day) in days.iter().enumerate() {
            let b = batch(&[line(id, *day)]);
            spill.take(&b, &[Seen::New]);
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 5, "two batches of three over three and two days");
        let got: Vec<(i64, Vec<i64>)> = spill
            .days()
            .unwrap()
            .map(|d| {
                let (day, frame) = d.unwrap();
                let tokens = frame.column(crate::frame::col::INPUT_TOKENS).unwrap().i64().unwrap();
                (day, tokens.into_no_null_iter().collect())
            })
            .collect();
        let day = |d: i64| 20512 + d; // 2026-03-02 is day 20514 since 1970
        assert_eq!(got, vec![(day(2), vec![0, 2, 4, 6]), (day(3), vec![1, 5]), (day(4), vec![3])]);
        assert!(!dir.exists());
    }
}
