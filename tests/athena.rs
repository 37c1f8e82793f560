//! `--engine athena` and `athena setup` through the real AWS SDK against moto's Athena on
//! loopback. moto runs no SQL: tests/athena/duck.py parses every statement mila would run
//! (its `--dry-run`) as Athena SQL with sqlglot, runs it in DuckDB over the same corpus, and
//! queues the rows in moto in that order; mila's report must then equal the local engine's.

mod common;

use std::path::Path;
use std::sync::Mutex;

use common::aws::{block_on, mila_at, moto, put, s3, upload};
use common::{differences, gz, ok, tempdir, Run, TempDir};
use serde_json::{json, Value};

/// moto's result queue is one per region: tests that queue results run one at a time.
static ATHENA: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ATHENA.lock().unwrap_or_else(|e| e.into_inner())
}

fn unique(name: &str) -> String {
    format!("mila-athena-{name}-{}", std::process::id())
}

const SINCE: &str = "2026-11-10T06:00:00Z";
const UNTIL: &str = "2026-11-13T18:30:00Z";
const ACCOUNT: &str = "123456789012";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn profiles() -> String {
    repo().join("sample-logs/profiles.toml").display().to_string()
}

/// One record in the shape of ../shared/records.md.
fn record(ts: &str, id: &str, region: &str, op: &str, model: &str, extra: Value) -> Value {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": ts, "accountId": ACCOUNT,
        "region": region, "requestId": id, "operation": op, "modelId": model,
        "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": [{"role": "user", "content": "secret prompt"}]}, "inputTokenCount": 40},
        "output": {"outputContentType": "application/json", "outputBodyJson": {"output": {"message": {"content": [{"text": "secret reply"}]}}, "stopReason": "end_turn", "metrics": {"latencyMs": 700}}, "outputTokenCount": 12},
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/EdgeRole/x"},
        "requestMetadata": {"application_name": "Edge"},
    });
    let o = r.as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            o.remove(k);
        } else {
            o.insert(k.clone(), v.clone());
        }
    }
    r
}

/// Writes NDJSON records, gzipped, to `dir/AWSLogs/.../REGION/YYYY/MM/DD/HH/name`.
fn write(dir: &Path, region: &str, hour: &str, name: &str, lines: &[String]) {
    let folder = dir.join(format!("AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{region}/{hour}"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(name), gz((lines.join("\n") + "\n").as_bytes())).unwrap();
}

/// The sample corpus plus the cases the issue names: a duplicate delivery, an old `us.` record
/// without `inferenceRegion`, a failed call, cache tokens only in stream metrics, application
/// profiles, a rejected line, and records on each edge of the window.
fn corpus() -> TempDir {
    let dir = tempdir();
    let out = dir.path().to_str().unwrap().to_string();
    ok(&["sample", "--out", &out, "--records", "1500", "--seed", "13", "--start", "2026-11-09"]);
    let d = dir.path();
    let app = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/supp0rtprof2";
    let stream_body = json!([
        {"type": "message_start", "message": {"role": "assistant"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 3, "outputTokenCount": 90, "invocationLatency": 4321, "firstByteLatency": 321, "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 2857}}
    ]);
    let edge = |ts: &str, id: &str| {
        record(ts, id, "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({})).to_string()
    };
    let dup = record(
        "2026-11-11T10:15:00Z",
        "edge-dup-1",
        "us-east-1",
        "Converse",
        "us.amazon.nova-lite-v1:0",
        json!({"inferenceRegion": "us-east-2"}),
    )
    .to_string();
    write(d, "us-east-1", "2026/11/11/10", "20261111T1016Z_dup_a.json.gz", std::slice::from_ref(&dup));
    write(d, "us-east-1", "2026/11/11/11", "20261111T1105Z_dup_b.json.gz", &[dup]);
    write(
        d,
        "us-east-1",
        "2026/11/11/12",
        "20261111T1201Z_cases.json.gz",
        &[
            // Old cross-region record: no inferenceRegion, route unknown.
            record("2026-11-11T12:00:01Z", "edge-old-1", "us-east-1", "ConverseStream", "us.amazon.nova-lite-v1:0", json!({})).to_string(),
            // A failed call: error code, no output, no token counts.
            record("2026-11-11T12:00:02Z", "edge-fail-1", "us-east-1", "InvokeModel", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"errorCode": "ModelTimeoutException", "output": null, "input": {"inputContentType": "application/json"}})).to_string(),
            // Foundation-model ARN and an inference-profile ARN.
            record("2026-11-11T12:00:03Z", "edge-arn-1", "us-east-1", "Converse", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", json!({})).to_string(),
            record("2026-11-11T12:00:04Z", "edge-arn-2", "us-east-1", "InvokeModelWithResponseStream",
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
                json!({"inferenceRegion": "us-west-2", "output": {"outputBodyJson": stream_body.clone(), "outputTokenCount": 90}})).to_string(),
            // A geography Bedrock may add (unknown route without inferenceRegion, geographic
            // quota), an imported model (runs where called), and a throttled call.
            record("2026-11-11T12:00:06Z", "edge-kr-1", "us-east-1", "Converse", "kr.anthropic.claude-sonnet-4-5-20250929-v1:0", json!({})).to_string(),
            record("2026-11-11T12:00:07Z", "edge-imported-1", "us-east-1", "Converse", "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc", json!({})).to_string(),
            record("2026-11-11T12:00:08Z", "edge-throttled-1", "us-east-1", "Converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"errorCode": "ThrottlingException", "output": null, "input": {"inputContentType": "application/json"}})).to_string(),
            // Anthropic's cache-write split, one-hour and five-minute; text that looks like one.
            record("2026-11-11T12:00:09Z", "edge-cache-1h-1", "us-east-1", "InvokeModel", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"input": {"inputTokenCount": 10, "cacheWriteInputTokenCount": 2000},
                       "output": {"outputTokenCount": 5, "outputBodyJson": {"content": [{"type": "text", "text": "\"cache_creation\": {\"ephemeral_1h_input_tokens\": 9}"}],
                       "usage": {"cache_creation": {"ephemeral_5m_input_tokens": 1200, "ephemeral_1h_input_tokens": 800}}}}})).to_string(),
            // Service tiers as responses name them: priority, and latency-optimized.
            record("2026-11-11T12:00:10Z", "edge-tier-1", "us-east-1", "Converse", "us.amazon.nova-pro-v1:0",
                json!({"output": {"outputTokenCount": 7, "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 300}, "serviceTier": {"type": "priority"}}}})).to_string(),
            record("2026-11-11T12:00:11Z", "edge-tier-2", "us-east-1", "Converse", "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                json!({"output": {"outputTokenCount": 7, "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 200}, "performanceConfig": {"latency": "optimized"}}}})).to_string(),
            // A rejected line: its timestamp is not RFC 3339.
            record("2026-11-11 12:00:05", "edge-bad-1", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({})).to_string(),
            // Issue 22: one bad record of each kind costs that record, never the query (Trino
            // fails a whole query on an out-of-range time or a value its JSON reader cannot type).
            record("2026-11-31T12:00:00Z", "edge-bad-day", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({})).to_string(),
            record("2026-11-11T25:00:00Z", "edge-bad-hour", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({})).to_string(),
            record("2026-11-11T12:00:12Z", "edge-bad-count", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0",
                json!({"input": {"inputTokenCount": {"n": 1}}})).to_string(),
            record("2026-11-11T12:00:13Z", "edge-quoted-count", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0",
                json!({"input": {"inputTokenCount": "123"}})).to_string(),
            record("2026-11-11T12:00:14Z", "edge-bad-identity", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({"identity": "root"})).to_string(),
            record("2026-11-11T12:00:15Z", "edge-bad-input", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({"input": "x"})).to_string(),
            record("2026-11-11T12:00:16Z", "edge-bad-output", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({"output": "y"})).to_string(),
            record("2026-11-11T12:00:17Z", "edge-bad-metadata", "us-east-1", "Converse", "anthropic.claude-3-haiku-20240307-v1:0", json!({"requestMetadata": "z"})).to_string(),
            record("2026-11-11T12:00:18Z", "edge-bad-metrics", "us-east-1", "InvokeModelWithResponseStream", "anthropic.claude-3-haiku-20240307-v1:0",
                json!({"output": {"outputTokenCount": 3, "outputBodyJson": [{"amazon-bedrock-invocationMetrics": {"invocationLatency": "slow"}}]}})).to_string(),
            // A model's tool call whose arguments look like the fields mila reads: only the
            // body's own `metrics`, `usage` and tier count (latency 701, standard, no split).
            record("2026-11-11T12:00:19Z", "edge-tool-args", "us-east-1", "Converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"output": {"outputTokenCount": 9, "outputBodyJson": {
                    "output": {"message": {"content": [{"toolUse": {"name": "f", "input": {
                        "metrics": {"latencyMs": 86000000}, "serviceTier": {"type": "flex"}, "service_tier": "priority",
                        "performanceConfig": {"latency": "optimized"}, "stop_reason": "tool",
                        "usage": {"cache_creation": {"ephemeral_1h_input_tokens": 2997}},
                        "amazon-bedrock-invocationMetrics": {"invocationLatency": 5}}}}]}},
                    "stopReason": "tool_use", "metrics": {"latencyMs": 701}, "usage": {"inputTokens": 4, "outputTokens": 9}}}})).to_string(),
            // Issue 26: operations mila does not know, counted from the OpenAI usage where the
            // log has no counts (a body and a stream); most output tokens where each API names
            // them, and hostile ones (absurd, a string) that count as none. Issue 27: the string
            // one is a long-context call (150,000 input and 50,001 cache reads: one past 200,000).
            record("2026-11-11T12:00:20Z", "edge-openai-1", "us-east-1", "ChatCompletions", "openai.gpt-oss-120b-1:0",
                json!({"input": {"inputBodyJson": {"model": "openai.gpt-oss-120b-1:0", "messages": [{"role": "user", "content": "\"max_tokens\": 5"}], "max_completion_tokens": 300}},
                       "output": {"outputBodyJson": {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 120, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 100}}}}})).to_string(),
            record("2026-11-11T12:00:21Z", "edge-openai-2", "us-east-1", "ChatCompletionsStream", "openai.gpt-oss-120b-1:0",
                json!({"input": {"inputBodyJson": {"max_tokens": 1_000_000_000_000_000u64}},
                       "output": {"outputBodyJson": [{"choices": [{"delta": {"content": "hi"}}]}, {"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 2}}]}})).to_string(),
            record("2026-11-11T12:00:22Z", "edge-max-string", "us-east-1", "InvokeModel", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"input": {"inputBodyJson": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": "4096"}, "inputTokenCount": 150_000, "cacheReadInputTokenCount": 50_001}})).to_string(),
            record("2026-11-11T12:00:23Z", "edge-max-nova", "us-east-1", "InvokeModel", "us.amazon.nova-pro-v1:0",
                json!({"input": {"inputBodyJson": {"inferenceConfig": {"max_new_tokens": 222}}, "inputTokenCount": 10}})).to_string(),
            // Issue 27: Converse's cache-write split in `usage.cacheDetails` (one-hour writes priced
            // apart), with and without the log's count, and entries mila skips.
            record("2026-11-11T12:00:24Z", "edge-details-1", "us-east-1", "Converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"input": {"inputTokenCount": 10, "cacheWriteInputTokenCount": 2000},
                       "output": {"outputTokenCount": 5, "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 400},
                           "usage": {"cacheDetails": [{"inputTokens": 500, "ttl": "1h"}, {"inputTokens": 1500, "ttl": "5m"}]}}}})).to_string(),
            record("2026-11-11T12:00:25Z", "edge-details-2", "us-east-1", "Converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                json!({"input": {"inputTokenCount": 10},
                       "output": {"outputTokenCount": 5, "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 400},
                           "usage": {"cacheDetails": [7, {"inputTokens": "9", "ttl": "1h"}, {"inputTokens": 300, "ttl": "1h"}, {"inputTokens": 700, "ttl": "24h"}]}}}})).to_string(),
        ],
    );
    // The last millisecond of a day and of a minute: Trino's decimal division put such records
    // on the next day and in the next minute.
    for (hour, name, ts, id) in [
        ("2026/11/11/23", "20261111T2359Z_midnight.json.gz", "2026-11-11T23:59:59.999Z", "edge-midnight"),
        ("2026/11/11/13", "20261111T1301Z_second59.json.gz", "2026-11-11T13:00:59.999Z", "edge-second-59"),
    ] {
        let line = edge(ts, id);
        write(d, "us-east-1", hour, name, &[line]);
    }
    write(
        d,
        "eu-west-1",
        "2026/11/12/08",
        "20261112T0801Z_app.json.gz",
        &[
            // Application profile with one region: no inferenceRegion, yet local; cache tokens
            // only in the stream metrics.
            record("2026-11-12T08:00:01Z", "edge-app-1", "eu-west-1", "InvokeModelWithResponseStream", app,
                json!({"input": {"inputContentType": "application/json", "inputBodyS3Path": "s3://x/data/a.json.gz", "inputTokenCount": 3},
                       "output": {"outputBodyJson": stream_body, "outputTokenCount": 90}})).to_string(),
        ],
    );
    // The window's edges: since is in, until is out, and the lag folders either side are read.
    write(
        d,
        "us-east-1",
        "2026/11/10/05",
        "20261110T0559Z_edge.json.gz",
        &[edge("2026-11-10T05:59:59.999Z", "edge-before")],
    );
    write(
        d,
        "us-east-1",
        "2026/11/10/06",
        "20261110T0600Z_edge.json.gz",
        &[edge("2026-11-10T06:00:00Z", "edge-first")],
    );
    write(
        d,
        "us-east-1",
        "2026/11/13/18",
        "20261113T1830Z_edge.json.gz",
        &[edge("2026-11-13T18:29:59.999Z", "edge-last"), edge("2026-11-13T18:30:00Z", "edge-after")],
    );
    dir
}

/// The corpus, uploaded to a new bucket under `prefix`: (corpus, bucket, its s3:// source).
fn uploaded(name: &str, prefix: &str) -> (TempDir, String, String) {
    let corpus = corpus();
    let bucket = unique(name);
    upload(&bucket, prefix, corpus.path());
    let src = format!("s3://{bucket}/{prefix}");
    (corpus, bucket, src)
}

fn policy() -> String {
    repo().join("sample-logs/policy.toml").display().to_string()
}

fn python() -> String {
    std::env::var("MILA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("MILA_TEST_PYTHON is not set: run the tests with scripts/test (scripts/moto sets it)")
    })
}

/// Runs `statements` (a `--dry-run` output) in DuckDB over `corpus` and queues the rows in moto.
fn duck(statements: &str, corpus: &Path, bucket: &str, prefix: &str) {
    duck_over(statements, corpus, bucket, prefix, &[]);
}

/// The same, with more arguments for duck.py (`--store`: `corpus` is a store's directory).
fn duck_over(statements: &str, corpus: &Path, bucket: &str, prefix: &str, more: &[&str]) {
    let dir = tempdir();
    let file = dir.path().join("statements.sql");
    std::fs::write(&file, statements).unwrap();
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/athena/duck.py"))
        .args([file.to_str().unwrap(), corpus.to_str().unwrap(), bucket, prefix, &moto()])
        .args(more)
        .output()
        .expect("run duck.py");
    assert!(out.status.success(), "duck.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

fn expect(run: Run, code: i32, what: &str) -> Run {
    assert_eq!(run.code, code, "{what}: exit {}\nstderr:\n{}", run.code, run.stderr);
    run
}

/// Runs a command with `--engine athena`: prints its statements with `--dry-run`, has DuckDB
/// answer them into moto's queue, then runs it for real against moto.
fn on_athena(args: &[&str], corpus: &Path, bucket: &str, prefix: &str) -> (Run, String) {
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let printed = expect(mila_at(&moto(), &dry), 0, "dry run");
    duck(&printed.stdout, corpus, bucket, prefix);
    (mila_at(&moto(), args), printed.stdout)
}

/// summary.json without what differs by engine and is compared on its own: the engine
/// section, latency percentiles (approximate on Athena), the locations of rejected lines
/// (Athena names the object, not the line) and objects passed over (Athena lists none).
/// The paths below the request body Athena may read (`record::body::MAX_TOKENS_PATHS`), lowercase.
fn crate_limits() -> Vec<String> {
    mila::record::body::MAX_TOKENS_PATHS
        .iter()
        .map(|(parent, name)| match parent {
            Some(p) => format!(".{p}.{name}'"),
            None => format!(".{name}'"),
        })
        .map(|p| p.to_lowercase())
        .collect()
}

fn comparable(run: &Run) -> Value {
    let mut v = run.json();
    let o = v.as_object_mut().unwrap();
    o.remove("engine");
    // Null when CloudTrail alone was read.
    if let Some(latency) = o.get_mut("latency").unwrap().as_object_mut() {
        latency.remove("percentiles");
        for row in latency.get_mut("by_inference_region").unwrap().as_array_mut().unwrap() {
            for k in ["p50_ms", "p90_ms", "p99_ms", "first_byte_p50_ms"] {
                row.as_object_mut().unwrap().remove(k);
            }
        }
        for row in latency.get_mut("local_vs_rerouted").unwrap().as_array_mut().unwrap() {
            for k in ["local_p50_ms", "local_p90_ms", "rerouted_p50_ms", "rerouted_p90_ms"] {
                row.as_object_mut().unwrap().remove(k);
            }
        }
    }
    o.get_mut("records").unwrap().as_object_mut().unwrap().remove("skipped_objects");
    let input = o.get_mut("input").unwrap().as_object_mut().unwrap();
    input.remove("skipped_examples");
    for r in input.get_mut("rejects").unwrap().as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("first");
    }
    v
}

/// `query FILE SOURCE` over the test window, with the sample profiles, as JSON.
fn query_args(file: &str, src: &str) -> Vec<String> {
    let profiles = profiles();
    let args = [
        "query",
        file,
        src,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--profiles",
        &profiles,
        "--format",
        "json",
        "--quiet",
    ];
    args.iter().map(|a| a.to_string()).collect()
}

/// Every latency of successful calls, per inference region and per (source, model, route),
/// read by the local engine: the exact values the approximate percentiles are checked against.
fn latencies(bucket: &str, prefix: &str) -> Vec<(String, String, i64)> {
    let dir = tempdir();
    let sql = dir.path().join("l.sql");
    std::fs::write(
        &sql,
        "SELECT inference_region, source_region, model, route, latency_ms FROM invocations \
         WHERE error_code IS NULL AND latency_ms IS NOT NULL",
    )
    .unwrap();
    let src = format!("s3://{bucket}/{prefix}");
    let args = query_args(sql.to_str().unwrap(), &src);
    let run = expect(mila_at(&moto(), &args.iter().map(String::as_str).collect::<Vec<_>>()), 0, "latencies");
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut out = Vec::new();
    for r in rows.as_array().unwrap() {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let ms = r["latency_ms"].as_i64().unwrap();
        out.push((format!("region {}", s("inference_region")), String::new(), ms));
        if s("route") != "unknown" {
            out.push((format!("route {} {} {}", s("source_region"), s("model"), s("route")), String::new(), ms));
        }
    }
    out
}

/// `value` is the p-th percentile of `data` within the documented approximation: its rank
/// lies within 1% of p, or one value either side on small groups.
fn within_rank(data: &mut [i64], p: f64, value: i64) -> bool {
    data.sort_unstable();
    let n = data.len() as f64;
    let below = data.iter().filter(|&&v| v < value).count() as f64;
    let at_or_below = data.iter().filter(|&&v| v <= value).count() as f64;
    let slack = (0.01 * n).max(1.0);
    let target = p * n;
    // Between two data values (an interpolating estimate) is as good as either neighbour.
    let inside = below <= target + slack && at_or_below >= target - slack;
    inside && value >= data[0] && value <= data[data.len() - 1]
}

#[test]
fn athena_report_equals_the_local_report() {
    let _guard = lock();
    let prefix = "bedrock/";
    let (corpus, bucket, src) = uploaded("report", prefix);
    let policy = policy();
    // Quotas low enough that some minutes of the sample are hot: the peaks and the minutes above
    // 80% are folded from Athena's minutes by the local code.
    let quota_dir = tempdir();
    let quotas = quota_dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        "[[quota]]\nregion = \"us-east-1\"\nmodel = \"anthropic.claude-3-haiku-20240307-v1:0\"\nrequests_per_minute = 1\ntokens_per_minute = 300\n\n[[quota]]\nregion = \"eu-west-1\"\nmodel = \"anthropic.claude-sonnet-4-5-20250929-v1:0\"\nrequests_per_minute = 2\ntokens_per_minute = 900\n",
    )
    .unwrap();
    let quotas = quotas.display().to_string();
    let common = [
        "--quotas",
        &quotas,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--profiles",
        &profiles(),
        "--policy",
        &policy,
        "--by-metadata",
        "application_name",
        "--by-metadata",
        "cost_center",
        "--format",
        "json",
        "--quiet",
    ];
    let mut local_args = vec!["report", &src];
    local_args.extend(common);
    let local = expect(mila_at(&moto(), &local_args), 0, "local report over S3");

    let report_dir = tempdir();
    let out_dir = report_dir.path().display().to_string();
    let mut athena_args =
        vec!["report", "--engine", "athena", &src, "--output", "s3://results/mila/", "--out", &out_dir];
    athena_args.extend(common);
    let (athena, statements) = on_athena(&athena_args, corpus.path(), &bucket, prefix);
    let athena = expect(athena, 0, "athena report");

    // The statements bound the scan to the window's hours and the lag hour each side.
    assert!(
        statements.contains("hour >= '2026/11/10/05'") && statements.contains("hour <= '2026/11/13/19'"),
        "{statements}"
    );
    // The prompt body is never declared or read whole: only paths to its most output tokens.
    let limits = crate_limits();
    let lower = statements.to_lowercase();
    for (at, _) in lower.match_indices("inputbodyjson") {
        let rest = &lower[at + "inputbodyjson".len()..];
        assert!(limits.iter().any(|l| rest.starts_with(l.as_str())), "{}", &lower[at..(at + 60).min(lower.len())]);
    }

    let mut out = Vec::new();
    differences(&comparable(&athena), &comparable(&local), "", &mut out);
    assert!(out.is_empty(), "summary.json differs:\n{}", out.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));

    // What the corpus holds, by hand: 1,500 sample records, the edge records in the window (one
    // delivered twice), the ten lines rejected (a time not RFC 3339, a day and an hour that do
    // not exist, a count that is an object and one that is a string, identity, input, output and
    // requestMetadata holding strings, stream metrics of the wrong type), and the two outside the
    // window.
    let (a, l) = (athena.json(), local.json());
    assert_eq!(a["records"]["rejected"], 10);
    let reasons: Vec<(String, u64)> = a["input"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["reason"].as_str().unwrap().to_string(), r["lines"].as_u64().unwrap()))
        .collect();
    // By reason, as strings sort.
    let want = [
        ("timestamp is not RFC 3339", 3),
        ("wrong type for field `identity`", 1),
        ("wrong type for field `input.inputTokenCount`", 2),
        ("wrong type for field `input`", 1),
        ("wrong type for field `output.outputBodyJson.amazon-bedrock-invocationMetrics`", 1),
        ("wrong type for field `output`", 1),
        ("wrong type for field `requestMetadata`", 1),
    ];
    assert_eq!(reasons, want.map(|(r, n)| (r.to_string(), n)));
    assert_eq!(a["records"]["outside_window"], l["records"]["outside_window"]);
    assert!(a["records"]["duplicates"].as_u64().unwrap() >= 1);
    assert_eq!(a["latency"]["percentiles"], "approximate");
    assert_eq!(l["latency"]["percentiles"], "exact");
    assert_eq!(a["engine"]["name"], "athena");
    let capacity = a["capacity"]["by_source_region_model_kind"].as_array().unwrap();
    let hot: u64 = capacity.iter().filter_map(|r| r["minutes_above_80pct"].as_u64()).sum();
    assert!(hot > 0, "some minutes are above 80% of the test quotas");
    // The `kr.` call and the throttled `us.` call are in one geographic row, equal on both engines.
    let sonnet = capacity
        .iter()
        .find(|r| {
            r["source_region"] == "us-east-1"
                && r["model"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
                && r["quota_kind"] == "geographic"
        })
        .unwrap();
    assert!(sonnet["throttled"].as_u64().unwrap() >= 1, "{sonnet}");
    assert!(capacity.iter().any(|r| r["quota_kind"] == "other"), "the imported model has no on-demand quota");
    let tiers: Vec<&str> =
        a["cost"]["by_service_tier"].as_array().unwrap().iter().map(|r| r["service_tier"].as_str().unwrap()).collect();
    assert_eq!(tiers, ["latency-optimized", "priority", "standard"]);
    assert_eq!(
        a["engine"]["queries"], 8,
        "records, usage, callers, metadata, operations, minutes and two latency tables"
    );
    // moto reports no bytes scanned; Athena bills 10 MB at least for each query.
    assert_eq!(a["engine"]["billed_bytes"], 8 * 10 * (1 << 20));
    assert!(athena.stderr.contains("mila: Athena ran 8 queries and scanned 0 bytes"), "{}", athena.stderr);

    // The report says how its figures were computed; nothing else in it changes.
    let md = std::fs::read_to_string(report_dir.path().join("report.md")).unwrap();
    assert!(md.contains("Computed by: athena (8 queries, 0 bytes scanned, 83886080 bytes billed"), "{md}");
    assert_eq!(md.matches("Percentiles are approximate").count(), 2, "{md}");
    assert!(!md.contains("nearest-rank"));

    // Percentiles: each within the documented rank error of the exact latencies.
    let data = latencies(&bucket, prefix);
    let group = |key: &str| -> Vec<i64> { data.iter().filter(|d| d.0 == key).map(|d| d.2).collect() };
    let mut checked = 0;
    for row in a["latency"]["by_inference_region"].as_array().unwrap() {
        let mut values = group(&format!("region {}", row["inference_region"].as_str().unwrap()));
        for (k, p) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)] {
            let v = row[k].as_i64().unwrap();
            assert!(within_rank(&mut values, p, v), "{k} {v} of {row} is not within 1% of rank");
            checked += 1;
        }
    }
    for row in a["latency"]["local_vs_rerouted"].as_array().unwrap() {
        for route in ["local", "rerouted"] {
            let Some(v) = row[format!("{route}_p50_ms")].as_i64() else { continue };
            let key =
                format!("route {} {} {route}", row["source_region"].as_str().unwrap(), row["model"].as_str().unwrap());
            assert!(within_rank(&mut group(&key), 0.5, v), "{key} p50 {v}");
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked} percentiles checked");
}

#[test]
fn athena_check_lists_the_local_violations() {
    let _guard = lock();
    let prefix = "";
    let (corpus, bucket, src) = uploaded("check", prefix);
    let policy = policy();
    let args = [
        "--policy",
        &policy,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--profiles",
        &profiles(),
        "--format",
        "csv",
        "--quiet",
    ];
    let mut local_args = vec!["check", &src];
    local_args.extend(args);
    let local = mila_at(&moto(), &local_args);
    assert_eq!(local.code, 1, "the sample corpus breaks its policy: {}", local.stderr);

    let mut athena_args = vec!["check", "--engine", "athena", &src];
    athena_args.extend(args);
    let (athena, statements) = on_athena(&athena_args, corpus.path(), &bucket, prefix);
    assert_eq!(statements.matches("\n;\n").count(), 3, "records, usage, violations");
    assert_eq!(athena.code, 1, "{}", athena.stderr);
    assert_eq!(athena.stdout, local.stdout, "the same violating requests, in the same order");
    let summary = |r: &Run| r.stderr.lines().find(|l| l.contains("violations,")).unwrap_or_default().to_string();
    assert_eq!(summary(&athena), summary(&local));
    assert!(local.stdout.lines().count() > 5, "{}", local.stdout);
}

#[test]
fn every_shipped_query_gives_the_same_rows_on_athena() {
    let _guard = lock();
    let prefix = "logs/";
    let (corpus, bucket, src) = uploaded("query", prefix);
    let mut files: Vec<_> = std::fs::read_dir(repo().join("queries")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 4);
    for file in files {
        let q = file.display().to_string();
        let owned = query_args(&q, &src);
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let local = expect(mila_at(&moto(), &args), 0, "local query");
        let mut athena_args = args.clone();
        athena_args.extend(["--engine", "athena"]);
        let (athena, _) = on_athena(&athena_args, corpus.path(), &bucket, prefix);
        let athena = expect(athena, 0, "athena query");
        let (a, l): (Value, Value) =
            (serde_json::from_str(&athena.stdout).unwrap(), serde_json::from_str(&local.stdout).unwrap());
        assert!(l.as_array().unwrap().len() > 3, "{q}: {l}");
        let mut out = Vec::new();
        differences(&a, &l, "", &mut out);
        assert!(
            out.is_empty(),
            "{q}: the engines differ:\n{}",
            out.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// `COMMAND --engine athena --athena-table TABLE --week 2026-W46`, then `extra`.
fn over_table<'a>(command: &'a str, table: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![command, "--engine", "athena", "--athena-table", table, "--week", "2026-W46"];
    v.extend_from_slice(extra);
    v
}

#[test]
fn dry_run_starts_nothing() {
    let _guard = lock();
    let run = expect(mila_at(&moto(), &over_table("report", "mila.invocation_logs", &["--dry-run"])), 0, "dry run");
    let statements: Vec<&str> = run.stdout.split("\n;\n").filter(|s| !s.trim().is_empty()).collect();
    assert_eq!(statements.len(), 7, "without --by-metadata there is no metadata statement");
    assert!(run.stdout.ends_with("\n;\n"));
    let names: Vec<&str> = statements.iter().map(|s| s.lines().next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "-- records",
            "-- usage",
            "-- callers",
            "-- minutes",
            "-- operations",
            "-- latency_by_inference_region",
            "-- latency_by_route"
        ]
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // --compare previous: the previous week's statements follow, in the same order.
    let both = expect(
        mila_at(&moto(), &over_table("report", "mila.invocation_logs", &["--compare", "previous", "--dry-run"])),
        0,
        "dry run with compare",
    );
    assert_eq!(both.stdout.matches("\n;\n").count(), 14);
    assert!(both.stdout.contains("hour >= '2026/11/01/23'"), "the previous week's hours");
}

/// moto's manual transitions: a query stays where it is until polled `times` times.
fn transitions(times: Option<u32>) {
    let (path, body) = match times {
        Some(t) => (
            "set-transition",
            json!({"model_name": "athena::execution", "transition": {"progression": "manual", "times": t}}),
        ),
        None => ("unset-transition", json!({"model_name": "athena::execution"})),
    };
    post(&format!("/moto-api/state-manager/{path}"), &body);
}

fn post(path: &str, body: &Value) {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type': 'application/json'})).read()",
            &format!("{}{path}", moto()),
            &body.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Athena's API, as tests call it: JSON over POST with the operation in `X-Amz-Target`.
fn athena_call(operation: &str, body: &Value) -> Value {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, urllib.request; print(urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[3].encode(), headers={'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonAthena.' + sys.argv[2], 'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIAMILATESTKEY/20260101/us-east-1/athena/aws4_request, SignedHeaders=host, Signature=x'})).read().decode())",
            &format!("{}/", moto()),
            operation,
            &body.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn executions() -> Vec<Value> {
    let ids = athena_call("ListQueryExecutions", &json!({}));
    ids["QueryExecutionIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| athena_call("GetQueryExecution", &json!({"QueryExecutionId": id}))["QueryExecution"].clone())
        .collect()
}

fn state_of(id: &str) -> String {
    // GetQueryExecution advances a manual transition: read the state from the listing instead.
    executions()
        .into_iter()
        .find(|e| e["QueryExecutionId"] == id)
        .map(|e| e["Status"]["State"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn a_query_past_the_timeout_is_stopped() {
    let _guard = lock();
    transitions(Some(1_000_000));
    let started = std::time::Instant::now();
    let run = mila_at(
        &moto(),
        &over_table("report", "mila.timeout_probe", &["--athena-timeout", "1", "--max-concurrency", "2", "--quiet"]),
    );
    transitions(None);
    let run = expect(run, 2, "timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(
        run.stderr.contains("Athena query `records`")
            && run.stderr.contains("did not finish within --athena-timeout 1 s"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("stopped 2 running queries"), "both running queries are stopped: {}", run.stderr);
    // Only two had started (--max-concurrency 2): nothing else was sent.
    let ours: Vec<Value> = executions()
        .into_iter()
        .filter(|e| e["Query"].as_str().unwrap_or("").contains("\"mila\".\"timeout_probe\""))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    for e in &ours {
        assert_eq!(e["Status"]["State"], "CANCELLED", "{e}");
    }
}

#[test]
fn a_query_cancelled_elsewhere_fails_the_run_and_the_rest_are_stopped() {
    let _guard = lock();
    transitions(Some(1_000_000));
    let child = common::aws::spawn_mila(
        &moto(),
        &over_table(
            "check",
            "mila.cancel_probe",
            &["--policy", "sample-logs/policy.toml", "--athena-timeout", "60", "--quiet"],
        ),
    );
    // Wait for the first query to start, then cancel it as another user would.
    let mut id = None;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        id = executions()
            .into_iter()
            .find(|e| e["Query"].as_str().unwrap_or("").contains("cancel_probe") && e["Status"]["State"] != "CANCELLED")
            .map(|e| e["QueryExecutionId"].as_str().unwrap().to_string());
        if id.is_some() {
            break;
        }
    }
    let id = id.expect("a query started");
    athena_call("StopQueryExecution", &json!({"QueryExecutionId": id}));
    let out = child.wait_with_output().unwrap();
    transitions(None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(state_of(&id), "CANCELLED");
    let still: Vec<Value> = executions()
        .into_iter()
        .filter(|e| e["Query"].as_str().unwrap_or("").contains("cancel_probe") && e["Status"]["State"] != "CANCELLED")
        .collect();
    assert!(still.is_empty(), "every other query of the run was stopped: {still:?}");
}

#[test]
fn ctrl_c_stops_the_running_queries() {
    let _guard = lock();
    transitions(Some(1_000_000));
    let child = common::aws::spawn_mila(
        &moto(),
        &over_table("report", "mila.interrupt_probe", &["--max-concurrency", "3", "--quiet"]),
    );
    let running = || -> Vec<Value> {
        executions().into_iter().filter(|e| e["Query"].as_str().unwrap_or("").contains("interrupt_probe")).collect()
    };
    for _ in 0..100 {
        if running().len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(running().len(), 3, "three queries started");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    transitions(None);
    assert_eq!(out.status.code(), Some(2));
    let states: Vec<String> = running().iter().map(|e| e["Status"]["State"].as_str().unwrap().to_string()).collect();
    assert_eq!(states, ["CANCELLED", "CANCELLED", "CANCELLED"]);
}

#[test]
fn aws_errors_name_the_permission_and_resource() {
    let _guard = lock();
    let run = expect(
        mila_at(&moto(), &over_table("report", "mila.x", &["--workgroup", "no-such-group", "--quiet"])),
        2,
        "missing workgroup",
    );
    assert!(run.stderr.contains("starting query `records`: workgroup no-such-group"), "{}", run.stderr);
    assert!(!run.stderr.contains(common::aws::SECRET));
    let run = expect(mila_at(&moto(), &["report", "--engine", "athena", "some/dir", "--quiet"]), 2, "local source");
    assert!(run.stderr.contains("--engine athena reads one s3://BUCKET/PREFIX"), "{}", run.stderr);
    let run = expect(mila_at(&moto(), &["report", "--engine", "athena", "--athena-table", "no_dot"]), 2, "bad table");
    assert!(run.stderr.contains("--athena-table `no_dot` is not DATABASE.TABLE"), "{}", run.stderr);
    // Absurd settings are refused before anything is sent.
    let absurd: [(&[&str], &str); 4] = [
        (&["--athena-timeout", "1e300"], "--athena-timeout must be a number of seconds above 0 and at most 86400"),
        (&["--workgroup", "a b;drop"], "--workgroup `a b;drop`: use 1-128 letters"),
        (&["--output", "s3://"], "--output s3://: no bucket name"),
        (&["--athena-table", "d.t\u{202e}x"], "table name `t\\u{202e}x`: use 1-255 letters, digits and _"),
    ];
    for (extra, message) in absurd {
        let mut args = vec!["report", "--engine", "athena", "--week", "2026-W46"];
        if !extra.contains(&"--athena-table") {
            args.extend(["--athena-table", "mila.x"]);
        }
        args.extend_from_slice(extra);
        let run = expect(mila_at(&moto(), &args), 2, message);
        assert!(run.stderr.contains(message), "{extra:?}: {}", run.stderr);
    }
}

#[test]
fn setup_declares_a_projected_table_over_the_regions_it_finds() {
    let _guard = lock();
    let bucket = unique("setup");
    let client = s3();
    block_on(async {
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        for key in [
            "p/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/11/10/00/a.json.gz",
            "p/AWSLogs/123456789012/BedrockModelInvocationLogs/eu-west-1/2026/11/10/00/b.json.gz",
            "p/AWSLogs/123456789012/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check",
        ] {
            put(&client, &bucket, key, b"{}".to_vec()).await;
        }
    });
    let src = format!("s3://{bucket}/p");
    let printed =
        expect(mila_at(&moto(), &["athena", "setup", &src, "--print", "--table", "setup_probe"]), 0, "setup --print");
    let ddl = printed.stdout.clone();
    assert_eq!(ddl.matches("\n;\n").count(), 3, "{ddl}");
    assert!(ddl.contains("'projection.source_region.values' = 'eu-west-1,us-east-1'"), "{ddl}");
    assert!(ddl.contains("'projection.account.values' = '123456789012'"), "{ddl}");
    assert!(ddl.contains(&format!(
        "'storage.location.template' = 's3://{bucket}/p/AWSLogs/${{account}}/BedrockModelInvocationLogs/${{source_region}}/${{hour}}/'"
    )));
    assert!(!ddl.to_lowercase().contains("inputbodyjson"), "bodies are not declared");
    let before = executions().len();
    assert_eq!(executions().len(), before, "--print runs nothing");
    // The DDL is Athena SQL as sqlglot reads it (duck.py parses DDL and queues empty results).
    duck(&ddl, Path::new("/nonexistent"), &bucket, "p/");

    let run = expect(
        mila_at(&moto(), &["athena", "setup", &src, "--table", "setup_probe", "--output", "s3://results/setup"]),
        0,
        "setup",
    );
    assert!(
        run.stderr.contains("table mila.setup_probe declared") && run.stderr.contains("eu-west-1, us-east-1"),
        "{}",
        run.stderr
    );
    let ran: Vec<String> =
        executions().into_iter().skip(before).map(|e| e["Query"].as_str().unwrap().to_string()).collect();
    let printed: Vec<String> = ddl
        .split("\n;\n")
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split_once('\n').unwrap().1.to_string())
        .collect();
    assert_eq!(ran, printed, "setup runs what --print prints, in order");

    let run = expect(mila_at(&moto(), &["athena", "setup", &format!("s3://{bucket}/empty")]), 2, "no layout");
    assert!(
        run.stderr.contains("no AWSLogs/ACCOUNT/BedrockModelInvocationLogs/REGION/ folders found"),
        "{}",
        run.stderr
    );

    // Issue 22: folder names are anyone's who can write to the bucket. `999,888` would add two
    // accounts and `zz\` break the statement: they are left out, named, and the DDL is unchanged.
    block_on(async {
        for key in [
            "p/AWSLogs/999,888/BedrockModelInvocationLogs/us-east-1/2026/11/10/00/c.json.gz",
            "p/AWSLogs/123456789012/BedrockModelInvocationLogs/zz\\/2026/11/10/00/d.json.gz",
            "p/AWSLogs/123456789012/BedrockModelInvocationLogs/us-west-2'x/2026/11/10/00/e.json.gz",
        ] {
            put(&client, &bucket, key, b"{}".to_vec()).await;
        }
    });
    let odd =
        expect(mila_at(&moto(), &["athena", "setup", &src, "--print", "--table", "setup_probe"]), 0, "odd folders");
    assert_eq!(odd.stdout, ddl, "the same DDL as before the odd folders");
    for folder in [
        "AWSLogs/999,888/ (not an account id)",
        "BedrockModelInvocationLogs/zz\\/ (not a region name)",
        "BedrockModelInvocationLogs/us-west-2'x/ (not a region name)",
    ] {
        assert!(
            odd.stderr.contains(&format!("mila: warning: left out of the table: {folder}")),
            "{folder}: {}",
            odd.stderr
        );
    }
    // A prefix Hive's DDL cannot declare is refused before anything runs.
    let before = executions().len();
    for bad in ["p/it's/", "p/back\\slash/", "p/a\"b/"] {
        let run = expect(
            mila_at(
                &moto(),
                &[
                    "athena",
                    "setup",
                    &format!("s3://{bucket}/{bad}"),
                    "--accounts",
                    "123456789012",
                    "--regions",
                    "us-east-1",
                ],
            ),
            2,
            bad,
        );
        assert!(
            run.stderr.contains("the logs' S3 location") && run.stderr.contains("which Athena DDL cannot declare"),
            "{bad}: {}",
            run.stderr
        );
        let store = expect(mila_at(&moto(), &["athena", "setup", "--store", &format!("s3://{bucket}/{bad}")]), 2, bad);
        assert!(store.stderr.contains("the store's S3 location"), "{bad}: {}", store.stderr);
    }
    assert_eq!(executions().len(), before, "nothing ran");
}

#[test]
fn athena_over_a_store_on_s3_equals_the_report_from_the_store() {
    let _guard = lock();
    let prefix = "logs/";
    let (corpus, _, src) = uploaded("store-src", prefix);
    let stores = unique("stores");
    let client = s3();
    block_on(async { client.create_bucket().bucket(&stores).send().await.unwrap() });
    let on_s3 = format!("s3://{stores}/mila/");
    let local = tempdir();
    for store in [on_s3.as_str(), local.path().to_str().unwrap()] {
        expect(mila_at(&moto(), &["ingest", "--store", store, "--quiet", &src]), 0, "ingest");
    }

    let ddl = expect(mila_at(&moto(), &["athena", "setup", "--store", &on_s3, "--print"]), 0, "setup --store --print");
    assert!(ddl.stdout.contains("STORED AS PARQUET"), "{}", ddl.stdout);
    assert!(ddl.stdout.contains(&format!("'storage.location.template' = 's3://{stores}/mila/records/day=${{day}}/'")));
    assert!(ddl.stdout.contains("CREATE EXTERNAL TABLE IF NOT EXISTS `mila`.`store`"));
    duck(&ddl.stdout, Path::new("/nonexistent"), &stores, "mila/");
    let setup = expect(mila_at(&moto(), &["athena", "setup", "--store", &on_s3]), 0, "setup --store");
    assert!(setup.stderr.contains("table mila.store declared over the store"), "{}", setup.stderr);

    let window = ["--since", SINCE, "--until", UNTIL, "--profiles", &profiles(), "--policy", &policy()];
    let mut local_args = vec!["report", "--store", &on_s3, "--format", "json", "--quiet"];
    local_args.extend(window);
    let from_store = expect(mila_at(&moto(), &local_args), 0, "report --store s3://");
    let mut athena_args = local_args.clone();
    athena_args.extend(["--engine", "athena"]);
    let mut dry = athena_args.clone();
    dry.push("--dry-run");
    let printed = expect(mila_at(&moto(), &dry), 0, "dry run over the store");
    assert!(printed.stdout.contains("day >= '2026-11-10'") && printed.stdout.contains("day <= '2026-11-13'"));
    duck_over(&printed.stdout, local.path(), &stores, "mila/", &["--store"]);
    let athena = expect(mila_at(&moto(), &athena_args), 0, "athena over the store");
    let mut out = Vec::new();
    differences(&comparable(&athena), &comparable(&from_store), "", &mut out);
    assert!(out.is_empty(), "summary.json differs:\n{}", out.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
    let (a, l) = (athena.json(), from_store.json());
    assert_eq!(a["records"]["rejected"], 10, "the store's checkpoint keeps what its ingests rejected");
    assert_eq!(a["rerouting"]["requests"], l["rerouting"]["requests"]);
    assert!(a["rerouting"]["requests"].as_u64().unwrap() > 500);
    drop(corpus);
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A CloudTrail table, read by Athena with the invocation logs and alone, audits as the local
/// engine reads the same trail files: calls counted once, coverage, residency, callers.
#[test]
fn athena_audits_a_cloudtrail_table_as_the_local_engine_does() {
    let _guard = lock();
    let corpus = tempdir();
    let dir = corpus.path().to_str().unwrap();
    ok(&["sample", "--out", dir, "--records", "800", "--seed", "21", "--start", "2026-11-09", "--cloudtrail"]);
    // Issue 26: bedrock-mantle calls (never logged; an inference name mila has never seen is a call
    // too), token counts in `additionalEventData` (as numbers and as digit strings), and the rejects
    // they bring, on both engines alike.
    let day = corpus.path().join(format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/11"));
    std::fs::create_dir_all(&day).unwrap();
    let event = |id: &str, source: &str, name: &str, params: Value, extra: Value| {
        json!({"eventVersion": "1.11", "eventTime": "2026-11-11T10:00:00Z", "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "requestID": id, "recipientAccountId": ACCOUNT,
            "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/BedrockAPIKey-k1"), "accountId": ACCOUNT},
            "requestParameters": params, "additionalEventData": extra})
    };
    let (mantle, runtime) = ("bedrock-mantle.amazonaws.com", "bedrock.amazonaws.com");
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let mut key_role =
        event("t-4", runtime, "Converse", json!({"modelId": haiku}), json!({"callWithBearerToken": true}));
    key_role["userIdentity"]["arn"] = json!(format!("arn:aws:sts::{ACCOUNT}:assumed-role/KeyRole/s1"));
    let records = json!({"Records": [
        event("m-1", mantle, "CreateInference", json!({"model": "openai.gpt-oss-120b", "callWithBearerToken": true}), json!({"inputTokens": 120, "outputTokens": "30"})),
        event("m-2", mantle, "CreateResponse", json!({"model": "openai.gpt-oss-20b"}), json!({})),
        event("m-3", mantle, "ListModels", json!({}), json!({})),
        event("m-4", mantle, "CreateInference", json!({}), json!({})),
        event("t-1", runtime, "Converse", json!({"modelId": haiku}), json!({"inputTokens": 500, "outputTokens": 50})),
        event("t-2", runtime, "Converse", json!({"modelId": haiku}), json!({"inputTokens": 2_000_000_000u64})),
        event("t-3", runtime, "Converse", json!({"modelId": haiku}), json!({"inputTokens": -4, "outputTokens": "1e3"})),
        // A role session calling with a short-term API key: its calls are an API key's.
        key_role,
    ]});
    std::fs::write(day.join(format!("{ACCOUNT}_CloudTrail_us-east-1_20261111T1000Z_mantle.json")), records.to_string())
        .unwrap();
    let bucket = unique("trail");
    upload(&bucket, "all/", corpus.path());
    let (profiles, policy) = (profiles(), policy());
    let common = [
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--profiles",
        &profiles,
        "--policy",
        &policy,
        "--format",
        "json",
        "--quiet",
    ];
    let compare = |athena_args: &[&str], local_source: &str, what: &str| {
        let mut dry: Vec<&str> = athena_args.to_vec();
        dry.extend(common);
        let mut run_args = dry.clone();
        dry.push("--dry-run");
        let printed = expect(mila_at(&moto(), &dry), 0, "dry run");
        assert!(printed.stdout.contains("json_extract_scalar(requestparameters, '$.modelId')"), "{}", printed.stdout);
        duck_over(&printed.stdout, corpus.path(), &bucket, "all/", &["--trail", "mila.cloudtrail"]);
        let athena = expect(mila_at(&moto(), &run_args), 0, what);
        run_args = vec!["report", local_source];
        run_args.extend(common);
        let local = expect(mila_at(&moto(), &run_args), 0, "local");
        let mut out = Vec::new();
        differences(&comparable(&athena), &comparable(&local), "", &mut out);
        assert!(out.is_empty(), "{what}: summary.json differs:\n{}", out.join("\n"));
        local.json()
    };
    let src = format!("s3://{bucket}/all/");
    let both = compare(
        &[
            "report",
            "--engine",
            "athena",
            "--athena-table",
            "mila.invocation_logs",
            "--cloudtrail-table",
            "mila.cloudtrail",
        ],
        &src,
        "logs and a CloudTrail table",
    );
    assert!(
        both["sources"]["cloudtrail_only"].as_u64().unwrap() > 0 && both["coverage"].is_object(),
        "{}",
        both["sources"]
    );
    // By hand: m-1 and m-2 are mantle calls (m-3 manages, m-4 names no model); the tokens are
    // m-1's 120 + 30 and t-1's 500 + 50 (t-3's are no counts; t-2 is rejected).
    assert_eq!(both["sources"]["bedrock_mantle_calls"], 2, "{}", both["sources"]);
    let t = &both["sources"]["cloudtrail_tokens"];
    assert_eq!([&t["input_tokens"], &t["output_tokens"]], [&json!(620), &json!(80)], "{t}");
    let rejects = both["input"]["rejects"].to_string();
    assert!(rejects.contains("missing required field `requestParameters.model`"), "{rejects}");
    assert!(rejects.contains("token count `additionalEventData.inputTokens` above 1,000,000,000"), "{rejects}");
    assert!(!both["coverage"]["gaps"].to_string().contains("bedrock-mantle:"), "{}", both["coverage"]["gaps"]);
    let key_role: Vec<&Value> =
        both["callers"].as_array().unwrap().iter().filter(|c| c["principal"] == "role/KeyRole").collect();
    assert_eq!(key_role.len(), 1, "{}", both["callers"]);
    assert_eq!((&key_role[0]["kind"], &key_role[0]["requests"]), (&json!("api-key"), &json!(1)));
    let trail_src = format!("s3://{bucket}/all/AWSLogs/{ACCOUNT}/CloudTrail/");
    let alone = compare(
        &["report", "--engine", "athena", "--cloudtrail-table", "mila.cloudtrail"],
        &trail_src,
        "a CloudTrail table alone",
    );
    assert_eq!(alone["tokens"], Value::Null);
    assert!(alone["residency"]["violations"].as_u64().unwrap() > 0);

    // `check` lists the same violating calls, and judges logging coverage the same way.
    let check = |args: &[&str]| -> Vec<String> {
        let more = ["--since", SINCE, "--until", UNTIL, "--profiles", &profiles, "--policy", &policy];
        let tail = ["--format", "json", "--quiet", "--fail-on-coverage-below", "99"];
        args.iter().chain(&more).chain(&tail).map(|s| s.to_string()).collect()
    };
    let athena = check(&[
        "check",
        "--engine",
        "athena",
        "--athena-table",
        "mila.invocation_logs",
        "--cloudtrail-table",
        "mila.cloudtrail",
    ]);
    let mut dry = athena.clone();
    dry.push("--dry-run".into());
    duck_over(
        &expect(mila_at(&moto(), &refs(&dry)), 0, "dry run").stdout,
        corpus.path(),
        &bucket,
        "all/",
        &["--trail", "mila.cloudtrail"],
    );
    let on_athena = expect(mila_at(&moto(), &refs(&athena)), 1, "check on Athena");
    let local = expect(mila_at(&moto(), &refs(&check(&["check", &src]))), 1, "local check");
    assert_eq!(on_athena.json(), local.json());
    let gaps = |r: &Run| {
        r.stderr.lines().filter(|l| l.contains("CloudTrail calls logged")).map(str::to_string).collect::<Vec<_>>()
    };
    assert!(!gaps(&local).is_empty(), "{}", local.stderr);
    assert_eq!(gaps(&on_athena), gaps(&local));
}
