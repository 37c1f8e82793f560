//! The one place that writes files: each to a temporary name in the same folder, synced, then
//! renamed, and the folder synced, so a reader (or a run after a crash) never sees half a file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub fn write_files<N: AsRef<Path>>(dir: &Path, files: &[(N, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create output directory {}", dir.display()))?;
    files.iter().map(|(name, bytes)| write_atomic(&dir.join(name), bytes)).collect()
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself is durable only once the folder is.
        fs::File::open(path.parent().unwrap_or(Path::new("."))).and_then(|d| d.sync_all())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(path.to_path_buf())
}
