#![allow(dead_code)]
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
