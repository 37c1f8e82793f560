//! Bad input is counted, located and reported; the run goes on with the rest.

mod common;
use common::*;
use serde_json::json;
use std::path::Path;

const GOOD: &str = r#"{"timestamp":"2026-11-10T08:00:00Z","region":"us-east-1","requestId":"ID","operation":"Converse","modelId":"anthropic.claude-3-haiku-20240307-v1:0","input":{"inputTokenCount":5},"output":{"outputTokenCount":7,"outputBodyJson":{"metrics":{"latencyMs":100}}},"schemaType":"ModelInvocationLog"}"#;

fn good(id: &str) -> String {
    GOOD.replace("\"ID\"", &format!("\"{id}\""))
}

fn report(dir: &std::path::Path) -> serde_json::Value {
    ok(&["report", &dir.display().to_string(), "--format", "json"]).json()
}

fn rejects(s: &serde_json::Value) -> std::collections::BTreeMap<String, (u64, Vec<String>)> {
    s["input"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let first = r["first"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap().to_string())
                .collect();
            (r["reason"].as_str().unwrap().to_string(), (r["lines"].as_u64().unwrap(), first))
        })
        .collect()
}

#[test]
fn each_kind_of_bad_line_is_rejected_with_its_location() {
    let dir = tempdir();
    let lines = [
        good("a"),
        good("b")[..60].to_string(),                   // 2: truncated line
        "this is not json SECRET-PROMPT".to_string(),  // 3: not JSON
        good("c").replace("\"requestId\":\"c\",", ""), // 4: missing requestId
        good("d").replace("\"inputTokenCount\":5", "\"inputTokenCount\":\"five SECRET\""), // 5: wrong type
        "[1,2,3]".to_string(),                         // 6: not an object
        good("e").replace("2026-11-10T08:00:00Z", "yesterday"), // 7: bad timestamp
        good("f").replace("ModelInvocationLog", "SomethingElse"), // 8: other schema
        good("g").replace("\"region\":\"us-east-1\"", "\"region\":42"), // 9: wrong type, top level
        String::new(),                                 // 10: blank, ignored
        good("h"),
        good("i").replace("\"operation\":\"Converse\"", "\"operation\":\"Converse\",\"operation\":\"Converse\""), // 12: a field twice
        good("j").replace(
            "\"outputBodyJson\":{\"metrics\":{\"latencyMs\":100}}",
            "\"outputBodyJson\":[{\"amazon-bedrock-invocationMetrics\":{\"invocationLatency\":\"slow\"}}]",
        ), // 13
    ];
    std::fs::write(dir.path().join("mixed.jsonl"), lines.join("\n") + "\n").unwrap();
    let s = report(dir.path());
    assert_eq!(s["records"]["lines"], 12);
    assert_eq!(s["records"]["rejected"], 10);
    assert_eq!(s["records"]["parsed"], 2);
    assert_eq!(s["rerouting"]["requests"], 2);
    let r = rejects(&s);
    let want = [
        ("truncated JSON (line ends inside a value)", 1, vec!["mixed.jsonl:2"]),
        ("not valid JSON", 1, vec!["mixed.jsonl:3"]),
        ("missing required field `requestId`", 1, vec!["mixed.jsonl:4"]),
        ("wrong type for field `input.inputTokenCount`", 1, vec!["mixed.jsonl:5"]),
        ("not a JSON object", 1, vec!["mixed.jsonl:6"]),
        ("timestamp is not RFC 3339", 1, vec!["mixed.jsonl:7"]),
        ("not a ModelInvocationLog (schemaType is another value)", 1, vec!["mixed.jsonl:8"]),
        ("wrong type for field `region`", 1, vec!["mixed.jsonl:9"]),
        ("not a valid record (a field given twice, or a value of an unexpected shape)", 1, vec!["mixed.jsonl:12"]),
        ("wrong type for field `output.outputBodyJson.amazon-bedrock-invocationMetrics`", 1, vec!["mixed.jsonl:13"]),
    ];
    assert_eq!(r.len(), want.len(), "{r:?}");
    for (reason, n, first) in want {
        let first: Vec<String> = first.into_iter().map(String::from).collect();
        assert_eq!(r.get(reason), Some(&(n, first)), "{reason}: {r:?}");
    }
    assert!(!serde_json::to_string(&s).unwrap().contains("SECRET"), "line content leaked into the summary");
}

#[test]
fn bom_crlf_and_missing_final_newline_are_fine() {
    let dir = tempdir();
    let text = format!("\u{feff}{}\r\n\r\n{}\r\n{}", good("a"), good("b"), good("c"));
    std::fs::write(dir.path().join("windows.json"), text).unwrap();
    let s = report(dir.path());
    assert_eq!(s["records"]["lines"], 3);
    assert_eq!(s["records"]["rejected"], 0);
    assert_eq!(s["tokens"]["by_model"][0]["input"], 15);
}

#[test]
fn truncated_and_empty_gzip_are_reported_and_the_rest_is_read() {
    let dir = tempdir();
    let many: String = (0..3000).map(|i| good(&format!("t{i}")) + "\n").collect();
    let whole = gz(many.as_bytes());
    std::fs::write(dir.path().join("a_truncated.json.gz"), &whole[..whole.len() * 2 / 3]).unwrap();
    std::fs::write(dir.path().join("b_empty.json.gz"), b"").unwrap();
    std::fs::write(dir.path().join("c_fine.json.gz"), gz((good("ok1") + "\n" + &good("ok2") + "\n").as_bytes()))
        .unwrap();
    // Gzip is detected by content, not name.
    std::fs::write(dir.path().join("d_plain_named.json.gz"), good("plain") + "\n").unwrap();
    std::fs::write(dir.path().join("e_gzip_named.json"), gz((good("gz") + "\n").as_bytes())).unwrap();
    let s = report(dir.path());
    let problems = s["input"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0]["source"].as_str().unwrap().ends_with("a_truncated.json.gz"));
    assert!(
        problems[0]["message"].as_str().unwrap().starts_with("gzip stream is corrupt or truncated at line "),
        "{problems:?}"
    );
    assert!(problems[1]["source"].as_str().unwrap().ends_with("b_empty.json.gz"));
    assert_eq!(problems[1]["message"], "empty file (0 bytes) where a gzip object was expected");
    let parsed = s["records"]["parsed"].as_u64().unwrap();
    let from_truncated = parsed - 4;
    assert!(from_truncated > 1000 && from_truncated < 3000, "{from_truncated} records kept from the truncated object");
    // The cut-off line, if any, is counted as rejected, not lost.
    assert!(s["records"]["rejected"].as_u64().unwrap() <= 1);
    assert_eq!(s["records"]["lines"].as_u64().unwrap(), parsed + s["records"]["rejected"].as_u64().unwrap());
}

#[test]
fn duplicates_are_dropped_first_read_wins_and_counted() {
    let dir = tempdir();
    std::fs::write(dir.path().join("1.jsonl"), good("x") + "\n" + &good("y") + "\n").unwrap();
    let second = good("x").replace("\"inputTokenCount\":5", "\"inputTokenCount\":500");
    std::fs::write(dir.path().join("2.jsonl"), second + "\n").unwrap();
    let s = report(dir.path());
    assert_eq!(s["records"]["lines"], 3);
    assert_eq!(s["records"]["parsed"], 3);
    assert_eq!(s["records"]["duplicates"], 1);
    assert_eq!(s["rerouting"]["requests"], 2);
    assert_eq!(s["tokens"]["by_model"][0]["input"], 10, "the first copy of x (5 tokens) wins");
}

#[test]
fn non_log_files_are_skipped_and_counted() {
    let dir = tempdir();
    let hour = dir.path().join("AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/10/08");
    std::fs::create_dir_all(hour.join("data")).unwrap();
    std::fs::write(hour.join("20261110T080000000Z_00000000000000aa.json.gz"), gz((good("a") + "\n").as_bytes()))
        .unwrap();
    std::fs::write(hour.join("data/a_input.json.gz"), gz(b"{\"messages\":[]}\n")).unwrap();
    std::fs::write(dir.path().join("AWSLogs/1/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check"), b"")
        .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    let s = report(dir.path());
    assert_eq!(s["records"]["skipped_objects"], 3);
    assert_eq!(s["records"]["parsed"], 1);
    assert_eq!(s["input"]["units_read"], 1);
}

#[test]
fn stdin_is_a_source() {
    let input = good("s1") + "\n" + &good("s2") + "\nnot json\n";
    let r = mila_stdin(&["report", "-", "--format", "json"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = r.json();
    assert_eq!(s["records"]["lines"], 3);
    assert_eq!(s["records"]["parsed"], 2);
    assert_eq!(s["input"]["rejects"][0]["first"], json!(["<stdin>:3"]));
    assert!(r.stderr.contains("1 lines rejected"), "{}", r.stderr);
}

#[test]
fn window_filters_records_and_is_reported() {
    let dir = tempdir();
    let early = good("early").replace("2026-11-10T08:00:00Z", "2026-11-08T23:59:59Z");
    let late = good("late").replace("2026-11-10T08:00:00Z", "2026-11-16T00:00:00Z");
    std::fs::write(dir.path().join("w.jsonl"), [early, good("in"), late].join("\n")).unwrap();
    let s = ok(&["report", &dir.path().display().to_string(), "--week", "2026-W46", "--format", "json"]).json();
    assert_eq!(s["window"], json!({"since": "2026-11-09T00:00:00Z", "until": "2026-11-16T00:00:00Z"}));
    assert_eq!(s["records"]["lines"], 1);
    assert_eq!(s["records"]["outside_window"], 2);
    assert_eq!(s["rerouting"]["requests"], 1);
}

#[test]
fn unusable_arguments_exit_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["report", "/no/such/dir"], "source /no/such/dir: no such file or directory"),
        (&["report", "s3:///prefix"], "source s3:///prefix: no bucket name (expected s3://BUCKET/PREFIX)"),
        (&["report", "cloudwatch:"], "source cloudwatch:: no log group name"),
        (&["report", "cloudwatch:arn:aws:s3:::b"], "not a log-group ARN"),
        (&["report", ".", "--page-size", "0"], "--page-size must be from 1 to 10000"),
        (&["report", ".", "--read-timeout", "0"], "--read-timeout must be a number of seconds above 0"),
        (&["ingest", "-", "--store", "/tmp/x"], "not standard input"),
        (&["report", ".", "--since", "soon"], "--since: `soon` is not"),
        (&["report", ".", "--since", "2026-11-10", "--until", "2026-11-09"], "--since must be before --until"),
        (&["report", ".", "--week", "2026-W60"], "--week: `2026-W60` is not an ISO week"),
        (&["report", ".", "--prices", "/no/prices.csv"], "cannot read /no/prices.csv"),
        (&["check", "--policy", "/no/policy.toml", "."], "cannot read /no/policy.toml"),
        (&["report"], "required"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let r = mila(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
    assert_eq!(mila(&["--help"]).code, 0);
}

#[test]
fn walk_is_sorted_and_counts_skips() {
    let dir = tempdir();
    for name in ["b/2.json", "a/1.jsonl", "a/data/x_input.json.gz", "c.txt", "b/10.json"] {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }
    let got = mila::source::file::expand(&[mila::source::SourceSpec::Path(dir.path().to_path_buf())]).unwrap();
    let rel = |p: &std::path::Path| p.strip_prefix(dir.path()).unwrap().display().to_string();
    let units: Vec<String> = got
        .units
        .iter()
        .map(|u| match u {
            mila::source::Unit::File(p) => rel(p),
            other => other.name().to_string(),
        })
        .collect();
    assert_eq!(units, ["a/1.jsonl", "b/10.json", "b/2.json"]);
    let skipped: Vec<String> = got.skipped.iter().map(|p| rel(Path::new(p))).collect();
    assert_eq!(skipped, ["a/data/x_input.json.gz", "c.txt"]);
}

/// Files over the whole-object limit (8 MiB) stream through the other reader: same counts.
#[test]
fn large_files_stream_with_the_same_counts() {
    let dir = tempdir();
    let n = 40_000;
    let mut text: String = (0..n).map(|i| good(&format!("big{i}")) + "\n").collect();
    text.push_str("not json\n");
    assert!(text.len() > 8 << 20, "{} bytes", text.len());
    std::fs::write(dir.path().join("big.jsonl"), &text).unwrap();
    let s = report(dir.path());
    assert_eq!(s["records"]["lines"], n + 1);
    assert_eq!(s["records"]["rejected"], 1);
    assert_eq!(s["rerouting"]["requests"], n);
    assert_eq!(s["tokens"]["by_model"][0]["input"], 5 * n);
    assert_eq!(
        s["input"]["rejects"][0]["first"][0].as_str().unwrap().rsplit('/').next().unwrap(),
        format!("big.jsonl:{}", n + 1)
    );
}
