#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]
//! Helpers for running the real binary on fixture trees.

pub mod aws;
pub mod png;
pub mod proxy;
pub mod replay;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `report --engine athena --dry-run` over the table `mila.logs` for ISO week 2026-W46, then `extra`.
pub fn athena_dry_run<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["report", "--engine", "athena", "--athena-table", "mila.logs", "--dry-run", "--week", "2026-W46"];
    args.extend_from_slice(extra);
    args
}

pub fn mila(args: &[&str]) -> Run {
    finish(Command::new(env!("CARGO_BIN_EXE_mila")).args(args).output().expect("run mila"))
}

pub fn mila_stdin(args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mila"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mila");
    child.stdin.take().unwrap().write_all(input).unwrap();
    finish(child.wait_with_output().unwrap())
}

pub fn ok(args: &[&str]) -> Run {
    let r = mila(args);
    assert_eq!(r.code, 0, "mila {args:?} failed:\n{}", r.stderr);
    r
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

pub fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-6)
}

pub fn assert_close(got: &serde_json::Value, want: f64, what: &str) {
    let g = got.as_f64().unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!(approx(g, want), "{what}: got {g}, want {want}");
}

/// Rows of a JSON array keyed by some fields, for order-free comparison.
pub fn by_key<'a>(
    rows: &'a serde_json::Value,
    keys: &[&str],
) -> std::collections::BTreeMap<String, &'a serde_json::Value> {
    rows.as_array()
        .unwrap_or_else(|| panic!("{rows} is not an array"))
        .iter()
        .map(|r| {
            (
                keys.iter()
                    .map(|k| r[*k].as_str().map_or_else(|| r[*k].to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("|"),
                r,
            )
        })
        .collect()
}

/// A fresh directory under the system temp dir, removed on drop (std only: see Cargo.toml).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn tempdir() -> TempDir {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mila-test-{}-{nanos}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// A run of mila with standard input from `stdin` (a file, or nothing), killed after `limit`,
/// and its peak resident memory in MiB (VmHWM, polled while it runs, so slightly under).
pub struct Measured {
    pub run: Run,
    pub peak_mib: u64,
    pub timed_out: bool,
}

pub fn mila_measured(args: &[&str], stdin: Option<&Path>, limit: std::time::Duration) -> Measured {
    let input = match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_mila"));
    command.args(args).stdin(input);
    measure(command, limit)
}

/// Runs `command` (standard input already set), measured as `mila_measured` says.
pub fn measure(mut command: Command, limit: std::time::Duration) -> Measured {
    let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn mila");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = format!("/proc/{}/status", child.id());
    let (start, mut peak_kb, mut timed_out) = (std::time::Instant::now(), 0u64, false);
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().strip_suffix("kB"));
            peak_kb = peak_kb.max(hwm.and_then(|v| v.trim().parse().ok()).unwrap_or(0));
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap().code().unwrap_or(-1);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let run = Run {
        code,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    };
    eprintln!("mila {args:?}: exit {code}, peak {} MiB, {:.1} s", peak_kb / 1024, start.elapsed().as_secs_f64());
    Measured { run, peak_mib: peak_kb / 1024, timed_out }
}

/// Total size of the files under `dir`, in bytes.
pub fn tree_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => tree_size(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Paths at which two JSON values differ, with both sides.
pub fn differences(a: &serde_json::Value, b: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                differences(
                    x.get(k).unwrap_or(&serde_json::Value::Null),
                    y.get(k).unwrap_or(&serde_json::Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}
