//! `metrics:REGION`: Bedrock's CloudWatch metrics read through the real SDK (ListMetrics,
//! GetMetricData) from moto's CloudWatch on loopback, seeded with PutMetricData. moto's server
//! is started by scripts/moto with the percentile statistics it lacks (scripts/moto-server.py).
//!
//! Field names as the CloudWatch API Reference gives them: GetMetricData's `MetricDataQueries`
//! (`Id`, `MetricStat` {`Metric` {`Namespace`, `MetricName`, `Dimensions`}, `Period`, `Stat`}),
//! `MetricDataResults` (`Id`, `Timestamps`, `Values`), `NextToken`; ListMetrics' `Namespace`,
//! `MetricName`, `Dimensions` (DimensionFilter). Metric names as the Bedrock User Guide's
//! "Monitor bedrock-runtime inference using CloudWatch metrics" (`AWS/Bedrock`: Invocations,
//! InputTokenCount, OutputTokenCount, InvocationLatency, dimension ModelId) and "Monitor
//! bedrock-mantle inference using CloudWatch metrics" (`AWS/BedrockMantle`: Inferences,
//! TotalInputTokens, TotalOutputTokens; Project and Model levels).

mod common;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use common::aws::{block_on, metrics, mila_at, moto};
use common::tempdir;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const MANTLE: &str = "openai.gpt-oss-120b";

/// Midnight UTC five days ago: within the 15 days CloudWatch keeps minutes, and well inside
/// ListMetrics' two weeks, whenever the test runs.
fn day0() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    (now.div_euclid(DAY) - 5) * DAY
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn record(region: &str, ms: i64, id: &str, error: Option<&str>) -> String {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": rfc3339(ms),
        "accountId": "123456789012", "region": region, "requestId": id, "operation": "Converse", "modelId": HAIKU,
        "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": []}, "inputTokenCount": 100},
        "output": {"outputContentType": "application/json", "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 300}}, "outputTokenCount": 20},
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/App/s"},
    });
    if let Some(code) = error {
        r["errorCode"] = json!(code);
    }
    r.to_string()
}

fn datum(name: &str, dims: &[(&str, &str)], ms: i64, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions(Some(dims.iter().map(|(n, v)| Dimension::builder().name(*n).value(*v).build()).collect()))
        .timestamp(DateTime::from_millis(ms))
        .value(value)
        .build()
}

fn put(region: &str, namespace: &str, data: Vec<MetricDatum>) {
    let client = metrics(region);
    block_on(async {
        for chunk in data.chunks(20) {
            client.put_metric_data().namespace(namespace).set_metric_data(Some(chunk.to_vec())).send().await.unwrap();
        }
    });
}

/// Three days in `region`: logging stops on the second; bedrock-mantle traffic (never logged);
/// a priority-tier model id; a negative datapoint; a datapoint before the window.
fn seed(region: &str) -> (common::TempDir, String, String) {
    let d0 = day0();
    let dir = tempdir();
    let mut lines = Vec::new();
    for i in 0..4 {
        lines.push(record(region, d0 + 10 * HOUR + i * 60_000, &format!("a{i}"), None));
    }
    // Throttled: no metric counts it, so neither does the comparison.
    lines.push(record(region, d0 + 11 * HOUR, "t0", Some("ThrottlingException")));
    for i in 0..3 {
        lines.push(record(region, d0 + 2 * DAY + 10 * HOUR + i * 60_000, &format!("c{i}"), None));
    }
    std::fs::write(dir.path().join("logs.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.path().join("quotas.toml"),
        format!("[[quota]]\nregion = \"{region}\"\nmodel = \"{HAIKU}\"\nrequests_per_minute = 100\ntokens_per_minute = 1200\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prices.csv"),
        format!("model,region,tier,input,output,cache_read,cache_write\n{HAIKU},*,*,0.25,1.25,0.025,0.3125\n{MANTLE},*,*,0.15,0.60,,\n"),
    )
    .unwrap();

    let model = [("ModelId", HAIKU)];
    let priority = [("ModelId", &*format!("{HAIKU}+priority"))].map(|(n, v)| (n, v.to_string()));
    let priority: Vec<(&str, &str)> = priority.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let mut runtime = Vec::new();
    for (day, calls) in [(0, 4.0), (1, 5.0), (2, 3.0)] {
        let at = d0 + day * DAY + 10 * HOUR;
        runtime.push(datum("Invocations", &model, at, calls));
        runtime.push(datum("InputTokenCount", &model, at, calls * 100.0));
        runtime.push(datum("OutputTokenCount", &model, at, calls * 20.0));
    }
    runtime.push(datum("Invocations", &model, d0 - HOUR, 7.0));
    runtime.push(datum("Invocations", &model, d0 + 2 * DAY + 11 * HOUR, -3.0));
    runtime.push(datum("Invocations", &priority, d0 + 2 * DAY + 12 * HOUR, 2.0));
    for ms in 1..=10 {
        runtime.push(datum("InvocationLatency", &model, d0 + DAY + 10 * HOUR + ms * 1000, ms as f64 * 100.0));
    }
    // Bedrock's quota usage: 120 at the logs' peak minute (d0 10:00), as the logs' 100 input + 20
    // output tokens at burndown 1 make it; 100, 200, ... 1,000 in the minutes of the day logging
    // stopped.
    runtime.push(datum("EstimatedTPMQuotaUsage", &model, d0 + 10 * HOUR, 120.0));
    for i in 0..10 {
        runtime.push(datum(
            "EstimatedTPMQuotaUsage",
            &model,
            d0 + DAY + 10 * HOUR + i * 60_000,
            (i + 1) as f64 * 100.0,
        ));
    }
    put(region, "AWS/Bedrock", runtime);
    let project = [("Project", "proj-a"), ("Model", MANTLE)];
    let level = [("Model", MANTLE)];
    let at = d0 + DAY + 9 * HOUR;
    put(
        region,
        "AWS/BedrockMantle",
        vec![
            datum("Inferences", &project, at, 10.0),
            datum("TotalInputTokens", &project, at, 10_000.0),
            datum("TotalOutputTokens", &project, at, 2_000.0),
            // The same calls at the model level: never counted twice.
            datum("Inferences", &level, at, 10.0),
            datum("TotalInputTokens", &level, at, 10_000.0),
            // The account's level, and a level of dimensions mila does not know: counted, said.
            datum("Inferences", &[("Account", "123456789012")], at, 10.0),
            datum("Inferences", &[("Project", "proj-a"), ("Model", MANTLE), ("Endpoint", "x")], at, 10.0),
        ],
    );
    (dir, rfc3339(d0), rfc3339(d0 + 3 * DAY))
}

fn approx(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-12)
}

#[test]
fn metrics_count_what_the_logs_lack() {
    let region = "eu-north-1";
    let (dir, since, until) = seed(region);
    let logs = dir.path().join("logs.jsonl");
    let prices = dir.path().join("prices.csv");
    let quotas = dir.path().join("quotas.toml");
    let src = format!("metrics:{region}");
    let run = mila_at(
        &moto(),
        &[
            "report",
            logs.to_str().unwrap(),
            &src,
            "--since",
            &since,
            "--until",
            &until,
            "--prices",
            prices.to_str().unwrap(),
            "--quotas",
            quotas.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s: Value = serde_json::from_str(&run.stdout).unwrap();
    let m = &s["metrics"];
    assert_eq!(m["regions"], json!([region]));
    assert_eq!(m["period_seconds"], 3600);
    // Sums: 6 metrics of each runtime model id (2) and 4 of the mantle pair, in one call; the
    // percentiles and sample counts: 5 of each runtime model id, in another; quota usage per
    // minute, 1 of each runtime model id, in a third. ListMetrics: 2.
    assert_eq!(m["metrics_requested"], 28);
    assert_eq!(m["calls"], 5);
    assert!(approx(&m["cost_usd"], 0.00028), "{}", m["cost_usd"]);
    assert_eq!(m["bad_values"], 1, "the negative datapoint");
    assert_eq!(
        m["notes"],
        json!([format!("{region}: 2 metrics at a level mila does not read (no model, or other dimensions) were left out; their calls are in the model levels")])
    );

    let traffic = m["traffic"].as_array().unwrap();
    assert_eq!(traffic.len(), 3, "{traffic:#?}");
    let row = |endpoint: &str, tier: &str| {
        traffic.iter().find(|t| t["endpoint"] == endpoint && t["service_tier"] == tier).unwrap().clone()
    };
    // Haiku: 12 calls counted (4 + 5 + 3; the 7 before the window left out), 7 logged (the
    // throttled record is no call the metrics count), 5 not; 1,200 input tokens against 700 logged.
    let h = row("bedrock-runtime", "standard");
    assert_eq!(
        [
            &h["calls"],
            &h["logged_requests"],
            &h["not_in_logs"],
            &h["input_tokens_not_in_logs"],
            &h["output_tokens_not_in_logs"]
        ],
        [&json!(12), &json!(7), &json!(5), &json!(500), &json!(100)]
    );
    // 500 x 0.25 + 100 x 1.25 per million.
    assert!(approx(&h["usd_not_in_logs"], 0.00025), "{}", h["usd_not_in_logs"]);
    let p = row("bedrock-runtime", "priority");
    assert_eq!([&p["calls"], &p["not_in_logs"], &p["usd_not_in_logs"]], [&json!(2), &json!(2), &Value::Null]);
    let mantle = row("bedrock-mantle", "standard");
    assert_eq!(mantle["project"], "proj-a");
    assert_eq!(
        [&mantle["calls"], &mantle["logged_requests"], &mantle["input_tokens"]],
        [&json!(10), &json!(0), &json!(10_000)]
    );
    // 10,000 x 0.15 + 2,000 x 0.60 per million.
    assert!(approx(&mantle["usd_not_in_logs"], 0.0027), "{}", mantle["usd_not_in_logs"]);

    let t = &m["totals"];
    assert_eq!(
        [&t["calls"], &t["logged_requests"], &t["not_in_logs"], &t["mantle_calls"], &t["unpriced_calls"]],
        [&json!(24), &json!(7), &json!(17), &json!(10), &json!(2)]
    );
    assert!(approx(&t["usd_not_in_logs"], 0.00295), "{}", t["usd_not_in_logs"]);
    // The logs' 7 calls: 7 x (100 x 0.25 + 20 x 1.25) per million = 0.00035.
    assert!(approx(&s["cost"]["total"], 0.00035), "{}", s["cost"]["total"]);
    assert!(approx(&t["share_of_cost_from_metrics"], 0.00295 / 0.0033), "{}", t["share_of_cost_from_metrics"]);

    // Coverage: day one whole, day two missing (logging stopped), day three 3 of 5 (the
    // priority calls were not logged).
    let days: Vec<(String, u64, u64, String)> = m["coverage_by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["calls"].as_u64().unwrap(),
                d["logged_requests"].as_u64().unwrap(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let day = |n: i64| rfc3339(day0() + n * DAY)[..10].to_string();
    assert_eq!(
        days,
        vec![
            (day(0), 4, 4, "logged".to_string()),
            (day(1), 5, 0, "missing".to_string()),
            (day(2), 5, 3, "partial".to_string()),
        ]
    );
    // Latency where the logs have none: nearest rank over 100, 200, ... 1,000 ms.
    let l = m["latency"].as_array().unwrap();
    assert_eq!(l.len(), 1, "{l:#?}");
    assert_eq!([&l[0]["model_id"], &l[0]["samples"]], [&json!(HAIKU), &json!(10)]);
    assert_eq!([&l[0]["p50_ms"], &l[0]["p90_ms"], &l[0]["p99_ms"]], [&json!(500.0), &json!(900.0), &json!(1000.0)]);
    // AWS's figure beside the logs': the logs' peak is 120 quota tokens (100 input + 20 output at
    // burndown 1), first at d0 10:00, where AWS counted the same 120. AWS's busiest minute, 1,000, is 83%
    // of the 1,200 quota; its p90 minute (10th of 11 by nearest rank) 900.
    let c = m["capacity"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{c:#?}");
    let d0 = day0();
    assert_eq!(
        c[0],
        json!({
            "source_region": region, "model_id": HAIKU, "model": HAIKU, "quota_kind": "in-region", "minutes": 11,
            "aws_peak_tpm": 1000, "aws_peak_minute": rfc3339(d0 + DAY + 10 * HOUR + 9 * 60_000), "aws_p90_tpm": 900,
            "log_peak_tpm": 120, "log_peak_minute": rfc3339(d0 + 10 * HOUR), "aws_at_log_peak": 120, "difference": 0,
            "quota_tpm": 1200, "peak_share": 1000.0 / 1200.0, "p90_share": 0.75, "above_80pct": true
        })
    );
    assert!(run.stderr.contains("28 metrics requested, 0.0003 USD"), "{}", run.stderr);
}

#[test]
fn check_judges_coverage_by_the_metrics_without_cloudtrail() {
    let region = "ap-south-2";
    let (dir, since, until) = seed(region);
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[rule]]\nsource = \"*\"\nallow = [\"*\"]\n").unwrap();
    let logs = dir.path().join("logs.jsonl");
    let src = format!("metrics:{region}");
    let args = [
        "check",
        logs.to_str().unwrap(),
        &src,
        "--since",
        &since,
        "--until",
        &until,
        "--policy",
        policy.to_str().unwrap(),
    ];
    let run = mila_at(&moto(), &[&args[..], &["--fail-on-coverage-below", "90"]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("logging coverage 50.0% of 14 calls the CloudWatch metrics count (no CloudTrail calls read); 2 model-days below 90.0%"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{} {region} {HAIKU}: 0 of 5 calls logged (missing)", &rfc3339(day0() + DAY)[..10])),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{} {region} {HAIKU}: 3 of 5 calls logged (partial)", &rfc3339(day0() + 2 * DAY)[..10])),
        "{}",
        run.stderr
    );
    // Without the threshold, coverage decides nothing, and the metrics are not read (no calls).
    let run = mila_at(&moto(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("metrics: sources are read by check for --fail-on-coverage-below only; not read"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("metrics requested"), "{}", run.stderr);
}

#[test]
fn a_window_past_retention_reads_nothing_and_says_so() {
    let dir = tempdir();
    let logs = dir.path().join("none.jsonl");
    std::fs::write(&logs, "").unwrap();
    let run = mila_at(
        &moto(),
        &[
            "report",
            logs.to_str().unwrap(),
            "metrics:eu-south-2",
            "--since",
            "2020-01-01",
            "--until",
            "2020-01-08",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("more than 455 days ago: CloudWatch keeps no Bedrock metrics that old"),
        "{}",
        run.stderr
    );
    let s: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!([&s["metrics"]["calls"], &s["metrics"]["metrics_requested"]], [&json!(0), &json!(0)]);
    // A metrics: source needs a window, for ingest too; query reads records only.
    let run = mila_at(&moto(), &["report", logs.to_str().unwrap(), "metrics:eu-south-2"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("metrics: sources need a window"), "{}", run.stderr);
    let store = dir.path().join("s");
    let run =
        mila_at(&moto(), &["ingest", logs.to_str().unwrap(), "metrics:eu-south-2", "--store", store.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("metrics: sources need a window"), "{}", run.stderr);
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT count(*) AS n FROM invocations").unwrap();
    let run = mila_at(
        &moto(),
        &["query", sql.to_str().unwrap(), logs.to_str().unwrap(), "metrics:eu-south-2", "--since", "2026-11-01"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("query runs SQL over records; metrics: sources are read by report and check, and kept by ingest"),
        "{}",
        run.stderr
    );
    let run = mila_at(&moto(), &["report", logs.to_str().unwrap(), "metrics:EU", "--week", "2026-W46"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("expected metrics:REGION"), "{}", run.stderr);
}

/// A GetMetricData page: each query's datapoints, in CloudWatch's query-protocol XML
/// (`MetricDataResults` of `Id`, `Timestamps`, `Values`, `StatusCode`; `NextToken`).
fn metric_data_page(results: &[(String, Vec<(i64, &str)>)], next: Option<String>) -> String {
    use std::fmt::Write;
    let mut x = String::from(
        r#"<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults>"#,
    );
    for (id, points) in results {
        let _ = write!(x, "<member><Id>{id}</Id><Label>{id}</Label><StatusCode>Complete</StatusCode><Timestamps>");
        for (ms, _) in points {
            let _ = write!(x, "<member>{}</member>", rfc3339(*ms));
        }
        x.push_str("</Timestamps><Values>");
        for (_, v) in points {
            let _ = write!(x, "<member>{v}</member>");
        }
        x.push_str("</Values></member>");
    }
    x.push_str("</MetricDataResults>");
    if let Some(t) = next {
        let _ = write!(x, "<NextToken>{t}</NextToken>");
    }
    x.push_str(
        "</GetMetricDataResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetMetricDataResponse>",
    );
    x
}

/// Issue 26's hostile metric: a CloudWatch (a loopback server in the query protocol the SDK
/// speaks) that answers each of mila's GetMetricData calls with 10 pages of 100,800 datapoints a
/// query (the API's most a call), over 2 million in all, every minute of the window sent 350
/// times, with NaN, infinite and negative values and datapoints outside the window on every
/// page. By hand:
/// - `Invocations` (hourly sums): 48 hours x 2,100 x 10 pages of 1 = 1,008,000 calls, 504,000 a day;
/// - `EstimatedTPMQuotaUsage` (minutes): 2,880 minutes x 35 x 10 pages of 2 = 700 each minute;
/// - 3 bad values a page of each: 60 left out and counted; the ones outside the window dropped;
/// - summary.json stays the size of the distinct data (two days, one model).
#[test]
fn a_metric_with_millions_of_datapoints_is_summed_in_the_memory_of_its_minutes() {
    use common::replay::Replay;
    let since = day0() + DAY;
    let until = since + 2 * DAY;
    let region = "eu-south-1";
    let ids = regex::Regex::new(r"MetricDataQueries\.member\.(\d+)\.Id=([^&]+)").unwrap();
    let names = regex::Regex::new(r"MetricDataQueries\.member\.(\d+)\.MetricStat\.Metric\.MetricName=([^&]+)").unwrap();
    let server = Replay::start(move |r| {
        let form = &r.body;
        if form.contains("Action=ListMetrics") {
            let metrics = match form.contains("Namespace=AWS%2FBedrock&") || form.ends_with("Namespace=AWS%2FBedrock") {
                true => format!("<member><Namespace>AWS/Bedrock</Namespace><MetricName>Invocations</MetricName><Dimensions><member><Name>ModelId</Name><Value>{HAIKU}</Value></member></Dimensions></member>"),
                false => String::new(),
            };
            let body = format!(
                r#"<ListMetricsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ListMetricsResult><Metrics>{metrics}</Metrics></ListMetricsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListMetricsResponse>"#
            );
            return (200, body);
        }
        let page: usize =
            form.split('&').find_map(|kv| kv.strip_prefix("NextToken=p")).map_or(1, |n| n.parse().unwrap());
        let name_of: std::collections::BTreeMap<String, String> =
            names.captures_iter(form).map(|c| (c[1].to_string(), c[2].to_string())).collect();
        let mut results = Vec::new();
        let mut paged = false;
        for c in ids.captures_iter(form) {
            let (step, each, value) = match name_of.get(&c[1]).map(String::as_str) {
                Some("Invocations") => (HOUR, 2_100, "1.0"),
                Some("EstimatedTPMQuotaUsage") => (60_000, 35, "2.0"),
                _ => {
                    results.push((c[2].to_string(), Vec::new()));
                    continue;
                }
            };
            paged = true;
            let slots = (until - since) / step;
            let mut points: Vec<(i64, &str)> = Vec::with_capacity((slots * each) as usize + 5);
            for _ in 0..each {
                points.extend((0..slots).map(|k| (since + k * step, value)));
            }
            points.extend([
                (since, "NaN"),
                (since, "Infinity"),
                (since + step, "-5.0"),
                (since - step, "1.0"),
                (until, "1.0"),
            ]);
            results.push((c[2].to_string(), points));
        }
        let next = (paged && page < 10).then(|| format!("p{}", page + 1));
        (200, metric_data_page(&results, next))
    });
    let dir = tempdir();
    // One logged call, so the report has a record of its own beside the metrics.
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, record(region, since + 5 * 60_000, "one", None)).unwrap();
    let out = dir.path().join("out");
    let (src, from, to) = (format!("metrics:{region}"), rfc3339(since), rfc3339(until));
    let run = mila_at(
        &server.url,
        &[
            "report",
            logs.to_str().unwrap(),
            &src,
            "--since",
            &from,
            "--until",
            &to,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
            "--quiet",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = run.json();
    let m = &s["metrics"];
    assert_eq!(m["bad_values"], 60, "{}", m["notes"]);
    let haiku: Vec<&Value> = m["traffic"].as_array().unwrap().iter().filter(|t| t["model"] == HAIKU).collect();
    assert_eq!(haiku.len(), 1, "{}", m["traffic"]);
    assert_eq!((&haiku[0]["calls"], &haiku[0]["logged_requests"]), (&json!(1_008_000), &json!(1)));
    let days: Vec<(String, u64)> = m["coverage_by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["day"].as_str().unwrap().to_string(), d["calls"].as_u64().unwrap()))
        .collect();
    assert_eq!(days, [(rfc3339(since)[..10].to_string(), 504_000), (rfc3339(since + DAY)[..10].to_string(), 504_000)]);
    let c = &m["capacity"][0];
    assert_eq!(
        (&c["minutes"], &c["aws_peak_tpm"], &c["aws_p90_tpm"]),
        (&json!(2_880), &json!(700), &json!(700)),
        "{c}"
    );
    // The one logged call's 120 quota tokens against the 700 this CloudWatch claims for its minute.
    assert_eq!((&c["log_peak_tpm"], &c["aws_at_log_peak"], &c["difference"]), (&json!(120), &json!(700), &json!(-580)));
    // Two ListMetrics calls (runtime, mantle), 10 pages each of the sums and the quota minutes,
    // and one of the percentiles.
    assert_eq!(m["calls"], 23, "{}", m["notes"]);
    let size = std::fs::metadata(out.join("summary.json")).unwrap().len();
    assert!(size < 200_000, "summary.json is {size} bytes for two days of one model");
}

/// `ingest metrics:REGION` keeps the window's whole days of metrics in the store, and a report of
/// the store reads them as a report of the metrics would: the same traffic, coverage and quota
/// usage, with no CloudWatch call (and no latency, which does not add up across days). A window
/// that cuts a day keeps only its whole days; a day ingested again replaces its region's figures.
#[test]
fn ingest_keeps_whole_days_of_metrics_and_a_report_of_the_store_reads_them() {
    let region = "eu-west-3";
    let (dir, since, until) = seed(region);
    let logs = dir.path().join("logs.jsonl");
    let (prices, quotas) = (dir.path().join("prices.csv"), dir.path().join("quotas.toml"));
    let store = dir.path().join("store");
    let (src, st) = (format!("metrics:{region}"), store.to_str().unwrap().to_string());
    let given = ["--prices", prices.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--format", "json"];
    let run = |args: &[&str]| {
        let run = mila_at(&moto(), args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run
    };
    let window = ["--since", since.as_str(), "--until", until.as_str()];
    let ingest = run(&[&["ingest", "--store", &st, logs.to_str().unwrap(), &src], &window[..]].concat());
    assert!(ingest.stderr.contains("mila: stored the metrics of 3 whole UTC days"), "{}", ingest.stderr);
    let direct = run(&[&["report", logs.to_str().unwrap(), &src], &window[..], &given[..]].concat()).json();
    let stored = run(&[&["report", "--store", &st], &window[..], &given[..]].concat());
    assert!(
        stored.stderr.contains("read from the store (kept by ingest): no CloudWatch call made"),
        "{}",
        stored.stderr
    );
    let stored = stored.json();
    let (d, s) = (&direct["metrics"], &stored["metrics"]);
    for key in ["regions", "period_seconds", "traffic", "totals", "coverage_by_day", "capacity"] {
        assert_eq!(s[key], d[key], "{key}");
    }
    assert_eq!((&s["calls"], &s["metrics_requested"], &s["latency"]), (&json!(0), &json!(0), &json!([])));
    // By hand, as in `metrics_count_what_the_logs_lack`: 12 Haiku calls over the three days.
    let haiku = s["traffic"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["service_tier"] == "standard" && t["endpoint"] == "bedrock-runtime")
        .unwrap();
    assert_eq!(haiku["calls"], 12, "{haiku}");

    // Again over a window that starts at noon of the first day: its two whole days are read again
    // and replace theirs; the first day is kept as it was. Three days, three files.
    let d0 = day0();
    let noon = rfc3339(d0 + 12 * HOUR);
    let cut = ["--since", noon.as_str(), "--until", until.as_str()];
    let again = run(&[&["ingest", "--store", &st, &src], &cut[..]].concat());
    assert!(again.stderr.contains("mila: stored the metrics of 2 whole UTC days"), "{}", again.stderr);
    assert!(again.stderr.contains("the store holds metrics of 3 days"), "{}", again.stderr);
    let files: Vec<_> = walk(&store.join("metrics"));
    assert_eq!(files.len(), 3, "replaced files are removed: {files:?}");
    let whole = run(&[&["report", "--store", &st], &window[..], &given[..]].concat()).json();
    assert_eq!(whole["metrics"]["traffic"], d["traffic"]);
    // A report over the cut window compares the whole days only, and says which day it cut.
    let part = run(&[&["report", "--store", &st], &cut[..], &given[..]].concat());
    assert!(part.stderr.contains(&format!("the window cuts the stored day {}", &rfc3339(d0)[..10])), "{}", part.stderr);
    let days: Vec<String> = part.json()["metrics"]["coverage_by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["day"].as_str().unwrap().to_string())
        .collect();
    assert!(!days.contains(&rfc3339(d0)[..10].to_string()), "{days:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
