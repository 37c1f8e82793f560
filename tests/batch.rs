//! `batch:` sources: Bedrock batch inference jobs beside the invocation logs. The job API
//! (ListModelInvocationJobs, restJson1) is a replay server, as moto does not serve it; the jobs'
//! output folders are on moto's S3 and in a directory. Every figure is worked by hand.
//!
//! Field names as AWS documents them: ModelInvocationJobSummary (Bedrock API Reference:
//! `jobArn`, `jobName`, `modelId`, `roleArn`, `status`, `submitTime`, `endTime`,
//! `inputDataConfig.s3InputDataConfig.s3Uri`, `outputDataConfig.s3OutputDataConfig.s3Uri`;
//! ListModelInvocationJobs: `submitTimeAfter`, `submitTimeBefore`, `maxResults`, `nextToken`,
//! `invocationJobSummaries`), and the job's `manifest.json.out` (User Guide, "View the results of
//! a batch inference job": `totalRecordCount`, `processedRecordCount`, `successRecordCount`,
//! `errorRecordCount`, `inputTokenCount`, `outputTokenCount`) in `{s3Uri}{job id}/`.

mod common;
use common::replay::{Replay, Request, Response};
use common::*;
use serde_json::{json, Value};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn manifest(total: u64, processed: u64, ok: u64, failed: u64, input: u64, output: u64) -> String {
    json!({"totalRecordCount": total, "processedRecordCount": processed, "successRecordCount": ok,
           "errorRecordCount": failed, "inputTokenCount": input, "outputTokenCount": output})
    .to_string()
}

fn job(id: &str, model: &str, status: &str, submit: &str, end: Option<&str>, bucket: &str) -> Value {
    let mut j = json!({
        "jobArn": format!("arn:aws:bedrock:us-east-1:111122223333:model-invocation-job/{id}"),
        "jobName": format!("nightly-{id}"), "modelId": model,
        "roleArn": "arn:aws:iam::111122223333:role/BatchRole", "status": status, "submitTime": submit,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": format!("s3://{bucket}/in/")}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": format!("s3://{bucket}/out/")}},
    });
    if let Some(e) = end {
        j["endTime"] = json!(e);
    }
    j
}

/// The jobs, two pages.
fn jobs_api(bucket: String) -> impl Fn(&Request) -> Response {
    move |r: &Request| {
        if r.path() != "/model-invocation-jobs" {
            return (404, r#"{"__type":"ResourceNotFoundException","message":"path"}"#.into());
        }
        let b = &bucket;
        let first = vec![
            job("aaaaaaaaaaaa", HAIKU, "Completed", "2026-11-10T01:00:00Z", Some("2026-11-10T03:00:00Z"), b),
            job(
                "bbbbbbbbbbbb",
                &format!("us.{SONNET}"),
                "PartiallyCompleted",
                "2026-11-11T01:00:00Z",
                Some("2026-11-12T01:00:00Z"),
                b,
            ),
            job("cccccccccccc", HAIKU, "Failed", "2026-11-12T01:00:00Z", Some("2026-11-12T02:00:00Z"), b),
        ];
        let second = vec![
            job("dddddddddddd", HAIKU, "Expired", "2026-11-08T01:00:00Z", Some("2026-11-15T01:00:00Z"), b),
            // Ends after the window: another window's.
            job("eeeeeeeeeeee", HAIKU, "Completed", "2026-11-16T01:00:00Z", Some("2026-11-20T01:00:00Z"), b),
            job(
                "ffffffffffff",
                "acme.frontier-9-v1:0",
                "Completed",
                "2026-11-13T01:00:00Z",
                Some("2026-11-13T02:00:00Z"),
                b,
            ),
            // A page repeating a job: read once.
            job("aaaaaaaaaaaa", HAIKU, "Completed", "2026-11-10T01:00:00Z", Some("2026-11-10T03:00:00Z"), b),
        ];
        let body = if r.query().contains("nextToken=page-2") {
            json!({"invocationJobSummaries": second})
        } else {
            json!({"invocationJobSummaries": first, "nextToken": "page-2"})
        };
        (200, body.to_string())
    }
}

#[test]
fn batch_jobs_are_priced_at_batch_rates_beside_the_logs_and_never_twice() {
    let bucket = format!("batch-{}", std::process::id());
    let dir = tempdir();
    let out = dir.path().join("outputs");
    let put = |rel: &str, text: &str| {
        let p = out.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    // Haiku at its batch row (half of 0.25 and 1.25): 2,000,000 x 0.125 + 500,000 x 0.625 = 562,500.
    put("out/aaaaaaaaaaaa/manifest.json.out", &manifest(1_000, 1_000, 990, 10, 2_000_000, 500_000));
    // The records hold prompts and completions: never read.
    put("out/aaaaaaaaaaaa/input.jsonl.out", "{\"recordId\": \"1\", \"modelInput\": {\"prompt\": \"SECRET-PROMPT\"}}\n");
    // Sonnet 4.5 through a geographic profile, at the regional batch row (1.65, 8.25):
    // 400,000 x 1.65 + 100,000 x 8.25 = 1,485,000.
    put("out/bbbbbbbbbbbb/manifest.json.out", &manifest(100, 80, 70, 10, 400_000, 100_000));
    // cccccccccccc failed before writing one: no counts, not zero.
    // dddddddddddd expired with a damaged manifest: its records are counted instead, for their
    // counts only: 2 succeeded (2 x 1,000 input, 2 x 200 output) and 1 failed, at Haiku's batch
    // row: 2,000 x 0.125 + 400 x 0.625 = 500.
    put("out/dddddddddddd/manifest.json.out", "{not json");
    let ok = r#"{"recordId":"R","modelInput":{"messages":[{"role":"user","content":"SECRET-PROMPT"}]},"modelOutput":{"content":[{"type":"text","text":"SECRET-COMPLETION"}],"usage":{"input_tokens":1000,"output_tokens":200}}}"#;
    let failed = r#"{"recordId":"E","modelInput":{"prompt":"SECRET-PROMPT"},"error":{"errorCode":400,"errorMessage":"bad request"}}"#;
    put("out/dddddddddddd/part-1.jsonl.out", &format!("{ok}\n{failed}\n"));
    put("out/dddddddddddd/part-2.jsonl.out", ok);
    put("out/eeeeeeeeeeee/manifest.json.out", &manifest(5, 5, 5, 0, 1_000_000, 1_000_000));
    // A model the price table does not have: counted, unpriced.
    put("out/ffffffffffff/manifest.json.out", &manifest(1, 1, 1, 0, 1_000, 1_000));
    // A folder no job API record names: counted, no model, unpriced.
    put("other/gggggggggggg/manifest.json.out", &manifest(5, 5, 5, 0, 10, 10));
    aws::upload(&bucket, "", &out);

    let api = Replay::start(jobs_api(bucket.clone()));
    let logs = dir.path().join("logs.jsonl");
    // One on-demand call: 1,000 x 0.25 + 100 x 1.25 = 375.
    std::fs::write(
        &logs,
        json!({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-10T08:00:00Z",
               "requestId": "r-1", "accountId": "111122223333", "region": "us-east-1", "operation": "Converse",
               "modelId": HAIKU, "input": {"inputTokenCount": 1_000}, "output": {"outputTokenCount": 100}})
        .to_string(),
    )
    .unwrap();
    let report = |sources: &[&str]| {
        let mut args = vec!["report", logs.to_str().unwrap()];
        args.extend(sources);
        args.extend(["--since", "2026-11-10", "--until", "2026-11-17", "--format", "json"]);
        let run = aws::mila_env(&aws::moto(), &[("AWS_ENDPOINT_URL_BEDROCK", &api.url)], &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for secret in ["SECRET-PROMPT", "SECRET-COMPLETION"] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        }
        run
    };
    let folders = [format!("batch:s3://{bucket}/out/"), format!("batch:s3://{bucket}/other/")];
    let run = report(&["batch:us-east-1", &folders[0], &folders[1]]);
    let s = run.json();
    let b = &s["batch"];
    let t = &b["totals"];
    assert_eq!(t["jobs"], 6, "{b}");
    assert_eq!((t["records_succeeded"].as_u64(), t["records_failed"].as_u64()), (Some(990 + 70 + 2 + 1 + 5), Some(21)));
    assert_eq!((t["input_tokens"].as_u64(), t["output_tokens"].as_u64()), (Some(2_403_010), Some(601_410)));
    assert_close(&t["usd"], (562_500.0 + 1_485_000.0 + 500.0) / 1e6, "batch usd");
    assert_eq!((t["unpriced_jobs"].as_u64(), t["jobs_without_counts"].as_u64()), (Some(2), Some(1)));
    let by_id = |id: &str| b["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == id).cloned().unwrap();
    let a = by_id("aaaaaaaaaaaa");
    assert_eq!(
        (&a["status"], &a["model"], &a["end_time"]),
        (&json!("Completed"), &json!(HAIKU), &json!("2026-11-10T03:00:00Z"))
    );
    assert_eq!(a["folder"], format!("s3://{bucket}/out/aaaaaaaaaaaa/"));
    let b_job = by_id("bbbbbbbbbbbb");
    assert_eq!(
        (&b_job["status"], &b_job["records_processed"], &b_job["records_total"]),
        (&json!("PartiallyCompleted"), &json!(80), &json!(100))
    );
    assert_eq!(by_id("cccccccccccc")["problem"], "no manifest and no records in its output folder", "{b}");
    let d = by_id("dddddddddddd");
    let problem = d["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("manifest not read: not JSON") && problem.ends_with("; counted from its records"),
        "{d}"
    );
    assert_eq!(
        (&d["counted_from"], &d["records_succeeded"], &d["records_failed"]),
        (&json!("records"), &json!(2), &json!(1))
    );
    assert_eq!(by_id("aaaaaaaaaaaa")["counted_from"], "manifest");
    assert_eq!(by_id("ffffffffffff")["problem"], "no batch price for acme.frontier-9-v1:0: unpriced");
    assert_eq!(by_id("gggggggggggg")["problem"], "no model known (no job API record): unpriced");
    assert!(b["jobs"].as_array().unwrap().iter().all(|j| j["job_id"] != "eeeeeeeeeeee"), "{b}");
    // In the cost as rows of kind batch, beside the on-demand call, and in the total.
    let c = &s["cost"];
    assert_close(&c["total"], (375.0 + 562_500.0 + 1_485_000.0 + 500.0) / 1e6, "total");
    let row = |model: &str, kind: &str| {
        c["by_model"].as_array().unwrap().iter().find(|r| r["model"] == model && r["kind"] == kind).cloned()
    };
    assert_close(&row(HAIKU, "on-demand").unwrap()["usd"], 0.000375, "on-demand haiku");
    // Jobs aaaaaaaaaaaa and dddddddddddd: 562,500 + 500, of 1,000 and 3 records.
    assert_close(&row(HAIKU, "batch").unwrap()["usd"], 0.563, "batch haiku");
    assert_eq!(row(HAIKU, "batch").unwrap()["requests"], 1_003);
    assert_eq!(row("(unknown)", "batch").unwrap()["unpriced_requests"], 5);
    let tier = c["by_service_tier"].as_array().unwrap().iter().find(|r| r["service_tier"] == "batch").cloned().unwrap();
    assert_close(&tier["usd"], 2.048, "batch tier");
    let day = s["daily"]["cost_by_model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "batch" && r["model"] == HAIKU)
        .cloned()
        .unwrap();
    assert_eq!(day["day"], "2026-11-10");
    // Never on-demand: the tokens by model are the logs' alone.
    assert_eq!(s["tokens"]["by_model"][0]["input"], 1_000);
    assert_eq!(s["tokens"]["by_model"].as_array().unwrap().len(), 1);
    assert!(
        run.stderr.contains("mila: batch: 6 jobs read (2 ListModelInvocationJobs calls); 1 counted from its records (no usable manifest), 1 without counts"),
        "{}",
        run.stderr
    );
    // The API listed the window less a week (a job runs at most 168 hours) to its end.
    let asked = api.requests();
    assert!(asked[0].query().contains("submitTimeAfter=2026-11-03T00%3A00%3A00Z"), "{:?}", asked[0].target);
    assert!(asked[0].query().contains("submitTimeBefore=2026-11-17T00%3A00%3A00Z"), "{:?}", asked[0].target);

    // The API alone finds the same jobs' manifests where their output went: the same figures but
    // for the folder no job names; the folders read again add nothing.
    let alone = report(&["batch:us-east-1"]).json();
    assert_eq!(alone["batch"]["totals"]["jobs"], 5);
    assert_eq!(alone["batch"]["totals"]["input_tokens"], 2_403_000);
    assert_close(&alone["batch"]["totals"]["usd"], 2.048, "api alone");
    // A directory of job folders, no API: no model, so counted and unpriced; a manifest of a
    // megabyte and one of absurd counts are each their job's problem, read no further.
    let local_dir = dir.path().join("local");
    for d in ["big0", "absurd", "g"] {
        std::fs::create_dir_all(local_dir.join(d)).unwrap();
    }
    std::fs::write(local_dir.join("big0/manifest.json.out"), " ".repeat(1 << 20)).unwrap();
    let absurd = manifest(1, 1, 1, 0, 1, 1).replace("\"inputTokenCount\":1", "\"inputTokenCount\":1e300");
    assert!(absurd.contains("1e300"), "{absurd}");
    std::fs::write(local_dir.join("absurd/manifest.json.out"), absurd).unwrap();
    std::fs::copy(out.join("other/gggggggggggg/manifest.json.out"), local_dir.join("g/manifest.json.out")).unwrap();
    let local = report(&[&format!("batch:{}", local_dir.display())]).json();
    let t = &local["batch"]["totals"];
    assert_eq!(
        (t["jobs"].as_u64(), t["unpriced_jobs"].as_u64(), t["jobs_without_counts"].as_u64()),
        (Some(3), Some(1), Some(2))
    );
    let jobs = local["batch"]["jobs"].as_array().unwrap();
    let problems: Vec<&str> = jobs.iter().filter_map(|j| j["problem"].as_str()).collect();
    assert!(problems.contains(&"manifest not read: larger than 65536 bytes"), "{problems:?}");
    assert!(problems.contains(&"manifest not read: `inputTokenCount` is 1e+300, not a count"), "{problems:?}");

    // The report shows them; the terminal says them.
    let md_dir = tempdir();
    let mut args =
        vec!["report", logs.to_str().unwrap(), "batch:us-east-1", "--since", "2026-11-10", "--until", "2026-11-17"];
    args.extend(["--out", md_dir.path().to_str().unwrap()]);
    let run = aws::mila_env(&aws::moto(), &[("AWS_ENDPOINT_URL_BEDROCK", &api.url)], &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "batch     5 jobs, 1084 records, $2.0480 at batch rates (in the cost above); 1 unpriced, 1 without counts"
        ),
        "{}",
        run.stdout
    );
    let md = std::fs::read_to_string(md_dir.path().join("report.md")).unwrap();
    assert!(md.contains("## Batch inference jobs"), "{md}");
    assert!(
        md.contains(
            "| aaaaaaaaaaaa | nightly-aaaaaaaaaaaa | us-east-1 | anthropic.claude-3-haiku-20240307-v1:0 | Completed |"
        ),
        "{md}"
    );
}

#[test]
fn batch_sources_name_the_permission_and_are_report_only() {
    let denied = Replay::start(|_: &Request| {
        (403, r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: bedrock:ListModelInvocationJobs"}"#.to_string())
    });
    let dir = tempdir();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, "").unwrap();
    let run = aws::mila_env(
        &aws::moto(),
        &[("AWS_ENDPOINT_URL_BEDROCK", &denied.url)],
        &["report", logs.to_str().unwrap(), "batch:us-east-1", "--since", "2026-11-10", "--until", "2026-11-17"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bedrock:ListModelInvocationJobs"), "{}", run.stderr);
    // A page token handed back for ever: refused.
    let looping =
        Replay::start(|_: &Request| (200, r#"{"nextToken":"again","invocationJobSummaries":[]}"#.to_string()));
    let run = aws::mila_env(
        &aws::moto(),
        &[("AWS_ENDPOINT_URL_BEDROCK", &looping.url)],
        &["report", logs.to_str().unwrap(), "batch:us-east-1", "--since", "2026-11-10"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("page 2 handed back a page token already used"), "{}", run.stderr);
    for command in ["check", "query"] {
        let mut args = vec![command];
        if command == "query" {
            args.push(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/error_codes_by_model.sql"));
        } else {
            args.extend(["--policy", concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs/policy.toml")]);
        }
        args.extend([logs.to_str().unwrap(), "batch:us-east-1"]);
        let run = mila(&args);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("{command} does not read batch: sources")), "{}", run.stderr);
    }
}
