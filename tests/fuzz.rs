//! A seeded generator of broken input (issue 12): valid records mutated by truncation, byte
//! flips, spliced records, deep nesting, huge numbers, odd Unicode and invalid UTF-8, wrong
//! types, absurd timestamps, repeated ids; whole files gzip-damaged. Thousands of cases, every
//! run of mila under `ulimit -v` (virtual memory), asserting what mila promises of any input:
//! no panic and exit 0 (report) or 0/1 (check), every line accounted for
//! (`lines + outside_window` = the non-blank lines written; `parsed` = requests + duplicates;
//! rejects add up), and no body text in any output. Deterministic: the seed is fixed, and a
//! failure names the file and seed to reproduce it with.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test tool reports what it measured

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};

const SEED: u64 = 0x5EED_0012;
/// Each mila run's address space, in KiB: far above what these inputs need (about 400 MiB),
/// far below what a runaway allocation takes.
const VMEM_KIB: u64 = 1 << 20;
const SECRET: &str = "SECRET-BODY";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "\\u202Eevil-1",
    "<b>bold</b>",
    "us-*-1",
    "ünï-cödé-1",
    "\\u0000nul",
    "tab\\there",
];
const MODELS: &[&str] = &[
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    "eu.amazon.nova-lite-v1:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
    "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-8b-instruct-v1:0",
    "kr.anthropic.made-up-v9",
    "",
];
const OPERATIONS: &[&str] = &["Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream", "Odd"];
const NUMBERS: &[&str] = &[
    "0",
    "5",
    "1000000000",
    "1000000001",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "1.5",
    "1e999",
    "99999999999999999999999999999",
    "null",
    "\"12\"",
    "[]",
];
const TIMES: &[&str] = &[
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-13-45T00:00:00Z",
    "2026-11-10T08:00:00+14:00",
    "2026-11-10T08:00:00.123456789Z",
    "yesterday",
];

/// A record as its top-level fields (key, JSON value), so that records splice at field
/// boundaries and body text never lands inside a field mila reads.
fn record(rng: &mut Rng, n: usize) -> Vec<(String, String)> {
    let day = 9 + rng.below(7);
    let ts = if rng.chance(8) {
        rng.pick(TIMES).to_string()
    } else {
        format!("2026-11-{day:02}T{:02}:{:02}:{:02}Z", rng.below(24), rng.below(60), rng.below(60))
    };
    let id = if rng.chance(10) { format!("dup-{}", rng.below(5)) } else { format!("id-{n}") };
    let num = |rng: &mut Rng| if rng.chance(5) { rng.pick(NUMBERS).to_string() } else { rng.below(5000).to_string() };
    let body_text = format!("{SECRET}-{n} {}", "lorem ipsum ".repeat(rng.below(20)));
    let output_body = match rng.below(3) {
        0 => format!(
            "{{\"output\":{{\"message\":{{\"content\":[{{\"text\":\"{body_text}\"}}]}}}},\"metrics\":{{\"latencyMs\":{}}}}}",
            num(rng)
        ),
        1 => format!(
            "[{{\"delta\":{{\"text\":\"{body_text}\"}}}},{{\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{},\"invocationLatency\":{},\"firstByteLatency\":{}}}}}]",
            num(rng),
            num(rng),
            num(rng)
        ),
        _ => format!("{{\"completion\":\"{body_text}\",\"stop_reason\":\"end_turn\"}}"),
    };
    let mut fields = vec![
        ("schemaType".into(), "\"ModelInvocationLog\"".into()),
        ("timestamp".into(), format!("\"{ts}\"")),
        ("requestId".into(), format!("\"{id}\"")),
        ("region".into(), format!("\"{}\"", rng.pick(REGIONS))),
        ("operation".into(), format!("\"{}\"", rng.pick(OPERATIONS))),
        ("modelId".into(), format!("\"{}\"", rng.pick(MODELS))),
        (
            "input".into(),
            format!(
                "{{\"inputTokenCount\":{},\"cacheReadInputTokenCount\":{},\"inputBodyJson\":{{\"messages\":[{{\"role\":\"user\",\"content\":\"{body_text}\"}}]}}}}",
                num(rng),
                num(rng)
            ),
        ),
        ("output".into(), format!("{{\"outputTokenCount\":{},\"outputBodyJson\":{output_body}}}", num(rng))),
        ("identity".into(), format!("{{\"arn\":\"arn:aws:iam::123456789012:user/u{}\"}}", rng.below(4))),
    ];
    if rng.chance(70) {
        fields.push(("inferenceRegion".into(), format!("\"{}\"", rng.pick(REGIONS))));
    }
    if rng.chance(20) {
        fields.push(("errorCode".into(), "\"ThrottlingException\"".into()));
    }
    if rng.chance(30) {
        fields.push(("requestMetadata".into(), format!("{{\"team\":\"t{}\",\"\\u202e\":\"x\"}}", rng.below(3))));
    }
    fields
}

fn join(fields: &[(String, String)]) -> Vec<u8> {
    let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", inner.join(",")).into_bytes()
}

/// One line of input: a record, broken in one or more ways (or, one time in four, not at all).
fn line(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut fields = record(rng, n);
    match rng.below(12) {
        0..=2 => {}
        3 => {
            // Spliced: the head of this record, the tail of another.
            let other = record(rng, n + 1_000_000);
            let (a, b) = (rng.below(fields.len()), rng.below(other.len()));
            fields.truncate(a);
            fields.extend(other.into_iter().skip(b));
        }
        4 => {
            // A read field of another type.
            let i = rng.below(7);
            fields[i].1 = rng.pick(&["42", "[1,2]", "{\"a\":1}", "null", "true", "\"\""]).to_string();
        }
        5 => {
            // A field twice.
            let i = rng.below(fields.len());
            let f = fields[i].clone();
            fields.push(f);
        }
        6 => {
            // Deep nesting in a body, balanced or not.
            let d = 1 + rng.below(50_000);
            let close = if rng.chance(50) { "]".repeat(d) } else { String::new() };
            fields.push(("deep".into(), format!("{}{close}", "[".repeat(d))));
        }
        7 => {
            // A missing required field.
            let i = 1 + rng.below(5);
            fields.remove(i);
        }
        _ => {}
    }
    let mut bytes = join(&fields);
    match rng.below(10) {
        0 => bytes.truncate(rng.below(bytes.len())),
        1 => {
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            // Invalid UTF-8 or a lone surrogate inside a string.
            let at = bytes.windows(2).position(|w| w == b"\":").map_or(1, |p| p + 3).min(bytes.len());
            let junks: [&[u8]; 5] = [b"\xff\xfe", b"\xc0\x80", b"\\ud800", b"\\u202e", b"\xed\xa0\x80"];
            let junk = *rng.pick(&junks);
            bytes.splice(at..at, junk.iter().copied());
        }
        3 => {
            bytes =
                rng.pick(&[&b"{}"[..], b"[]", b"null", b"\"s\"", b"1", b"{\"a\":", b"\xef\xbb\xbf{}", b"}{"]).to_vec()
        }
        _ => {}
    }
    bytes
}

/// Non-blank lines as mila's splitter counts them (LF-separated; CR, spaces and tabs blank).
fn non_blank_lines(bytes: &[u8]) -> u64 {
    bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count() as u64
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Runs mila under the address-space limit.
fn mila_limited(args: &[&str], stdin: Option<&Path>) -> Run {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(format!("ulimit -v {VMEM_KIB} && exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_mila")).args(args);
    if let Some(p) = stdin {
        cmd.stdin(std::fs::File::open(p).unwrap());
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn files_text(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        all.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
    }
    all
}

/// What every run must show, whatever the input.
fn check_run(what: &str, r: &Run, written: Option<u64>) -> serde_json::Value {
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("internal error"), "{what}: {}", r.stderr);
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET), "{what}: body text in the output");
    let s = r.json();
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{what}: not a count: {v}"));
    let rec = &s["records"];
    if let Some(written) = written {
        assert_eq!(n(&rec["lines"]) + n(&rec["outside_window"]), written, "{what}: lines lost or invented");
    }
    assert_eq!(n(&rec["parsed"]), n(&s["rerouting"]["requests"]) + n(&rec["duplicates"]), "{what}: parsed");
    let rejects: u64 = s["input"]["rejects"].as_array().unwrap().iter().map(|r| n(&r["lines"])).sum();
    assert_eq!(rejects, n(&rec["rejected"]), "{what}: rejects do not add up");
    s
}

#[test]
fn fuzz_broken_input_never_panics_loses_lines_or_leaks_bodies() {
    let started = std::time::Instant::now();
    let dir = tempdir();
    let mut rng = Rng(SEED);
    let mut n = 0;
    let mut cases = 0;
    let mut plain: Vec<(PathBuf, u64)> = Vec::new();
    for f in 0..60 {
        let mut bytes = Vec::new();
        for _ in 0..100 {
            bytes.extend(line(&mut rng, n));
            bytes.extend(if rng.chance(10) { &b"\r\n"[..] } else { b"\n" });
            if rng.chance(3) {
                bytes.extend(b"   \n");
            }
            n += 1;
            cases += 1;
        }
        let path = dir.path().join(format!("f{f:02}.jsonl"));
        std::fs::write(&path, &bytes).unwrap();
        plain.push((path, non_blank_lines(&bytes)));
    }
    // Gzip damage: cut short, flipped bits, junk after the end, a gzip header and nothing else.
    let gzdir = dir.path().join("gz");
    std::fs::create_dir(&gzdir).unwrap();
    for g in 0..60 {
        let text: Vec<u8> = (0..50)
            .flat_map(|_| {
                n += 1;
                let mut l = line(&mut rng, n);
                l.push(b'\n');
                l
            })
            .collect();
        let mut z = gz(&text);
        match g % 5 {
            0 => z.truncate(rng.below(z.len())),
            1 => {
                let i = 10 + rng.below(z.len() - 10);
                z[i] ^= 1 << rng.below(8);
            }
            2 => z.extend(b"trailing junk\n"),
            3 => z.truncate(10),
            _ => z.extend(gz(b"{\"second\":\"member\"}\n")),
        }
        std::fs::write(gzdir.join(format!("g{g:02}.json.gz")), &z).unwrap();
        cases += 1;
    }

    let mut reasons: std::collections::BTreeMap<String, u64> = Default::default();
    let mut parsed = 0;
    for (i, (path, written)) in plain.iter().enumerate() {
        let p = path.to_str().unwrap();
        let what = format!("seed {SEED:#x}, {p}");
        let s = check_run(&what, &mila_limited(&["report", p, "--format", "json"], None), Some(*written));
        parsed += s["records"]["parsed"].as_u64().unwrap();
        for r in s["input"]["rejects"].as_array().unwrap() {
            *reasons.entry(r["reason"].as_str().unwrap().to_string()).or_default() += r["lines"].as_u64().unwrap();
        }
        if i % 3 == 0 {
            let r = mila_limited(
                &["report", "-", "--format", "json", "--since", "2026-11-09", "--until", "2026-11-16"],
                Some(path),
            );
            check_run(&format!("{what} on stdin, one week"), &r, Some(*written));
        }
        if i % 10 == 0 {
            let out = dir.path().join(format!("out{i}"));
            let r = mila_limited(&["report", p, "--format", "json", "--out", out.to_str().unwrap()], None);
            check_run(&format!("{what} --out"), &r, Some(*written));
            let text = files_text(&out);
            assert!(!text.contains(SECRET), "{what}: body text in the report files");
            assert!(!text.contains("\u{202E}"), "{what}: a bidi override reached the report");
            for c in ["rerouting-matrix", "rerouting-rate-by-day", "latency-by-region", "cost-by-day", "volume-by-day"]
            {
                assert!(out.join(format!("{c}.svg")).exists(), "{what}: chart {c}");
            }
        }
        if i % 5 == 0 {
            let policy = dir.path().join("policy.toml");
            std::fs::write(&policy, "[[rule]]\nsource = \"us-*\"\nallow = [\"us-*\"]\n").unwrap();
            let r = mila_limited(&["check", p, "--policy", policy.to_str().unwrap(), "--format", "csv"], None);
            assert!(r.code == 0 || r.code == 1, "{what} check: exit {}: {}", r.code, r.stderr);
            assert!(!r.stdout.contains(SECRET) && !r.stderr.contains("panicked"), "{what} check");
        }
    }
    let s = check_run(
        &format!("seed {SEED:#x}, damaged gzip"),
        &mila_limited(&["report", gzdir.to_str().unwrap(), "--format", "json"], None),
        None,
    );
    let problems = s["input"]["problems"].as_array().unwrap().len();
    assert!(problems >= 36, "every cut or flipped object is a problem: {problems}");
    eprintln!(
        "{cases} cases ({n} records) in {:.1} s; {parsed} lines parsed, rejected:",
        started.elapsed().as_secs_f64()
    );
    for (reason, count) in &reasons {
        eprintln!("{count:>6}  {reason}");
    }
    // The generator reaches every kind of reject it means to.
    for want in [
        "not valid JSON",
        "truncated JSON",
        "missing required field",
        "wrong type for field",
        "not a valid record",
        "token count",
        "timestamp is not RFC 3339",
        "not a JSON object",
    ] {
        assert!(reasons.keys().any(|r| r.starts_with(want)), "no case rejected as {want}: {reasons:?}");
    }
}

/// A CloudTrail event of the generator: a Bedrock call, another Bedrock call or another
/// service's event, with some field of the wrong type now and then.
fn trail_event(rng: &mut Rng, n: usize) -> String {
    let names = ["Converse", "InvokeModel", "ConverseStream", "InvokeModelWithResponseStream", "ListFoundationModels"];
    let sources = ["bedrock.amazonaws.com", "bedrock.amazonaws.com", "bedrock.amazonaws.com", "s3.amazonaws.com"];
    let mut fields: Vec<(String, String)> = vec![
        ("eventVersion".into(), "\"1.09\"".into()),
        ("eventTime".into(), format!("\"{}\"", rng.pick(TIMES))),
        ("eventSource".into(), format!("\"{}\"", rng.pick(&sources))),
        ("eventName".into(), format!("\"{}\"", rng.pick(&names))),
        ("awsRegion".into(), format!("\"{}\"", rng.pick(REGIONS))),
        ("requestParameters".into(), format!("{{\"modelId\":\"{}\"}}", rng.pick(MODELS))),
        ("requestID".into(), format!("\"t{}\"", if rng.chance(10) { n / 2 } else { n })),
        ("userIdentity".into(), "{\"arn\":\"arn:aws:sts::1:assumed-role/R/s\",\"accountId\":\"1\"}".into()),
        ("responseElements".into(), format!("{{\"text\":\"{SECRET}\"}}")),
    ];
    if rng.chance(30) {
        fields.push(("additionalEventData".into(), format!("{{\"inferenceRegion\":\"{}\"}}", rng.pick(REGIONS))));
    }
    if rng.chance(25) {
        let i = rng.below(fields.len());
        fields[i].1 =
            rng.pick(&["5", "[1]", "{\"a\":{}}", "true", "null", "\"\"", "-1e400", &"[".repeat(200)]).to_string();
    }
    join(&fields).into_iter().map(char::from).collect::<String>()
}

/// Shape of a statement: each string literal `?`, each quoted identifier `I`, white space one
/// space; keywords and symbols as they are.
fn shape(sql: &str) -> String {
    let c: Vec<char> = sql.chars().collect();
    let (mut out, mut i) = (String::new(), 0);
    while i < c.len() {
        let q = match c[i] {
            'U' if c.get(i + 1) == Some(&'&') && c.get(i + 2) == Some(&'\'') => {
                i += 2;
                '\''
            }
            q @ ('\'' | '"' | '`') => q,
            w if w.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
                i += 1;
                continue;
            }
            other => {
                out.push(other);
                i += 1;
                continue;
            }
        };
        i += 1;
        while i < c.len() && !(c[i] == q && c.get(i + 1) != Some(&q)) {
            i += if c[i] == q { 2 } else { 1 };
        }
        i += 1;
        out.push(if q == '\'' { '?' } else { 'I' });
    }
    out
}

#[test]
fn fuzz_trail_documents_and_sql_values() {
    let dir = tempdir();
    let mut rng = Rng(SEED ^ 0x22);
    // CloudTrail documents, mutated: whole, cut short, trailing junk, two in one file, pretty
    // printed, gzip cut short.
    let trails = dir.path().join("trails");
    std::fs::create_dir(&trails).unwrap();
    let mut n = 0;
    for f in 0..80 {
        let events: Vec<String> = (0..rng.below(60))
            .map(|_| {
                n += 1;
                trail_event(&mut rng, n)
            })
            .collect();
        let doc = format!("{{\"Records\":[{}]}}", events.join(","));
        let bytes: Vec<u8> = match f % 7 {
            0 => doc.as_bytes()[..rng.below(doc.len())].to_vec(),
            1 => format!("{doc} {}", rng.pick(&["junk", "]", "{", "{\"Records\":5}", "[1,2]"])).into_bytes(),
            2 => format!("{doc}\n{doc}\n").into_bytes(),
            3 => {
                serde_json::to_vec_pretty(&serde_json::from_str::<serde_json::Value>(&doc).unwrap_or_default()).unwrap()
            }
            4 => {
                let mut z = gz(doc.as_bytes());
                z.truncate(10 + rng.below(z.len().saturating_sub(10).max(1)));
                z
            }
            5 => [gz(doc.as_bytes()), gz(doc.as_bytes())].concat(),
            _ => doc.into_bytes(),
        };
        std::fs::write(trails.join(format!("t{f:02}.json")), bytes).unwrap();
    }
    for f in std::fs::read_dir(&trails).unwrap().flatten() {
        let p = f.path();
        let what = format!("seed {:#x}, {}", SEED ^ 0x22, p.display());
        check_run(&what, &mila_limited(&["report", p.to_str().unwrap(), "--format", "json"], None), None);
    }
    let all =
        check_run("all trails", &mila_limited(&["report", trails.to_str().unwrap(), "--format", "json"], None), None);
    assert!(all["sources"]["cloudtrail_calls"].as_u64().unwrap() > 100, "{}", all["sources"]);

    // Values that reach Athena's SQL, from the command line and the files: each statement is
    // refused (exit 2) or has the shape it has with plain values; the script splits into one
    // statement per `;` line.
    let pieces = [
        "'", "\"", "`", "\\", ";", "\n", "\r", "\0", "--", "/*", "*/", "U&'", "\u{2019}", "\u{ff07}", "%", "_", "$",
        "{", "a", "-", "*", "?", " ",
    ];
    let dry = |key: &str, arn: &str, glob: &str| {
        let profiles = dir.path().join("p.toml");
        let text = format!(
            "[[profile]]\narn = {}\nmodel = {}\n",
            toml::Value::String(format!("arn:aws:bedrock:us-east-1:1:application-inference-profile/{arn}")),
            toml::Value::String(format!("anthropic.{arn}"))
        );
        std::fs::write(&profiles, text).unwrap();
        let policy = dir.path().join("policy.toml");
        std::fs::write(
            &policy,
            format!("[[rule]]\nsource = {}\nallow = [\"eu-*\"]\n", toml::Value::String(glob.into())),
        )
        .unwrap();
        let (p, q) = (profiles.to_str().unwrap().to_string(), policy.to_str().unwrap().to_string());
        let extra = ["--by-metadata", key, "--profiles", &p, "--policy", &q, "--cloudtrail-table", "ct.trail"];
        mila_limited(&athena_dry_run(&extra), None)
    };
    let sections = |script: &str| -> Vec<String> { script.split("\n;\n").map(shape).collect() };
    let benign = dry("team", "x", "eu-*");
    assert_eq!(benign.code, 0, "{}", benign.stderr);
    let want = sections(&benign.stdout);
    let (mut refused, mut ran) = (0, 0);
    for _ in 0..150 {
        let mut value = || (0..1 + rng.below(6)).map(|_| *rng.pick(&pieces)).collect::<String>();
        // A command-line argument cannot hold NUL; the files can.
        let (key, arn, glob) = (format!("team{}", value().replace('\0', "")), value(), value());
        let r = dry(&key, &arn, &glob);
        let what = format!("seed {:#x}: key {key:?}, arn {arn:?}, glob {glob:?}", SEED ^ 0x22);
        assert!(!r.stderr.contains("panicked") && !r.stderr.contains("internal error"), "{what}: {}", r.stderr);
        match r.code {
            2 => refused += 1,
            0 => {
                ran += 1;
                let statements = r.stdout.lines().filter(|l| l.starts_with("-- ")).count();
                assert_eq!(r.stdout.lines().filter(|l| *l == ";").count(), statements, "{what}");
                assert_eq!(sections(&r.stdout), want, "{what}:\n{}", r.stdout);
            }
            c => panic!("{what}: exit {c}: {}", r.stderr),
        }
    }
    assert!(refused > 0 && ran > 0, "{refused} refused, {ran} ran");
}
