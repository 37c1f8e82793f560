//! CloudTrail as a source, on a small hand-worked fixture: invocation logs and trail files of the
//! same account, with a call in both, calls only in CloudTrail, a region-day whose logging was
//! off and a region CloudTrail has no file for.
//!
//! The calls (eu-west-1 unless said; policy: EU sources stay in the EU):
//!
//! | id | day        | logged | trail | model id (operation)                  | ran in        |
//! |----|------------|--------|-------|----------------------------------------|---------------|
//! | r1 | 2026-03-02 | yes    | yes   | eu. haiku (Converse)                   | eu-central-1  |
//! | r2 | 2026-03-02 | yes    | yes   | haiku (InvokeModel)                    | eu-west-1     |
//! | r7 | 2026-03-02 | yes    | yes   | global. sonnet 4.5 (Converse)          | us-east-1     |
//! | r3 | 2026-03-02 | no     | yes   | global. sonnet 4.5 (Converse)          | us-east-2     |
//! | r4 | 2026-03-03 | no     | yes   | eu. haiku (Converse)                   | eu-west-3     |
//! | r5 | 2026-03-03 | no     | yes   | eu. haiku (Converse)                   | (not given)   |
//! | r6 | 2026-03-02 | yes    | no    | haiku (Converse), us-east-1            | us-east-1     |

mod common;
use common::*;

use std::path::Path;

use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const EU_HAIKU: &str = "eu.anthropic.claude-3-haiku-20240307-v1:0";
const GLOBAL_SONNET: &str = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";

struct Call {
    id: &'static str,
    time: &'static str,
    region: &'static str,
    model_id: &'static str,
    operation: &'static str,
    ran_in: Option<&'static str>,
}

const CALLS: [Call; 7] = [
    Call {
        id: "r1",
        time: "2026-03-02T08:00:00Z",
        region: "eu-west-1",
        model_id: EU_HAIKU,
        operation: "Converse",
        ran_in: Some("eu-central-1"),
    },
    Call {
        id: "r2",
        time: "2026-03-02T09:00:00Z",
        region: "eu-west-1",
        model_id: HAIKU,
        operation: "InvokeModel",
        ran_in: None,
    },
    Call {
        id: "r7",
        time: "2026-03-02T10:00:00Z",
        region: "eu-west-1",
        model_id: GLOBAL_SONNET,
        operation: "Converse",
        ran_in: Some("us-east-1"),
    },
    Call {
        id: "r3",
        time: "2026-03-02T11:00:00Z",
        region: "eu-west-1",
        model_id: GLOBAL_SONNET,
        operation: "Converse",
        ran_in: Some("us-east-2"),
    },
    Call {
        id: "r4",
        time: "2026-03-03T08:00:00Z",
        region: "eu-west-1",
        model_id: EU_HAIKU,
        operation: "Converse",
        ran_in: Some("eu-west-3"),
    },
    Call {
        id: "r5",
        time: "2026-03-03T09:00:00Z",
        region: "eu-west-1",
        model_id: EU_HAIKU,
        operation: "Converse",
        ran_in: None,
    },
    Call {
        id: "r6",
        time: "2026-03-02T12:00:00Z",
        region: "us-east-1",
        model_id: HAIKU,
        operation: "Converse",
        ran_in: None,
    },
];

const LOGGED: [&str; 4] = ["r1", "r2", "r7", "r6"];
const IN_TRAIL: [&str; 6] = ["r1", "r2", "r7", "r3", "r4", "r5"];

fn arn() -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/worker-1")
}

fn log_line(c: &Call) -> String {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": c.time, "accountId": ACCOUNT,
        "identity": {"arn": arn()}, "region": c.region, "requestId": c.id, "operation": c.operation,
        "modelId": c.model_id, "input": {"inputTokenCount": 100}, "output": {"outputTokenCount": 10,
        "outputBodyJson": {"metrics": {"latencyMs": 500}}},
    });
    if let Some(ir) = c.ran_in {
        r["inferenceRegion"] = json!(ir);
    }
    r.to_string()
}

fn event(c: &Call) -> Value {
    let mut e = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:worker-1", "arn": arn(), "accountId": ACCOUNT},
        "eventTime": c.time, "eventSource": "bedrock.amazonaws.com", "eventName": c.operation,
        "awsRegion": c.region, "sourceIPAddress": "10.0.0.1", "userAgent": "Boto3/1.35.36",
        "requestParameters": {"modelId": c.model_id}, "responseElements": null,
        "requestID": c.id, "eventID": format!("e-{}", c.id), "readOnly": true, "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
    });
    // CloudTrail names the inference region of cross-region calls.
    if let Some(ir) = c.ran_in.filter(|_| c.model_id != HAIKU) {
        e["additionalEventData"] = json!({"inferenceRegion": ir});
    }
    e
}

fn other_events() -> Vec<Value> {
    vec![
        json!({"eventVersion": "1.09", "eventTime": "2026-03-02T08:30:00Z", "eventSource": "s3.amazonaws.com",
               "eventName": "GetObject", "awsRegion": "eu-west-1", "requestParameters": {"bucketName": "b", "modelId": 7},
               "requestID": "s3-1", "eventCategory": "Data"}),
        json!({"eventVersion": "1.09", "eventTime": "2026-03-02T08:31:00Z", "eventSource": "bedrock.amazonaws.com",
               "eventName": "ListFoundationModels", "awsRegion": "eu-west-1", "requestParameters": null,
               "requestID": "list-1"}),
    ]
}

/// Writes a trail file in CloudTrail's layout: `{"Records": [...]}`, gzip.
fn trail_file(root: &Path, org: Option<&str>, region: &str, day: &str, events: &[Value]) {
    let mut dir = root.join("AWSLogs");
    if let Some(org) = org {
        dir = dir.join(org);
    }
    let dir = dir.join(ACCOUNT).join("CloudTrail").join(region).join(day.replace('-', "/"));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("{ACCOUNT}_CloudTrail_{region}_{}T0800Z_abcdEFGH12345678.json.gz", day.replace('-', ""));
    let doc = json!({"Records": events}).to_string();
    std::fs::write(dir.join(name), gz(doc.as_bytes())).unwrap();
}

fn calls(ids: &[&str]) -> Vec<&'static Call> {
    CALLS.iter().filter(|c| ids.contains(&c.id)).collect()
}

/// The fixture: `logs/` (NDJSON) and `trail/` (CloudTrail layout), in one folder.
fn fixture() -> TempDir {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let lines: Vec<String> = calls(&LOGGED).into_iter().map(log_line).collect();
    std::fs::write(logs.join("export.jsonl"), lines.join("\n") + "\n").unwrap();
    let trail = dir.path().join("trail");
    for day in ["2026-03-02", "2026-03-03"] {
        let mut events: Vec<Value> =
            calls(&IN_TRAIL).into_iter().filter(|c| c.time.starts_with(day)).map(event).collect();
        if day == "2026-03-02" {
            events.extend(other_events());
        }
        trail_file(&trail, None, "eu-west-1", day, &events);
    }
    dir
}

fn report(dir: &Path, sources: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["report".to_string()];
    args.extend(sources.iter().map(|s| dir.join(s).display().to_string()));
    args.extend(["--format", "json", "--policy"].map(String::from));
    args.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/policy.toml").display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&args).json()
}

#[test]
fn coverage_by_hand() {
    let dir = fixture();
    let s = report(dir.path(), &["logs", "trail"], &[]);
    assert_eq!(
        s["sources"],
        json!({"invocation_log_records": 4, "cloudtrail_calls": 6, "cloudtrail_only": 3,
               "cloudtrail_other_events": 2, "bedrock_mantle_calls": 0, "cloudtrail_tokens": null,
               "not_available": []})
    );
    // Each call once: the four logged, and r3, r4, r5 from CloudTrail.
    assert_eq!(s["rerouting"]["requests"], 7);
    let c = &s["coverage"];
    // 2026-03-02 eu-west-1: cells (eu. haiku, Converse) 1/1, (haiku, InvokeModel) 1/1, (global
    // sonnet, Converse) 2 calls / 1 record: 3 of 4 covered. 2026-03-03: 2 calls, no record.
    assert_eq!(
        c["by_source_region_day"],
        json!([
            {"day": "2026-03-02", "source_region": "eu-west-1", "cloudtrail_calls": 4, "invocation_log_records": 3, "cloudtrail_calls_logged": 3, "coverage": 0.75, "status": "partial"},
            {"day": "2026-03-02", "source_region": "us-east-1", "cloudtrail_calls": 0, "invocation_log_records": 1, "cloudtrail_calls_logged": 0, "coverage": null, "status": "no cloudtrail"},
            {"day": "2026-03-03", "source_region": "eu-west-1", "cloudtrail_calls": 2, "invocation_log_records": 0, "cloudtrail_calls_logged": 0, "coverage": 0.0, "status": "missing"},
        ])
    );
    assert_eq!(c["cloudtrail_calls"], 6);
    assert_eq!(c["invocation_log_records"], 4);
    assert_close(&c["coverage"], 0.5, "3 of 6 CloudTrail calls covered");
    assert_eq!(c["request_ids_match"], true);
    assert_eq!(c["only_in_cloudtrail"], 3);
    assert_eq!(c["only_in_invocation_logs"], 0, "r6's region has no trail: not counted as missing from it");
    assert_eq!(
        c["gaps"],
        json!([
            {"day": "2026-03-02", "source_region": "eu-west-1", "model_id": GLOBAL_SONNET, "operation": "Converse", "cloudtrail_calls": 2, "invocation_log_records": 1},
            {"day": "2026-03-02", "source_region": "us-east-1", "model_id": HAIKU, "operation": "Converse", "cloudtrail_calls": 0, "invocation_log_records": 1},
            {"day": "2026-03-03", "source_region": "eu-west-1", "model_id": EU_HAIKU, "operation": "Converse", "cloudtrail_calls": 2, "invocation_log_records": 0},
        ])
    );
    let listed: Vec<&str> =
        c["only_in_cloudtrail_listed"].as_array().unwrap().iter().map(|x| x["request_id"].as_str().unwrap()).collect();
    assert_eq!(listed, ["r3", "r4", "r5"]);
    // Tokens and cost count the logged calls: 4 x (100 in, 10 out).
    let tokens = s["tokens"]["by_model"].as_array().unwrap();
    assert_eq!(tokens.iter().map(|t| t["requests"].as_u64().unwrap()).sum::<u64>(), 4);
    assert_eq!(tokens.iter().map(|t| t["input"].as_u64().unwrap()).sum::<u64>(), 400);
    // Residency: r7 and r3 ran in the US (violations), r5's region is unknown (unverifiable); r6
    // is a US source that stayed in the US.
    assert_eq!(s["residency"]["violations"], 2);
    assert_eq!(s["residency"]["unverifiable"], 1);
    assert_eq!(s["residency"]["checked"], 7);
    // The caller made every call.
    assert_eq!(
        s["callers"],
        json!([{"kind": "role", "account": ACCOUNT, "principal": "role/AppRole", "session": "worker-1", "requests": 7, "errors": 0}])
    );
}

#[test]
fn cloudtrail_alone_audits_routes_and_leaves_tokens_unknown() {
    let dir = fixture();
    let s = report(dir.path(), &["trail"], &[]);
    assert_eq!(s["sources"]["not_available"], json!(["tokens", "latency", "cost", "capacity"]));
    for section in ["tokens", "latency", "cost", "capacity"] {
        assert_eq!(s[section], Value::Null, "{section} is unknown, not zero");
    }
    assert!(s.get("coverage").is_none(), "no invocation logs: nothing to compare");
    // r1 rerouted, r2 local (a foundation model), r7 and r3 rerouted to the US, r4 rerouted, r5 unknown.
    let rr = &s["rerouting"];
    assert_eq!(
        (rr["requests"].as_u64(), rr["local"].as_u64(), rr["rerouted"].as_u64(), rr["unknown"].as_u64()),
        (Some(6), Some(1), Some(4), Some(1))
    );
    assert!(s["daily"]["by_source_region"].as_array().unwrap().iter().all(|d| d["input_tokens"].is_null()));
    // The report says so instead of showing zeros.
    let out = tempdir();
    ok(&["report", dir.path().join("trail").to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        md.contains("## Tokens by model\n\nNot available: only CloudTrail was read, and CloudTrail records no tokens."),
        "{md}"
    );
    assert!(md.contains("## Latency by inference region\n\nNot available"), "{md}");
    assert!(!out.path().join("cost-by-day.svg").exists() && out.path().join("rerouting-matrix.svg").exists());
}

#[test]
fn residency_verdicts_from_cloudtrail_equal_those_from_the_logs() {
    // The same three calls, once as log records and once as CloudTrail events.
    let dir = tempdir();
    let same = ["r1", "r2", "r7"];
    std::fs::write(
        dir.path().join("logs.jsonl"),
        calls(&same).into_iter().map(log_line).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let events: Vec<Value> = calls(&same).into_iter().map(event).collect();
    trail_file(&dir.path().join("trail"), None, "eu-west-1", "2026-03-02", &events);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/policy.toml");
    let check = |source: &str| {
        let r = mila(&[
            "check",
            dir.path().join(source).to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 1, "r7 violates: {}", r.stderr);
        (r.json(), r.stderr)
    };
    let (from_logs, logs_err) = check("logs.jsonl");
    let (from_trail, trail_err) = check("trail");
    assert_eq!(from_logs, from_trail);
    assert_eq!(from_logs.as_array().unwrap().len(), 1);
    assert_eq!(from_logs[0]["request_id"], "r7");
    assert!(
        logs_err.contains("1 violations, 0 unverifiable (inference region unknown) of 3 requests checked"),
        "{logs_err}"
    );
    assert!(
        trail_err.contains("1 violations, 0 unverifiable (inference region unknown) of 3 requests checked"),
        "{trail_err}"
    );
}

#[test]
fn check_fails_on_a_logging_gap() {
    let dir = fixture();
    let allow_all = dir.path().join("allow.toml");
    std::fs::write(&allow_all, "[[rule]]\nsource = \"*\"\nallow = [\"*\"]\n").unwrap();
    let run = |pct: &str, sources: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            "--policy".into(),
            allow_all.display().to_string(),
            "--fail-on-coverage-below".into(),
            pct.into(),
        ];
        args.extend(sources.iter().map(|s| dir.path().join(s).display().to_string()));
        mila(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // 2026-03-03 is at 0%: below any threshold above 0; 2026-03-02 at 75% passes 70.
    let r = run("70", &["logs", "trail"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("logging coverage 50.0% of 6 CloudTrail calls; 1 source-region days below 70.0%"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("2026-03-03 eu-west-1: 0 of 2 CloudTrail calls logged (0.0%, missing)"), "{}", r.stderr);
    let r = run("80", &["logs", "trail"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("2 source-region days below 80.0%"), "{}", r.stderr);
    let r = run("0", &["logs", "trail"]);
    assert_eq!(r.code, 0, "nothing is below 0%: {}", r.stderr);
    // Without CloudTrail there is nothing to judge: said, and not a failure.
    let r = run("99", &["logs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("no Bedrock runtime calls in CloudTrail in this window"), "{}", r.stderr);
    // CloudTrail without a single log record: every day is missing.
    let r = run("50", &["trail"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("logging coverage 0.0% of 6 CloudTrail calls; 2 source-region days below 50.0%"),
        "{}",
        r.stderr
    );
    for bad in ["101", "1e400", "most"] {
        let r = run(bad, &["logs"]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("--fail-on-coverage-below"), "{}", r.stderr);
    }
}

#[test]
fn bad_trail_files_are_located_and_the_rest_is_read() {
    let dir = fixture();
    let trail = dir.path().join("trail");
    // A file of other services only; an event without requestID; a file cut short; a document
    // broken in its second event; a digest file, which is skipped.
    trail_file(&trail, None, "eu-west-1", "2026-03-04", &other_events());
    let mut bad = event(&CALLS[0]);
    bad["requestID"] = Value::Null;
    bad["eventTime"] = json!("2026-03-04T10:00:00Z");
    let mut good = event(&CALLS[0]);
    good["requestID"] = json!("r8");
    good["eventTime"] = json!("2026-03-04T11:00:00Z");
    trail_file(&trail, None, "eu-central-1", "2026-03-04", &[good.clone(), bad]);
    let cut = trail.join("AWSLogs").join(ACCOUNT).join("CloudTrail/eu-west-2/2026/03/04");
    std::fs::create_dir_all(&cut).unwrap();
    let (mut g9, mut g11) = (good.clone(), good.clone());
    (g9["requestID"], g11["requestID"]) = (json!("r9"), json!("r11"));
    // The gzip stream is flushed after the first event, then cut a few bytes into the second.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, format!("{{\"Records\":[{g9},").as_bytes()).unwrap();
    std::io::Write::flush(&mut enc).unwrap();
    let flushed = enc.get_ref().len();
    std::io::Write::write_all(&mut enc, format!("{g11}]}}").as_bytes()).unwrap();
    let whole = enc.finish().unwrap();
    std::fs::write(
        cut.join(format!("{ACCOUNT}_CloudTrail_eu-west-2_20260304T1200Z_cut.json.gz")),
        &whole[..flushed + 6],
    )
    .unwrap();
    let mut g10 = good.clone();
    g10["requestID"] = json!("r10");
    let broken = format!("{{\"Records\":[{g10},{{\"eventTime\": ]}}");
    std::fs::write(cut.join(format!("{ACCOUNT}_CloudTrail_eu-west-2_20260304T1300Z_broken.json")), broken).unwrap();
    let digest = trail.join("AWSLogs").join(ACCOUNT).join("CloudTrail-Digest/eu-west-1/2026/03/04");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(
        digest.join(format!("{ACCOUNT}_CloudTrail-Digest_eu-west-1_x_20260304T0800Z.json.gz")),
        gz(b"{\"awsAccountId\":\"1\"}"),
    )
    .unwrap();

    let s = report(dir.path(), &["trail"], &[]);
    // r8 and r10 read, and r9 from the file cut short inside its second event; the event
    // without requestID rejected and located.
    assert_eq!(s["sources"]["cloudtrail_calls"], 6 + 3);
    assert_eq!(s["sources"]["cloudtrail_other_events"], 4);
    let rejects = s["input"]["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["reason"], "missing required field `requestID`");
    let first = rejects[0]["first"][0].as_str().unwrap();
    assert!(first.ends_with("20260304T0800Z_abcdEFGH12345678.json.gz Records[1]"), "{first}");
    let problems: Vec<String> = s["input"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["source"], p["message"]))
        .collect();
    // The file cut short is one problem: the gzip stream's, with the events read before the cut.
    let cut: Vec<&String> = problems.iter().filter(|p| p.contains("_cut.json.gz")).collect();
    assert_eq!(cut.len(), 1, "{problems:?}");
    assert!(
        cut[0].contains("CloudTrail file: gzip stream is corrupt or truncated")
            && cut[0].contains("the 1 events before it were read"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("_broken.json")
            && p.contains("CloudTrail file: not valid JSON at line 1")
            && p.contains("the 1 events before it were read")),
        "{problems:?}"
    );
    assert_eq!(s["records"]["skipped_objects"], 1, "the digest file");
}

#[test]
fn an_organisation_trail_and_a_store_report_the_same_coverage() {
    let dir = fixture();
    // The same trail as an organisation trail's layout.
    let org = dir.path().join("org");
    for day in ["2026-03-02", "2026-03-03"] {
        let events: Vec<Value> = calls(&IN_TRAIL).into_iter().filter(|c| c.time.starts_with(day)).map(event).collect();
        trail_file(&org, Some("o-a1b2c3d4e5"), "eu-west-1", day, &events);
    }
    let files = report(dir.path(), &["logs", "trail"], &[]);
    let from_org = report(dir.path(), &["logs", "org"], &[]);
    assert_eq!(from_org["coverage"], files["coverage"]);
    // Trail files first on the command line: the logs still count each call they have.
    let reversed = report(dir.path(), &["trail", "logs"], &[]);
    assert_eq!(reversed["coverage"], files["coverage"]);
    assert_eq!(reversed["tokens"], files["tokens"]);

    // A store holds both kinds of record, each once, and reports what the files do.
    let store = dir.path().join("store");
    for _ in 0..2 {
        ok(&[
            "ingest",
            dir.path().join("logs").to_str().unwrap(),
            dir.path().join("trail").to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
    }
    let stored = report(dir.path(), &[], &["--store", store.to_str().unwrap()]);
    for section in ["sources", "coverage", "rerouting", "residency", "tokens", "callers"] {
        assert_eq!(stored[section], files[section], "{section} from the store");
    }
    // `query` sees both kinds of record, each once.
    let q = dir.path().join("kinds.sql");
    std::fs::write(&q, "SELECT recorded_by, count(*) AS n FROM invocations GROUP BY recorded_by ORDER BY recorded_by")
        .unwrap();
    let rows = ok(&["query", q.to_str().unwrap(), "--store", store.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(rows, json!([{"recorded_by": "cloudtrail", "n": 6}, {"recorded_by": "invocation_log", "n": 4}]));
}

#[test]
fn repeated_events_absurd_dates_and_floods_of_other_events() {
    let dir = tempdir();
    let trail = dir.path().join("trail");
    let r1 = event(&CALLS[0]);
    let mut ancient = event(&CALLS[0]);
    (ancient["requestID"], ancient["eventTime"]) = (json!("far-1"), json!("0001-01-01T00:00:00Z"));
    let mut future = event(&CALLS[0]);
    (future["requestID"], future["eventTime"]) = (json!("far-2"), json!("9999-12-31T23:59:59Z"));
    // r1 three times: twice in one file, once in another.
    trail_file(&trail, None, "eu-west-1", "2026-03-02", &[r1.clone(), r1.clone(), ancient, future]);
    trail_file(&trail, None, "eu-west-1", "2026-03-03", &[r1]);
    // A hundred thousand events of other services in one file.
    let flood: Vec<Value> = (0..100_000)
        .map(|i| json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventTime": "2026-03-02T00:00:00Z", "requestID": format!("s{i}")}))
        .collect();
    trail_file(&trail, None, "us-east-1", "2026-03-02", &flood);
    let out = tempdir();
    let s = ok(&["report", trail.to_str().unwrap(), "--out", out.path().to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(s["sources"]["cloudtrail_calls"], 3);
    assert_eq!(s["records"]["duplicates"], 2);
    assert_eq!(s["sources"]["cloudtrail_other_events"], 100_000);
    let days: Vec<&str> =
        s["daily"]["by_source_region"].as_array().unwrap().iter().map(|d| d["day"].as_str().unwrap()).collect();
    assert_eq!(days, ["0001-01-01", "2026-03-02", "9999-12-31"]);
    // Output follows the distinct data, not the span of dates or the flood.
    assert!(tree_size(out.path()) < 1 << 20, "{} bytes", tree_size(out.path()));
}

/// LookupEvents as the API reference shapes it (awsJson 1.1): `Events` of `{EventId, EventName,
/// EventTime (epoch seconds), EventSource, Username, Resources, CloudTrailEvent (the event as a
/// JSON string)}` and `NextToken` while there is more. moto does not serve it: a loopback replay
/// server answers, with one throttled call and an empty page mid-way, as the service can.
mod lookup_events {
    use super::*;
    use common::replay::{Replay, Request, Response};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The fixture's calls moved to recent days: Event history keeps 90 days.
    fn recent(text: &str) -> String {
        let day = |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        text.replace("2026-03-02", &day(3)).replace("2026-03-03", &day(2))
    }

    fn lookup_event(c: &Call) -> Value {
        let e: Value = serde_json::from_str(&recent(&event(c).to_string())).unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(e["eventTime"].as_str().unwrap()).unwrap().timestamp();
        json!({
            "EventId": format!("e-{}", c.id), "EventName": c.operation, "ReadOnly": "true",
            "AccessKeyId": "ASIAEXAMPLE", "EventTime": t as f64, "EventSource": "bedrock.amazonaws.com",
            "Username": "worker-1", "Resources": [], "CloudTrailEvent": e.to_string(),
        })
    }

    /// Pages by NextToken: r1 r2 | (throttled once) r7 r3 | nothing | r4 r5.
    fn service(throttled: Arc<AtomicBool>) -> impl Fn(&Request) -> Response + Send + Sync {
        move |r: &Request| {
            if r.operation != "CloudTrail_20131101.LookupEvents" {
                return (400, r#"{"__type":"InvalidRequestException","message":"unexpected operation"}"#.into());
            }
            let body: Value = serde_json::from_str(&r.body).unwrap();
            let filter = json!([{"AttributeKey": "EventSource", "AttributeValue": "bedrock.amazonaws.com"}]);
            if body["LookupAttributes"] != filter || body["MaxResults"] != 50 || !body["StartTime"].is_number() {
                return (
                    400,
                    json!({"__type": "InvalidLookupAttributesException", "message": body.to_string()}).to_string(),
                );
            }
            let page = |ids: &[&str], next: Option<&str>| {
                let events: Vec<Value> = calls(ids).into_iter().map(lookup_event).collect();
                let mut v = json!({"Events": events});
                if let Some(n) = next {
                    v["NextToken"] = json!(n);
                }
                (200, v.to_string())
            };
            match body["NextToken"].as_str() {
                None => page(&["r1", "r2"], Some("t1")),
                Some("t1") if !throttled.swap(true, Ordering::SeqCst) => {
                    (400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into())
                }
                Some("t1") => page(&["r7", "r3"], Some("t2")),
                Some("t2") => page(&[], Some("t3")),
                Some("t3") => page(&["r4", "r5"], None),
                Some(other) => (400, json!({"__type": "InvalidNextTokenException", "message": other}).to_string()),
            }
        }
    }

    #[test]
    fn event_history_pages_at_the_rate_limit_and_equals_the_trail_files() {
        let dir = fixture();
        // The same logs, at the recent days.
        let logs = dir.path().join("recent.jsonl");
        let lines: Vec<String> = calls(&LOGGED).into_iter().map(|c| recent(&log_line(c))).collect();
        std::fs::write(&logs, lines.join("\n")).unwrap();
        let trail = dir.path().join("recent-trail");
        for (n, day) in [(3u64, "2026-03-02"), (2, "2026-03-03")] {
            let events: Vec<Value> = calls(&IN_TRAIL)
                .into_iter()
                .filter(|c| c.time.starts_with(day))
                .map(|c| serde_json::from_str(&recent(&event(c).to_string())).unwrap())
                .collect();
            let d = (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
            trail_file(&trail, None, "eu-west-1", &d, &events);
        }
        let server = Replay::start(service(Arc::new(AtomicBool::new(false))));
        let since = (chrono::Utc::now().date_naive() - chrono::Days::new(5)).to_string();
        let args = |source: &str| {
            vec![
                "report".to_string(),
                logs.display().to_string(),
                source.to_string(),
                "--since".into(),
                since.clone(),
                "--format".into(),
                "json".into(),
            ]
        };
        let run = |a: Vec<String>| aws::mila_at(&server.url, &a.iter().map(String::as_str).collect::<Vec<_>>());
        let from_history = run(args("cloudtrail:eu-west-1"));
        assert_eq!(from_history.code, 0, "{}", from_history.stderr);
        let from_files = run(args(trail.to_str().unwrap()));
        let (h, f) = (from_history.json(), from_files.json());
        for section in ["sources", "coverage", "rerouting", "errors", "callers", "tokens"] {
            assert_eq!(h[section], f[section], "{section}");
        }
        assert_eq!(h["sources"]["cloudtrail_calls"], 6);
        assert!(
            from_history.stderr.contains("LookupEvents returns 50 events a call at 2 calls a second"),
            "{}",
            from_history.stderr
        );
        // Five calls (one throttled and retried), in the region asked for, at most 2 a second.
        let requests = server.requests();
        assert_eq!(requests.len(), 5, "{requests:?}");
        assert!(requests.iter().all(|r| r.region == "eu-west-1" && r.service == "cloudtrail"));
        for pair in requests.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(gap >= std::time::Duration::from_millis(450), "{gap:?} between calls");
        }
    }

    #[test]
    fn event_history_errors_name_the_permission_and_the_region() {
        let server = Replay::start(|_: &Request| {
            (400, r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: cloudtrail:LookupEvents"}"#.into())
        });
        let run = aws::mila_at(&server.url, &["report", "cloudtrail:ap-south-1", "--since", "1d"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("cloudtrail:ap-south-1") && run.stderr.contains("cloudtrail:LookupEvents"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("Event history in ap-south-1"), "{}", run.stderr);
        let bad = mila(&["report", "cloudtrail:"]);
        assert_eq!(bad.code, 2);
        assert!(bad.stderr.contains("expected cloudtrail:REGION"), "{}", bad.stderr);
    }
}

/// Issue 26: a file of `aws cloudtrail lookup-events` output (each event a JSON string in
/// `CloudTrailEvent`, `EventTime` in a local offset), holding a runtime call with CloudTrail's
/// token counts and a bedrock-mantle call. By hand, at 1 and 2 USD per million input and output
/// tokens: (100 x 1 + 20 x 2) / 1e6 = 0.00014; the mantle model has no price row.
#[test]
fn event_history_output_with_tokens_and_a_mantle_call() {
    let event = |id: &str, source: &str, name: &str, params: Value, extra: Value| {
        json!({"eventVersion": "1.11", "eventTime": "2026-03-02T08:14:31Z", "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "requestID": id, "recipientAccountId": ACCOUNT,
            "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/BedrockAPIKey-k1")},
            "requestParameters": params, "additionalEventData": extra})
        .to_string()
    };
    let wrap = |e: String| json!({"EventId": "x", "EventName": "n", "EventTime": "2026-03-02T09:14:31+01:00", "CloudTrailEvent": e});
    let page = json!({"Events": [
        wrap(event("h-1", "bedrock.amazonaws.com", "Converse", json!({"modelId": HAIKU}), json!({"inputTokens": 100, "outputTokens": 20}))),
        wrap(event("h-2", "bedrock-mantle.amazonaws.com", "CreateInference", json!({"model": "openai.gpt-oss-120b", "callWithBearerToken": true}), json!({"inputTokens": 7}))),
        wrap(event("h-3", "bedrock-mantle.amazonaws.com", "ListModels", json!({}), json!({}))),
    ], "NextToken": "t"});
    let dir = tempdir();
    let file = dir.path().join("history.json");
    std::fs::write(&file, page.to_string()).unwrap();
    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        format!("model,region,tier,input,output,cache_read,cache_write\n{HAIKU},*,*,1.0,2.0,0.1,1.25\n"),
    )
    .unwrap();
    let s = ok(&["report", file.to_str().unwrap(), "--prices", prices.to_str().unwrap(), "--format", "json"]).json();
    let x = &s["sources"];
    assert_eq!(
        [&x["cloudtrail_calls"], &x["cloudtrail_only"], &x["cloudtrail_other_events"], &x["bedrock_mantle_calls"]],
        [&json!(2), &json!(2), &json!(1), &json!(1)],
        "{x}"
    );
    let t = &x["cloudtrail_tokens"];
    assert_eq!([&t["input_tokens"], &t["output_tokens"]], [&json!(107), &json!(20)], "{t}");
    assert!((t["usd"].as_f64().unwrap() - 0.00014).abs() < 1e-12, "{t}");
    // Both callers are the API key's user.
    assert_eq!(s["callers"][0]["kind"], "api-key", "{}", s["callers"]);
    assert_eq!(s["callers"][0]["requests"], 2);
}
