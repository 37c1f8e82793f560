//! What the user gives besides the logs: prices, burndown, profiles, policy and quotas files,
//! parsed and validated. Errors name the file.

pub mod burndown;
pub mod glob;
pub mod policy;
pub mod price_list;
pub mod prices;
pub mod profiles;
pub mod quotas;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The largest settings file (prices, profiles, policy, quotas, a query) read: thousands of
/// times a real one. Past it (a link to /dev/zero, a log passed by mistake) it is refused unread.
pub const MAX_FILE: u64 = 16 << 20;

pub fn read_to_string(path: &Path) -> Result<String, InputError> {
    use std::io::Read;
    let read = |source| InputError::Read { path: path.to_path_buf(), source };
    let mut text = String::new();
    let n = std::fs::File::open(path).map_err(read)?.take(MAX_FILE + 1).read_to_string(&mut text).map_err(read)?;
    if n as u64 > MAX_FILE {
        return Err(invalid(path, format!("larger than {} MiB: not a file mila reads whole", MAX_FILE >> 20)));
    }
    Ok(text)
}

/// The model id a bundled `name,model` table (comments `#`, a header) gives the first of `names`
/// it has, case aside: the names Service Quotas and the Price List write map to models only so.
pub(crate) fn model_of_name(table: &'static str, names: &[&str]) -> Option<&'static str> {
    let rows: Vec<(&str, &str)> =
        table.lines().filter(|l| !l.starts_with('#')).skip(1).filter_map(|l| l.rsplit_once(',')).collect();
    names.iter().find_map(|wanted| rows.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted)).map(|(_, m)| *m))
}

pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Invalid { path: path.to_path_buf(), message: message.into() }
}

/// The line an editor shows for a CSV record: counted from the record's byte offset, so comments,
/// blank lines and CRLF count as they stand (the reader's own count skips some).
pub(crate) fn csv_line(text: &str, rec: &csv::StringRecord) -> usize {
    let mut at = rec.position().map_or(0, |p| p.byte() as usize).min(text.len());
    // After CRLF the reader's record starts on the '\n' that ends the line before.
    while text.as_bytes().get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        at += 1;
    }
    1 + text.as_bytes()[..at].iter().filter(|b| **b == b'\n').count()
}
