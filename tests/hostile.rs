//! Issue 12: input built to hurt (or just unlucky) never hangs, crashes, balloons or miscounts
//! mila. Each test reproduces one class from the issue; big inputs are generated here, streamed
//! to a temporary file, never committed.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

const GOOD: &str = r#"{"timestamp":"TS","region":"REGION","requestId":"ID","operation":"Converse","modelId":"us.anthropic.claude-3-haiku-20240307-v1:0","inferenceRegion":"RAN","input":{"inputTokenCount":5},"output":{"outputTokenCount":7,"outputBodyJson":{"metrics":{"latencyMs":100}}},"schemaType":"ModelInvocationLog"}"#;

fn rec(id: &str, ts: &str, region: &str, ran: &str) -> String {
    GOOD.replace("\"ID\"", &format!("\"{id}\"")).replace("TS", ts).replace("REGION", region).replace("RAN", ran)
}

fn good(id: &str) -> String {
    rec(id, "2026-11-10T08:00:00Z", "us-east-1", "us-west-2")
}

fn report_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    ok(&all).json()
}

fn rejects(s: &serde_json::Value) -> Vec<(String, u64, Vec<String>)> {
    s["input"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let first = r["first"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
            (r["reason"].as_str().unwrap().to_string(), r["lines"].as_u64().unwrap(), first)
        })
        .collect()
}

const CHARTS: [&str; 6] = [
    "rerouting-matrix",
    "rerouting-rate-by-day",
    "latency-by-region",
    "latency-local-vs-rerouted",
    "cost-by-day",
    "volume-by-day",
];

/// Class 1: Output follows the data, not its date span: a record dated 9999-12-31 beside one of today
/// (the axis rolls up to at most 400 buckets), and a two-century window over two records.
#[test]
fn output_size_does_not_follow_the_date_span() {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let lines = [good("now"), rec("far", "9999-12-31T23:59:59Z", "eu-west-1", "eu-west-1")];
    std::fs::write(logs.join("a.jsonl"), lines.join("\n")).unwrap();
    let cases: [&[&str]; 2] = [&[], &["--since", "1900-01-01", "--until", "2100-01-01"]];
    for (i, extra) in cases.iter().enumerate() {
        let out = dir.path().join(format!("out{i}"));
        let mut args = vec!["report", logs.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let m = mila_measured(&args, None, Duration::from_secs(120));
        assert!(!m.timed_out && m.run.code == 0, "{args:?}: {}", m.run.stderr);
        let size = tree_size(&out);
        assert!(size < 3 << 20, "{args:?}: {size} bytes written");
        assert!(m.peak_mib < 400, "{args:?}: {} MiB", m.peak_mib);
        for c in CHARTS {
            assert!(out.join(format!("{c}.svg")).exists(), "{c}");
        }
    }
    // The far record is counted, and the chart says its buckets are weeks.
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out0/summary.json")).unwrap()).unwrap();
    assert_eq!(s["records"]["parsed"], 2);
    let volume = std::fs::read_to_string(dir.path().join("out0/volume-by-day.svg")).unwrap();
    assert!(volume.contains("weeks from Monday (UTC)"), "x axis names its buckets");
}

/// Class 2: Prices and quotas past sane bounds are refused with the line; hundreds of region strings
/// draw a matrix of the top regions and "other".
#[test]
fn absurd_prices_are_refused_and_many_regions_fold_into_other() {
    let dir = tempdir();
    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        "# huge\nmodel,region,tier,input,output,cache_read,cache_write\nanthropic.claude-3-haiku-20240307-v1:0,*,*,1e308,1,,\n",
    )
    .unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // 300 source regions, each rerouted to its own inference region: 600 distinct strings.
    let lines: Vec<String> = (0..300)
        .map(|i| rec(&format!("r{i}"), "2026-11-10T08:00:00Z", &format!("src-{i}"), &format!("ran-{i}")))
        .collect();
    std::fs::write(logs.join("a.jsonl"), lines.join("\n")).unwrap();
    let logs = logs.to_str().unwrap();

    let r = mila(&["report", logs, "--prices", prices.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("prices.csv: line 3: `input` must be a number from 0 to 100000"), "{}", r.stderr);

    let out = dir.path().join("out");
    let m = mila_measured(&["report", logs, "--out", out.to_str().unwrap()], None, Duration::from_secs(120));
    assert!(!m.timed_out && m.run.code == 0, "{}", m.run.stderr);
    assert!(m.peak_mib < 400, "{} MiB", m.peak_mib);
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["rerouting"]["by_source_region"].as_array().unwrap().len(), 300, "summary.json keeps every row");
    let matrix = std::fs::read_to_string(out.join("rerouting-matrix.svg")).unwrap();
    assert!(matrix.contains("other (289 regions)"), "11 source regions drawn, 289 folded");
    assert!(matrix.contains("other (296 regions)"), "5 other inference regions drawn, 296 folded");
    let volume = std::fs::read_to_string(out.join("volume-by-day.svg")).unwrap();
    assert!(volume.contains("other (294 regions)"), "6 lines drawn, 294 summed");
}

/// Class 2b: A chart that fails is reported and skipped; summary.json and the other charts are
/// written. A panic reading one file loses only that file. Either ends with exit 2.
#[test]
fn a_panic_in_a_chart_or_a_unit_loses_nothing_else() {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.jsonl"), good("a")).unwrap();
    std::fs::write(logs.join("b.jsonl"), good("b")).unwrap();
    let out = dir.path().join("out");
    let run = |hook: &str| {
        let _ = std::fs::remove_dir_all(&out);
        let r = mila_env_vars(
            &[("MILA_TEST_PANIC", hook)],
            &["report", logs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--format", "json"],
        );
        assert_eq!(r.code, 2, "{hook}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked at"), "no raw panic message: {}", r.stderr);
        assert!(r.stderr.contains("internal error(s) (reported above)"), "{}", r.stderr);
        r
    };

    let r = run("chart:rerouting-matrix");
    assert!(
        r.stderr.contains(
            "chart rerouting-matrix not drawn: internal error (a bug in mila) while drawing the chart rerouting-matrix"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["records"]["parsed"], 2);
    assert!(out.join("summary.json").exists() && !out.join("rerouting-matrix.svg").exists());
    for c in &CHARTS[1..] {
        assert!(out.join(format!("{c}.svg")).exists(), "{c}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("The chart rerouting-matrix could not be drawn"), "the report says so");

    let r = run("read:b.jsonl");
    let s = r.json();
    assert_eq!(s["records"]["parsed"], 1, "a.jsonl is still read");
    let problems = serde_json::to_string(&s["input"]["problems"]).unwrap();
    assert!(problems.contains("b.jsonl") && problems.contains("internal error"), "{problems}");
    assert!(out.join("summary.json").exists());
}

fn mila_env_vars(vars: &[(&str, &str)], args: &[&str]) -> Run {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_mila")).args(args).envs(vars.iter().copied()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Class 3: A walk reads regular files only: a FIFO (which would block), a link to /dev/zero (which
/// never ends) and a socket are skipped and counted, also behind symlinks.
#[test]
fn files_that_are_not_files_are_skipped_and_counted() {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.jsonl"), good("a")).unwrap();
    let fifo = logs.join("fifo.jsonl");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::os::unix::fs::symlink("/dev/zero", logs.join("x.json")).unwrap();
    std::os::unix::fs::symlink(&fifo, logs.join("y.json")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(logs.join("s.json")).unwrap();
    std::os::unix::fs::symlink(logs.join("a.jsonl"), logs.join("z.json")).unwrap();
    let m = mila_measured(&["report", logs.to_str().unwrap(), "--format", "json"], None, Duration::from_secs(60));
    assert!(!m.timed_out, "the run hung");
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    let s = m.run.json();
    // a.jsonl, and the link to it (the same record, so a duplicate).
    assert_eq!((s["records"]["parsed"].as_u64(), s["records"]["duplicates"].as_u64()), (Some(2), Some(1)));
    assert_eq!(s["records"]["skipped_objects"], 4);
    let skipped = serde_json::to_string(&s["input"]["skipped_examples"]).unwrap();
    for want in [
        "fifo.jsonl (named pipe, not a regular file)",
        "x.json (device, not a regular file)",
        "y.json (named pipe",
        "s.json (socket",
    ] {
        assert!(skipped.contains(want), "{want}: {skipped}");
    }
}

/// Writes `n` lines made by `line(i)` to a file, gzip-compressed when `gzip`.
fn stream_to(path: &Path, n: usize, gzip: bool, line: impl Fn(usize) -> String) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w: Box<dyn Write> =
        if gzip { Box::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast())) } else { Box::new(file) };
    for i in 0..n {
        w.write_all(line(i).as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
}

/// Class 4a: One record repeated costs one row: memory does not grow with copies that add nothing
/// (1.5 million copies, 460 MB inflated from a 2 MB gzip, on standard input).
#[test]
fn one_record_repeated_on_stdin_costs_one_row() {
    let dir = tempdir();
    let input = dir.path().join("repeated.jsonl.gz");
    let n = 1_500_000;
    stream_to(&input, n, true, |_| good("same"));
    let m = mila_measured(&["report", "-", "--format", "json"], Some(&input), Duration::from_secs(300));
    assert!(!m.timed_out && m.run.code == 0, "{}", m.run.stderr);
    let s = m.run.json();
    assert_eq!(s["records"]["lines"], n);
    assert_eq!(s["records"]["duplicates"], n - 1);
    assert_eq!(s["rerouting"]["requests"], 1);
    assert!(m.peak_mib < 120, "peak {} MiB for one distinct record", m.peak_mib);
}

/// Class 4b: A line past --max-line-length is rejected with its location and not held; the lines after
/// it are read. A wrong-typed field beside a large body names the field without building a
/// tree of the body.
#[test]
fn huge_lines_are_rejected_with_their_location_in_bounded_memory() {
    let dir = tempdir();
    let input = dir.path().join("long.jsonl");
    // Line 2: 300 MB of one JSON string; line 3: an array body of 2 million small objects
    // (a serde_json::Value of it would take ~400 MB) with a wrong-typed token count.
    let big_string = || format!("{{\"junk\":\"{}\"}}", "x".repeat(300 << 20));
    let body: String = std::iter::repeat_n("{\"role\":\"user\",\"n\":[1,2]}", 2_000_000).collect::<Vec<_>>().join(",");
    let wrong = good("wrong")
        .replace("\"inputTokenCount\":5", "\"inputTokenCount\":\"five\"")
        .replace("{\"metrics\":{\"latencyMs\":100}}", &format!("[{body}]"));
    stream_to(&input, 4, false, |i| match i {
        0 => good("first"),
        1 => big_string(),
        2 => wrong.clone(),
        _ => good("last"),
    });
    let m = mila_measured(
        &["report", input.to_str().unwrap(), "--format", "json", "--max-line-length", "100MiB"],
        None,
        Duration::from_secs(300),
    );
    assert!(!m.timed_out && m.run.code == 0, "{}", m.run.stderr);
    let s = m.run.json();
    assert_eq!((s["records"]["lines"].as_u64(), s["records"]["parsed"].as_u64()), (Some(4), Some(2)));
    let r = rejects(&s);
    let at = |line: u32| vec![format!("{}:{line}", input.display())];
    assert!(r.contains(&("line longer than --max-line-length (104857600 bytes)".into(), 1, at(2))), "{r:?}");
    assert!(r.contains(&("wrong type for field `input.inputTokenCount`".into(), 1, at(3))), "{r:?}");
    assert!(m.peak_mib < 300, "peak {} MiB", m.peak_mib);
}

/// Class 5: The store reports what its ingests rejected and dropped, as a report of the files does.
#[test]
fn the_store_reports_rejects_and_duplicates_like_the_files() {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut lines: Vec<String> = (0..18).map(|i| good(&format!("r{i}"))).collect();
    lines.extend((0..2).map(|i| good(&format!("r{i}"))));
    lines.extend((0..15).map(|i| format!("not json {i}")));
    std::fs::write(logs.join("a.jsonl"), lines.join("\n")).unwrap();
    let files = report_json(&[logs.to_str().unwrap()]);
    let store = dir.path().join("store");
    ok(&["ingest", logs.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    // Run again over the same folder (a daily job): the file is not read again, so nothing is
    // counted twice.
    let again = ok(&["ingest", logs.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    assert!(
        again.stderr.contains("ingested 0 new records")
            && again.stderr.contains("1 objects or files skipped as read before"),
        "{}",
        again.stderr
    );
    let stored = report_json(&["--store", store.to_str().unwrap()]);
    for field in ["lines", "parsed", "rejected", "duplicates"] {
        assert_eq!(stored["records"][field], files["records"][field], "{field}");
    }
    assert_eq!((files["records"]["lines"].as_u64(), files["records"]["rejected"].as_u64()), (Some(35), Some(15)));
    assert_eq!(files["records"]["duplicates"], 2);
    assert_eq!(rejects(&stored), rejects(&files));
}

/// Class 6: Token counts and latencies past their limits are rejected with the field, never clamped
/// or summed into a negative cost.
#[test]
fn numbers_out_of_range_are_rejected() {
    let dir = tempdir();
    let lines = [
        good("ok"),
        good("huge").replace("\"inputTokenCount\":5", "\"inputTokenCount\":18446744073709551615"),
        good("over").replace("\"outputTokenCount\":7", "\"outputTokenCount\":9223372036854775808"),
        good("past").replace("\"inputTokenCount\":5", "\"inputTokenCount\":1e400"),
        good("slow").replace("\"latencyMs\":100", "\"latencyMs\":86400001"),
    ];
    std::fs::write(dir.path().join("n.jsonl"), lines.join("\n")).unwrap();
    let s = report_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(s["records"]["parsed"], 1);
    let reasons: Vec<(String, u64)> = rejects(&s).into_iter().map(|r| (r.0, r.1)).collect();
    let want = [
        ("latency `latency` above 86,400,000 ms (a day)", 1),
        ("not valid JSON", 1),
        ("token count `input.inputTokenCount` above 1,000,000,000 (a thousand times the largest context window)", 1),
        ("token count `output.outputTokenCount` above 1,000,000,000 (a thousand times the largest context window)", 1),
    ];
    let want: Vec<(String, u64)> = want.iter().map(|(r, n)| (r.to_string(), *n)).collect();
    assert_eq!(reasons, want);
    assert_eq!(s["tokens"]["by_model"][0]["input"], 5);
    assert!(s["cost"]["total"].as_f64().unwrap() >= 0.0);
}
