//! Issue 22: hostile input, round two. Each test is one probe of the issue's list ("found
//! already"), run as a hostile user would run it, with the exact behaviour asserted. Athena's
//! SQL probes are in `tests/athena.rs` and the unit tests of `src/athena/`; the seeded fuzz test
//! (`tests/fuzz.rs`) covers CloudTrail documents and the SQL builders too.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const NOVA: &str = "amazon.nova-lite-v1:0";

fn log_line(id: &str, time: &str, model: &str) -> String {
    json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": time, "accountId": ACCOUNT,
        "identity": {"arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/App/w")}, "region": "eu-west-1",
        "requestId": id, "operation": "Converse", "modelId": model, "input": {"inputTokenCount": 10},
        "output": {"outputTokenCount": 5, "outputBodyJson": {"metrics": {"latencyMs": 100}}},
    })
    .to_string()
}

fn event(id: &str, time: &str, model: &str) -> Value {
    json!({
        "eventVersion": "1.09", "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/App/w"), "accountId": ACCOUNT},
        "eventTime": time, "eventSource": "bedrock.amazonaws.com", "eventName": "Converse", "awsRegion": "eu-west-1",
        "requestParameters": {"modelId": model}, "requestID": id, "eventID": format!("e-{id}"), "recipientAccountId": ACCOUNT,
    })
}

fn doc(events: &[Value]) -> String {
    json!({ "Records": events }).to_string()
}

fn report(args: &[&str]) -> Value {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    ok(&all).json()
}

fn reads(s: &Value) -> (u64, u64, u64) {
    let src = &s["sources"];
    (
        s["rerouting"]["requests"].as_u64().unwrap(),
        src["cloudtrail_calls"].as_u64().unwrap(),
        src["cloudtrail_only"].as_u64().unwrap(),
    )
}

/// Found 1: the order of reading never changes a count. Five calls, logged and in a trail:
/// the trail on standard input before the logs, and a trail file whose name says nothing,
/// listed before the log file, each count five calls, none only in CloudTrail.
#[test]
fn a_trail_read_before_the_logs_counts_each_call_once() {
    let dir = tempdir();
    let ids = ["c1", "c2", "c3", "c4", "c5"];
    let lines: Vec<String> = ids.iter().map(|id| log_line(id, "2026-03-02T08:00:00Z", HAIKU)).collect();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let trail = doc(&ids.iter().map(|id| event(id, "2026-03-02T08:00:00Z", HAIKU)).collect::<Vec<_>>());

    let stdin = mila_stdin(&["report", "-", logs.to_str().unwrap(), "--format", "json"], trail.as_bytes());
    assert_eq!(stdin.code, 0, "{}", stdin.stderr);
    assert_eq!(reads(&stdin.json()), (5, 5, 0));

    // `a.json` sorts before `logs.jsonl` and is no CloudTrail path: it is read first.
    let folder = dir.path().join("mixed");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.json"), &trail).unwrap();
    std::fs::copy(&logs, folder.join("logs.jsonl")).unwrap();
    assert_eq!(reads(&report(&[folder.to_str().unwrap()])), (5, 5, 0));
    // And the other way round.
    assert_eq!(reads(&report(&[logs.to_str().unwrap(), folder.join("a.json").to_str().unwrap()])), (5, 5, 0));
}

/// Found 2: a call's CloudTrail event at 23:59:59 and its log record at 00:00:00.2 fall on two
/// days of a store; the store counts the call once, as the files do.
#[test]
fn a_call_either_side_of_midnight_in_a_store_is_counted_once() {
    let dir = tempdir();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, log_line("m1", "2026-03-03T00:00:00.200Z", HAIKU)).unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(&trail, doc(&[event("m1", "2026-03-02T23:59:59Z", HAIKU)])).unwrap();
    let files = report(&[logs.to_str().unwrap(), trail.to_str().unwrap()]);
    assert_eq!(reads(&files), (1, 1, 0));
    let store = dir.path().join("store");
    ok(&["ingest", "--store", store.to_str().unwrap(), "--quiet", logs.to_str().unwrap(), trail.to_str().unwrap()]);
    let stored = report(&["--store", store.to_str().unwrap()]);
    assert_eq!(reads(&stored), (1, 1, 0));
    assert_eq!(stored["coverage"]["only_in_cloudtrail"], 0);
}

fn allow_all(dir: &Path) -> String {
    let p = dir.join("allow.toml");
    std::fs::write(&p, "[[rule]]\nsource = \"*\"\nallow = [\"*\"]\n").unwrap();
    p.display().to_string()
}

/// Found 3: one model's log records never make up for another's missing ones, and a share is
/// judged exactly (123 of 125 is 98.4%, not below it).
#[test]
fn coverage_is_judged_per_model_and_exactly() {
    let dir = tempdir();
    // 2026-03-02, eu-west-1: haiku has 2 log records and 1 CloudTrail call; nova has 1 call and
    // no record. Counted as one day's total, 2 records would cover 2 calls.
    let logs = dir.path().join("logs.jsonl");
    let lines = [log_line("h1", "2026-03-02T08:00:00Z", HAIKU), log_line("h2", "2026-03-02T08:01:00Z", HAIKU)];
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let trail = dir.path().join("trail.json");
    std::fs::write(
        &trail,
        doc(&[event("h1", "2026-03-02T08:00:00Z", HAIKU), event("n1", "2026-03-02T09:00:00Z", NOVA)]),
    )
    .unwrap();
    let s = report(&[logs.to_str().unwrap(), trail.to_str().unwrap()]);
    assert_eq!(
        s["coverage"]["by_source_region_day"],
        json!([{"day": "2026-03-02", "source_region": "eu-west-1", "cloudtrail_calls": 2, "invocation_log_records": 2,
                "cloudtrail_calls_logged": 1, "coverage": 0.5, "status": "partial"}])
    );
    let policy = allow_all(dir.path());
    let check = |pct: &str, sources: &[&Path]| {
        let flag = format!("--fail-on-coverage-below={pct}");
        let mut args = vec!["check", "--policy", &policy, &flag];
        args.extend(sources.iter().map(|p| p.to_str().unwrap()));
        mila(&args)
    };
    let r = check("99", &[&logs, &trail]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("2026-03-02 eu-west-1: 1 of 2 CloudTrail calls logged (50.0%, partial)"), "{}", r.stderr);

    // 125 calls, 123 logged: exactly 98.4%.
    let ids: Vec<String> = (0..125).map(|i| format!("x{i}")).collect();
    let logs = dir.path().join("many.jsonl");
    let lines: Vec<String> = ids[..123].iter().map(|id| log_line(id, "2026-03-05T08:00:00Z", HAIKU)).collect();
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let trail = dir.path().join("many-trail.json");
    std::fs::write(&trail, doc(&ids.iter().map(|id| event(id, "2026-03-05T08:00:00Z", HAIKU)).collect::<Vec<_>>()))
        .unwrap();
    assert_eq!(check("98.4", &[&logs, &trail]).code, 0);
    assert_eq!(check("98.4%", &[&logs, &trail]).code, 0);
    assert_eq!(check("98.41", &[&logs, &trail]).code, 1);
    for bad in ["-1", "101", "NaN", "fifty", "1e2", ""] {
        let r = check(bad, &[&logs, &trail]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("--fail-on-coverage-below"), "{bad}: {}", r.stderr);
    }
}

/// Found 4 and 5, and a `Records` array of a million events: CloudTrail files are documents,
/// read whole and as a stream, one line or pretty-printed, several to a file, in bounded memory.
#[test]
fn trail_documents_are_read_whole_in_any_layout_and_bounded_memory() {
    let dir = tempdir();
    let calls: Vec<Value> = (0..4).map(|i| event(&format!("t{i}"), "2026-03-02T08:00:00Z", HAIKU)).collect();
    // A million other services' events around four calls, on one line: ~60 MB, past every
    // line-length and whole-object limit.
    let big = dir.path().join("big.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        f.write_all(b"{\"Records\":[").unwrap();
        for i in 0..1_000_000 {
            if i > 0 {
                f.write_all(b",").unwrap();
            }
            if i % 250_000 == 0 {
                f.write_all(calls[i / 250_000].to_string().as_bytes()).unwrap();
            } else {
                write!(f, r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestID":"s{i}"}}"#)
                    .unwrap();
            }
        }
        f.write_all(b"]}").unwrap();
    }
    let args = ["report", big.to_str().unwrap(), "--format", "json", "--max-line-length", "1MiB"];
    let m = mila_measured(&args, None, Duration::from_secs(300));
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    let s = m.run.json();
    assert_eq!(reads(&s), (4, 4, 4));
    assert_eq!(s["sources"]["cloudtrail_other_events"], 1_000_000 - 4);
    assert_eq!(s["records"]["rejected"], 0);
    assert!(m.peak_mib < 200, "{} MiB for a 60 MB trail file", m.peak_mib);

    // Pretty-printed: the same four calls, no line rejected.
    let pretty = dir.path().join("pretty.json");
    std::fs::write(&pretty, serde_json::to_string_pretty(&json!({ "Records": calls })).unwrap()).unwrap();
    let s = report(&[pretty.to_str().unwrap()]);
    assert_eq!((reads(&s), s["records"]["rejected"].as_u64()), ((4, 4, 4), Some(0)));

    // Two documents in one file: on two lines, and as two gzip members.
    let (a, b) = (doc(&calls[..2]), doc(&calls[2..]));
    let lines = dir.path().join("two.json");
    std::fs::write(&lines, format!("{a}\n{b}\n")).unwrap();
    assert_eq!(reads(&report(&[lines.to_str().unwrap()])), (4, 4, 4));
    let members = dir.path().join("two.json.gz");
    std::fs::write(&members, [gz(a.as_bytes()), gz(b.as_bytes())].concat()).unwrap();
    assert_eq!(reads(&report(&[members.to_str().unwrap()])), (4, 4, 4));

    // Trailing garbage after a document: its events are read, the garbage is a located problem.
    let tail = dir.path().join("tail.json");
    std::fs::write(&tail, format!("{a} garbage")).unwrap();
    let s = report(&[tail.to_str().unwrap()]);
    assert_eq!(reads(&s), (2, 2, 2));
    let problems = s["input"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert!(problems[0]["message"].as_str().unwrap().contains("the 2 events before it were read"), "{problems:?}");
}

/// One 100 MB event, and an event over `--max-line-length`: rejected with its place, memory
/// bounded by the one event.
#[test]
fn a_huge_event_is_rejected_with_its_place() {
    let dir = tempdir();
    let path = dir.path().join("huge.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let call = event("ok-1", "2026-03-02T08:00:00Z", HAIKU).to_string();
        write!(f, "{{\"Records\":[{call},{{\"eventSource\":\"bedrock.amazonaws.com\",\"pad\":\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        write!(f, "\"}},{}]}}", event("ok-2", "2026-03-02T08:00:00Z", HAIKU)).unwrap();
    }
    let args = ["report", path.to_str().unwrap(), "--format", "json"];
    let m = mila_measured(&args, None, Duration::from_secs(300));
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    let s = m.run.json();
    assert_eq!(reads(&s), (2, 2, 2));
    let rejects = s["input"]["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["reason"], "CloudTrail event longer than --max-line-length (67108864 bytes)");
    assert_eq!(rejects[0]["first"][0], format!("{} Records[1]", path.display()));
    assert!(m.peak_mib < 600, "{} MiB for one 100 MB event", m.peak_mib);
}

/// Found 6: a gzip bomb shaped as a trail document (a few hundred KB that inflate to 256 MB of
/// white space inside `Records`), four copies: memory stays bounded, nothing is counted.
#[test]
fn a_gzip_bomb_trail_stays_small() {
    let dir = tempdir();
    let mut bomb = Vec::new();
    {
        let mut enc = flate2::write::GzEncoder::new(&mut bomb, flate2::Compression::best());
        enc.write_all(b"{\"Records\":[").unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..256 {
            enc.write_all(&spaces).unwrap();
        }
        enc.write_all(format!("{}]}}", event("b1", "2026-03-02T08:00:00Z", HAIKU)).as_bytes()).unwrap();
        enc.finish().unwrap();
    }
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    for i in 0..4 {
        std::fs::write(dir.path().join(format!("bomb{i}.json.gz")), &bomb).unwrap();
    }
    let args = ["report", dir.path().to_str().unwrap(), "--format", "json"];
    let m = mila_measured(&args, None, Duration::from_secs(300));
    assert_eq!(m.run.code, 0, "{}", m.run.stderr);
    // The one call, four times over: one call, three duplicates.
    let s = m.run.json();
    assert_eq!(reads(&s), (1, 1, 1));
    assert_eq!(s["records"]["duplicates"], 3);
    assert!(m.peak_mib < 300, "{} MiB for four 256 MB bombs", m.peak_mib);
}

/// CloudTrail documents with wrong types in every field mila reads, events dated 1900 and 9999,
/// the same request id in two trails and in a log, and a digest file named like a log: each
/// counted and located, nothing double-counted.
#[test]
fn hostile_trail_events_are_counted_and_located() {
    let dir = tempdir();
    let good = |id: &str| event(id, "2026-03-02T08:00:00Z", HAIKU);
    let mut wrong = Vec::new();
    for (field, value) in [
        ("eventTime", json!(5)),
        ("awsRegion", json!({"a": 1})),
        ("requestID", json!([1])),
        ("errorCode", json!(true)),
        ("userIdentity", json!("root")),
        ("requestParameters", json!("m")),
        ("additionalEventData", json!(7)),
    ] {
        let mut e = good(&format!("w-{field}"));
        e[field] = value;
        wrong.push(e);
    }
    let mut nested = good("w-model");
    nested["requestParameters"]["modelId"] = json!({"deep": [[[[1]]]]});
    wrong.push(nested);
    let events: Vec<Value> = wrong
        .into_iter()
        .chain([
            event("old", "1900-01-01T00:00:00Z", HAIKU),
            event("far", "9999-12-31T23:59:59Z", HAIKU),
            good("shared"),
        ])
        .collect();
    let trails = dir.path().join("trails");
    std::fs::create_dir(&trails).unwrap();
    std::fs::write(trails.join("a.json"), doc(&events)).unwrap();
    std::fs::write(trails.join("b.json"), doc(&[good("shared")])).unwrap();
    // A digest file: a JSON object, not a trail document, named like a trail file.
    std::fs::write(
        trails.join("111122223333_CloudTrail-Digest_eu-west-1_x_20260302T080000Z.json"),
        r#"{"awsAccountId":"111122223333","digestStartTime":"2026-03-02T07:00:00Z","logFiles":[]}"#,
    )
    .unwrap();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, log_line("shared", "2026-03-02T08:00:00Z", HAIKU)).unwrap();
    let s = report(&[trails.to_str().unwrap(), logs.to_str().unwrap()]);
    // `shared` once (its log record); `old` and `far` are calls; the eight wrong ones rejected.
    assert_eq!(reads(&s), (3, 3, 2));
    assert_eq!(s["records"]["rejected"], 9, "eight wrong events and the digest's line");
    assert_eq!(s["records"]["duplicates"], 1, "`shared` in the second trail");
    let reasons: Vec<(String, u64)> = s["input"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reason"].as_str().unwrap().to_string(), r["lines"].as_u64().unwrap()))
        .collect();
    let count = |field: &str| {
        let reason = format!("wrong type for field `{field}`");
        reasons.iter().filter(|(r, _)| *r == reason).map(|(_, n)| n).sum::<u64>()
    };
    for field in [
        "eventTime",
        "awsRegion",
        "requestID",
        "errorCode",
        "userIdentity",
        "requestParameters",
        "additionalEventData",
        "requestParameters.modelId",
    ] {
        assert_eq!(count(field), 1, "{field}: {reasons:?}");
    }
    assert!(s["input"]["rejects"].to_string().contains("a.json Records[0]"), "{}", s["input"]["rejects"]);
}

/// Found 8: a metadata key with a line break cannot split the dry-run script; one with a quote
/// is not a key Bedrock accepts, and is refused before anything runs.
#[test]
fn metadata_keys_cannot_split_or_break_a_statement() {
    let dry_run = |key: &str| mila(&athena_dry_run(&["--by-metadata", key]));
    let run = dry_run("team\n;\nDROP TABLE x");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--by-metadata"), "{}", run.stderr);
    let run = dry_run("team\nname");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statements = run.stdout.lines().filter(|l| l.starts_with("-- ")).count();
    assert_eq!(run.stdout.lines().filter(|l| *l == ";").count(), statements);
    assert!(run.stdout.contains("U&'team\\000Aname'"), "{}", run.stdout);
    for bad in ["x'; DROP TABLE t; --", "caf\u{e9}", "a\u{2019}b", ""] {
        let r = dry_run(bad);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
    }
}

/// Found 9: local SQL reads only `invocations`.
#[test]
fn local_queries_read_nothing_but_invocations() {
    let dir = tempdir();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, log_line("q1", "2026-03-02T08:00:00Z", HAIKU)).unwrap();
    // A file a query must not read, and one it may.
    let secret = dir.path().join("secret.parquet");
    std::fs::write(&secret, b"PAR1").unwrap();
    let cases = [
        format!("SELECT * FROM read_parquet('{}')", secret.display()),
        format!("SELECT * FROM read_parquet('{}/*.parquet')", dir.path().display()),
        "SELECT * FROM read_csv('/etc/passwd')".to_string(),
        "SELECT * FROM read_json('http://127.0.0.1:9/x.json')".to_string(),
        "SELECT * FROM invocations i JOIN read_ipc('x.arrow') x ON true".to_string(),
        "CREATE TABLE t AS SELECT * FROM invocations".to_string(),
        "COPY invocations TO '/tmp/out.csv'".to_string(),
    ];
    for sql in cases {
        let file = dir.path().join("q.sql");
        std::fs::write(&file, &sql).unwrap();
        let r = mila(&["query", file.to_str().unwrap(), logs.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{sql}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("mila: error: {}: ", file.display())), "{sql}: {}", r.stderr);
        assert!(r.stderr.contains("read only `invocations`") || r.stderr.contains("only SELECT"), "{}", r.stderr);
    }
    let file = dir.path().join("ok.sql");
    std::fs::write(&file, "SELECT request_id, input_tokens FROM invocations").unwrap();
    let r = ok(&["query", file.to_str().unwrap(), logs.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.json(), json!([{"request_id": "q1", "input_tokens": 10}]));
}

/// Found 10 and 11: CSV is safe to open in a spreadsheet, and a 70,000-character value does not
/// crash the text table when standard output is no terminal and COLUMNS is unset.
#[test]
fn logged_strings_cannot_start_formulas_or_crash_the_table() {
    let dir = tempdir();
    let policy = dir.path().join("eu.toml");
    std::fs::write(&policy, "[[rule]]\nsource = \"eu-*\"\nallow = [\"eu-*\"]\n").unwrap();
    let lines: Vec<String> = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", &"L".repeat(70_000)]
        .iter()
        .map(|id| {
            let mut v: Value = serde_json::from_str(&log_line(
                id,
                "2026-03-02T08:00:00Z",
                "us.anthropic.claude-3-haiku-20240307-v1:0",
            ))
            .unwrap();
            v["inferenceRegion"] = json!("us-east-1");
            v.to_string()
        })
        .collect();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mila"))
            .args(["check", logs.to_str().unwrap(), "--policy", policy.to_str().unwrap(), "--format", format])
            .env_remove("COLUMNS")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, csv, err) = run("csv");
    assert_eq!(code, Some(1), "{err}");
    let ids: Vec<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().get(0).unwrap().chars().take(20).collect())
        .collect();
    // In the violations' order (time, then request id).
    assert_eq!(ids, ["'\tx", "'+1+2", "'-2+3", "'=HYPERLINK(\"http://", "'@SUM(A1)", "LLLLLLLLLLLLLLLLLLLL"]);
    let (code, table, err) = run("table");
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("internal error"), "{err}");
    assert!(table.lines().any(|l| l.starts_with(&"L".repeat(70_000))), "the long id is written whole");
}

/// Found 13: a local file is remembered by what it is, not how it was typed.
#[test]
fn a_file_named_three_ways_is_ingested_once() {
    let dir = tempdir();
    let logs = dir.path().join("x.jsonl");
    std::fs::write(
        &logs,
        [log_line("s1", "2026-03-02T08:00:00Z", HAIKU), log_line("s2", "2026-03-02T08:00:01Z", HAIKU)].join("\n"),
    )
    .unwrap();
    let store = dir.path().join("store");
    let ingest = |paths: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mila"));
        c.current_dir(dir.path()).args(["ingest", "--store", store.to_str().unwrap()]).args(paths);
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let abs = logs.to_str().unwrap();
    let first = ingest(&["x.jsonl", "./x.jsonl", abs]);
    assert!(first.contains("ingested 2 new records") && first.contains("0 duplicates within this run"), "{first}");
    let again = ingest(&["./x.jsonl"]);
    assert!(again.contains("1 objects or files skipped as read before"), "{again}");
    let state: Value = serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["files"].as_object().unwrap().len(), 1, "{state}");
    let s = report(&["--store", store.to_str().unwrap()]);
    assert_eq!(s["records"]["duplicates"], 0);
}

/// Found 14, and a store damaged or written by a newer mila: a clear error naming the file,
/// never a file read outside the store, never a silent miscount.
#[test]
fn a_damaged_store_is_refused_with_a_clear_error() {
    let dir = tempdir();
    let logs = dir.path().join("x.jsonl");
    std::fs::write(&logs, log_line("d1", "2026-03-02T08:00:00Z", HAIKU)).unwrap();
    let store = dir.path().join("store");
    ok(&["ingest", "--store", store.to_str().unwrap(), "--quiet", logs.to_str().unwrap()]);
    let state_path = store.join("state.json");
    let good: Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let day_file = store.join(good["days"]["2026-03-02"].as_str().unwrap());

    // A victim outside the store, which the state names.
    std::fs::create_dir(dir.path().join("victim")).unwrap();
    std::fs::copy(&day_file, dir.path().join("victim/x.parquet")).unwrap();
    let mut bad = good.clone();
    bad["days"]["2026-03-02"] = json!("../victim/x.parquet");
    std::fs::write(&state_path, bad.to_string()).unwrap();
    for args in [
        vec!["report", "--store", store.to_str().unwrap()],
        vec!["ingest", "--store", store.to_str().unwrap(), logs.to_str().unwrap()],
    ] {
        let r = mila(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("names the file \"../victim/x.parquet\", which is not a day file of this store"),
            "{}",
            r.stderr
        );
    }
    assert!(dir.path().join("victim/x.parquet").exists(), "nothing outside the store is touched");

    // A newer format.
    let mut newer = good.clone();
    newer["format"] = json!("mila.store/2");
    std::fs::write(&state_path, newer.to_string()).unwrap();
    let r = mila(&["report", "--store", store.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("store format \"mila.store/2\", this mila reads mila.store/1"), "{}", r.stderr);

    // A day file truncated, then replaced by garbage.
    std::fs::write(&state_path, good.to_string()).unwrap();
    let bytes = std::fs::read(&day_file).unwrap();
    for damaged in [bytes[..bytes.len() / 2].to_vec(), b"garbage".to_vec()] {
        std::fs::write(&day_file, &damaged).unwrap();
        let r = mila(&["report", "--store", store.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(&format!("cannot read {}", day_file.display())), "{}", r.stderr);
    }
}

/// Item 6: service tiers unknown, of the wrong type, conflicting or huge, and one-hour cache
/// writes larger than the whole or negative: each read as the parser's rules say, never more
/// one-hour writes than writes.
#[test]
fn odd_tiers_and_cache_splits_are_read_by_the_rules() {
    let dir = tempdir();
    let with = |id: &str, body: Value, input: Value| {
        let mut v: Value = serde_json::from_str(&log_line(id, "2026-03-02T08:00:00Z", HAIKU)).unwrap();
        v["output"]["outputBodyJson"] = body;
        v["input"] = input;
        v.to_string()
    };
    let tokens = json!({"inputTokenCount": 10});
    let lines = [
        with("t-unknown", json!({"serviceTier": "ultra"}), tokens.clone()),
        with("t-type", json!({"serviceTier": {"type": 5}}), tokens.clone()),
        // The last of the two names wins, as in the body's order.
        with("t-both", json!({"serviceTier": {"type": "flex"}, "service_tier": "priority"}), tokens.clone()),
        with("t-huge", json!({"serviceTier": "x".repeat(1 << 20)}), tokens.clone()),
        // 5,000 one-hour writes of a whole of 100: 100. A negative split is no split.
        with(
            "c-over",
            json!({"usage": {"cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5000}}}),
            json!({"inputTokenCount": 10, "cacheWriteInputTokenCount": 100}),
        ),
        with(
            "c-negative",
            json!({"usage": {"cache_creation": {"ephemeral_5m_input_tokens": 7, "ephemeral_1h_input_tokens": -5}}}),
            json!({"inputTokenCount": 10, "cacheWriteInputTokenCount": 50}),
        ),
        with(
            "c-huge",
            json!({"usage": {"cache_creation": {"ephemeral_1h_input_tokens": 18446744073709551615u64}}}),
            json!({"inputTokenCount": 10, "cacheWriteInputTokenCount": 20}),
        ),
    ];
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let s = report(&[logs.to_str().unwrap()]);
    assert_eq!(s["records"]["rejected"], 0);
    let tiers: Vec<(String, u64)> = s["cost"]["by_service_tier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["service_tier"].as_str().unwrap().to_string(), r["requests"].as_u64().unwrap()))
        .collect();
    assert_eq!(tiers, [("other".to_string(), 2), ("priority".to_string(), 1), ("standard".to_string(), 4)]);
    let model = &s["tokens"]["by_model"][0];
    assert_eq!((model["cache_write"].as_u64(), model["cache_write_1h"].as_u64()), (Some(170), Some(120)));
}

/// Issue 23: models are resolved once per distinct (source region, model id, logged inference
/// region) of a unit, found by hash. One file whose 200,000 lines each name a model id of their
/// own, with a thousand inference regions: each request is counted, each id is its own model,
/// and every cross-region call is rerouted.
#[test]
fn a_unit_of_distinct_model_ids_resolves_each_once() {
    let dir = tempdir();
    let n = 200_000;
    let mut text = String::with_capacity(n * 400);
    for i in 0..n {
        let mut line: Value = serde_json::from_str(&log_line(
            &format!("r{i}"),
            "2026-11-10T08:00:00Z",
            &format!("us.anthropic.m{i}-v1:0"),
        ))
        .unwrap();
        line["inferenceRegion"] = json!(format!("us-east-{}", i % 1000 + 2));
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let path = dir.path().join("many-models.json");
    std::fs::write(&path, text).unwrap();
    let s = report(&[path.to_str().unwrap()]);
    assert_eq!(s["rerouting"]["requests"], n as u64);
    assert_eq!(s["rerouting"]["rerouted"], n as u64);
    assert_eq!(s["tokens"]["by_model"].as_array().unwrap().len(), n);
}
