//! Local files: paths, directories (walked recursively in a deterministic order) and stdin.

use std::path::Path;

use super::{Problem, SourceError, SourceSpec, Unit};

/// The units a set of sources expands to, the files passed over (with why), and folders that
/// could not be listed (reported, not fatal: the rest of the tree is still read).
#[derive(Debug, Default)]
pub struct Expanded {
    pub units: Vec<Unit>,
    pub skipped: Vec<String>,
    pub problems: Vec<Problem>,
}

/// Is this file, met while walking a directory, an invocation-log file? Sidecar bodies under a
/// `data/` folder, the permission-check object and anything without a JSON name are not.
pub fn is_log_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let json_name = [".json", ".jsonl", ".ndjson"].iter().any(|ext| stem.ends_with(ext));
    let in_data_dir = path.parent().and_then(Path::file_name).is_some_and(|d| d == "data");
    // CloudTrail's digest files sign the log files; they hold no events.
    let digest = path.components().any(|c| c.as_os_str() == "CloudTrail-Digest");
    json_name && !in_data_dir && !digest
}

/// What a file's path says it holds: CloudTrail's layout
/// (`AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_..._ID.json.gz`),
/// Bedrock's (`.../BedrockModelInvocationLogs/...`), or neither (its content decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Trail,
    Logs,
    Unknown,
}

pub fn layout_of(path: &str) -> Layout {
    let name = path.rsplit('/').next().unwrap_or(path);
    let folders: Vec<&str> = path.split('/').collect();
    let folders = &folders[..folders.len().saturating_sub(1)];
    if name.contains("_CloudTrail_") || folders.contains(&"CloudTrail") {
        Layout::Trail
    } else if folders.contains(&"BedrockModelInvocationLogs") {
        Layout::Logs
    } else {
        Layout::Unknown
    }
}

/// Whether a local file is a CloudTrail file: by its path, else by its first bytes (inflated
/// when it is gzip). A file that cannot be opened is left to the reader, which reports it.
pub fn is_trail_file(path: &Path) -> bool {
    match layout_of(&path.to_string_lossy()) {
        Layout::Trail => true,
        Layout::Logs => false,
        Layout::Unknown => {
            use std::io::Read;
            let Ok(file) = std::fs::File::open(path) else { return false };
            // A few KB of a gzip file inflate to far more than the 256 bytes looked at.
            let Ok((_, lines)) = super::decode::decompressed(file.take(4096)) else { return false };
            let mut head = Vec::new();
            let _ = lines.take(256).read_to_end(&mut head);
            crate::record::trail::is_document(&head)
        }
    }
}

pub fn expand(sources: &[SourceSpec]) -> Result<Expanded, SourceError> {
    let mut out = Expanded::default();
    for spec in sources {
        match spec {
            SourceSpec::Stdin => out.units.push(Unit::Stdin),
            // Read by their own fetchers (source::start).
            SourceSpec::S3(_) | SourceSpec::CloudWatch(_) | SourceSpec::History(_) => {}
            SourceSpec::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
                    std::io::ErrorKind::NotFound => SourceError::Missing { path: path.clone() },
                    _ => SourceError::Unreadable { path: path.clone(), source },
                })?;
                if meta.is_dir() {
                    walk(path, &mut out);
                } else {
                    // A file named on the command line is read whatever its name: the user chose it.
                    out.units.push(Unit::File(path.clone()));
                }
            }
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Expanded) {
    let listed = std::fs::read_dir(dir).and_then(|entries| {
        entries.map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?)))).collect::<Result<Vec<_>, _>>()
    });
    let mut entries = match listed {
        Ok(entries) => entries,
        Err(e) => {
            out.problems
                .push(Problem { unit: dir.display().to_string().into(), message: format!("cannot list folder: {e}") });
            return;
        }
    };
    entries.sort_by(|a, b| a.0.file_name().cmp(&b.0.file_name()));
    for (path, file_type) in entries {
        if file_type.is_dir() {
            walk(&path, out);
        } else if file_type.is_symlink() && path.is_dir() {
            // Linked directories are not followed (as fd and ripgrep do by default): no loops.
            out.skipped.push(format!("{} (linked folder, not followed)", path.display()));
        } else if !is_log_file(&path) {
            out.skipped.push(path.display().to_string());
        } else if let Some(what) = not_regular(&path, file_type) {
            // A FIFO would block the run and a device (a link to /dev/zero) never ends: a walk
            // reads regular files only. A file named on the command line is read as it is.
            out.skipped.push(format!("{} ({what}, not a regular file)", path.display()));
        } else {
            out.units.push(Unit::File(path));
        }
    }
}

/// What a walked path is when it is not a regular file, following symlinks (only links cost a
/// `stat`: the listing gave the type of the rest). A path that cannot be inspected (a dangling
/// link) is left to `open`, which reports it as a problem.
fn not_regular(path: &Path, listed: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = if listed.is_symlink() { std::fs::metadata(path).ok()?.file_type() } else { listed };
    match () {
        _ if t.is_file() => None,
        _ if t.is_fifo() => Some("named pipe"),
        _ if t.is_socket() => Some("socket"),
        _ if t.is_char_device() || t.is_block_device() => Some("device"),
        _ => Some("special file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_file_table() {
        let cases = [
            ("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/09/00/20261109T000512345Z_0123456789abcdef.json.gz", true),
            ("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/09/00/data/abc_input.json.gz", false),
            ("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/09/00/data/abc_output.json.gz", false),
            ("p/AWSLogs/1/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check", false),
            ("logs/export.jsonl", true),
            ("logs/export.NDJSON", true),
            ("logs/export.ndjson.gz", true),
            ("logs/one.json", true),
            ("logs/readme.txt", false),
            ("logs/archive.tar.gz", false),
            ("logs/.DS_Store", false),
        ];
        for (p, want) in cases {
            assert_eq!(is_log_file(Path::new(p)), want, "{p}");
        }
    }

    #[test]
    fn layout_table() {
        let cases = [
            ("b/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T0815Z_abCD.json.gz", Layout::Trail),
            ("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/03/02/x.json.gz", Layout::Trail),
            ("downloads/111122223333_CloudTrail_us-east-1_20260302T0815Z_abCD.json.gz", Layout::Trail),
            ("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/09/00/20261109T000512345Z_0123456789abcdef.json.gz", Layout::Logs),
            ("logs/export.jsonl", Layout::Unknown),
            ("CloudTrail", Layout::Unknown),
        ];
        for (p, want) in cases {
            assert_eq!(layout_of(p), want, "{p}");
        }
        assert!(!is_log_file(Path::new(
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/02/1_CloudTrail-Digest_x.json.gz"
        )));
    }

    #[test]
    fn trail_files_are_known_by_content_when_the_name_does_not_say() {
        let dir = std::env::temp_dir().join(format!("mila-trail-peek-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (doc, log) = (dir.join("events.json"), dir.join("export.jsonl"));
        std::fs::write(&doc, "\n  {\"Records\": []}").unwrap();
        std::fs::write(&log, "{\"schemaType\":\"ModelInvocationLog\"}\n").unwrap();
        let gz = dir.join("events.json.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, b"{\"Records\":[{}]}").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert!(is_trail_file(&doc) && is_trail_file(&gz));
        assert!(!is_trail_file(&log) && !is_trail_file(&dir.join("missing.json")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let err = expand(&[SourceSpec::Path("/no/such/place".into())]).unwrap_err();
        assert_eq!(err.to_string(), "source /no/such/place: no such file or directory");
    }
}
