//! The store read a day at a time: the same report as from the files, and each request id once
//! even when two ingests put it on two days. Numbers by hand.

mod common;
use common::*;
use serde_json::json;

fn record(id: &str, ts: &str, ran_in: &str, input: u64, latency: u64) -> String {
    json!({
        "schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": id, "region": "us-east-1",
        "operation": "Converse", "modelId": "us.anthropic.claude-3-haiku-20240307-v1:0", "inferenceRegion": ran_in,
        "input": {"inputTokenCount": input},
        "output": {"outputTokenCount": 10, "outputBodyJson": {"metrics": {"latencyMs": latency}}},
    })
    .to_string()
}

fn write(path: &std::path::Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n")).unwrap();
}

#[test]
fn a_request_stored_on_two_days_by_two_ingests_is_counted_once() {
    let dir = tempdir();
    let store = dir.path().join("store");
    let (first, second) = (dir.path().join("first.jsonl"), dir.path().join("second.jsonl"));
    // The same request delivered twice with times either side of midnight (as a retried delivery
    // can be), in two ingests: the store files it under two days.
    write(
        &first,
        &[
            record("r1", "2026-11-10T23:59:59Z", "us-east-1", 100, 300),
            record("r2", "2026-11-10T12:00:00Z", "us-west-2", 50, 500),
        ],
    );
    write(
        &second,
        &[
            record("r1", "2026-11-11T00:00:01Z", "us-east-1", 100, 300),
            record("r3", "2026-11-11T08:00:00Z", "us-east-1", 7, 100),
        ],
    );
    let s = store.to_str().unwrap();
    ok(&["ingest", first.to_str().unwrap(), "--store", s]);
    ok(&["ingest", second.to_str().unwrap(), "--store", s]);

    let r = ok(&["report", "--store", s, "--format", "json"]).json();
    assert_eq!(r["records"]["lines"], 4, "four rows are stored");
    assert_eq!(r["records"]["duplicates"], 1, "r1's second row");
    assert_eq!(r["rerouting"]["requests"], 3);
    assert_eq!(r["rerouting"]["rerouted"], 1);
    let tokens = &r["tokens"]["by_model"][0];
    assert_eq!((tokens["requests"].as_u64(), tokens["input"].as_u64()), (Some(3), Some(157)));
    // The first day read wins: r1 stays on 2026-11-10.
    let days = by_key(&r["daily"]["by_source_region"], &["day"]);
    assert_eq!(days["2026-11-10"]["requests"], 2);
    assert_eq!(days["2026-11-11"]["requests"], 1);
    // us-east-1 latencies [100, 300]: nearest-rank p50 is 100, p90 300.
    let lat = by_key(&r["latency"]["by_inference_region"], &["inference_region"]);
    assert_eq!((lat["us-east-1"]["p50_ms"].as_u64(), lat["us-east-1"]["p90_ms"].as_u64()), (Some(100), Some(300)));

    // A window that holds only the second day sees r1 there: it is not a duplicate of anything read.
    let r = ok(&["report", "--store", s, "--since", "2026-11-11", "--format", "json"]).json();
    assert_eq!((r["rerouting"]["requests"].as_u64(), r["records"]["duplicates"].as_u64()), (Some(2), Some(0)));
}

#[test]
fn a_report_from_the_store_is_the_report_from_the_files() {
    let dir = tempdir();
    let logs = dir.path().join("logs");
    let sample = ok(&["sample", "--out", logs.to_str().unwrap(), "--records", "3000", "--seed", "11"]);
    assert!(sample.stderr.contains("wrote 3000 records"), "{}", sample.stderr);
    let store = dir.path().join("store");
    ok(&["ingest", logs.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    let quotas = dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        "[[quota]]\nregion = \"us-east-1\"\nmodel = \"amazon.nova-lite-v1:0\"\nrequests_per_minute = 1\n",
    )
    .unwrap();
    let common = ["--format", "json", "--by-metadata", "application_name", "--quotas", quotas.to_str().unwrap()];
    let from_files = ok(&[&["report", logs.to_str().unwrap()][..], &common].concat()).json();
    let from_store = ok(&[&["report", "--store", store.to_str().unwrap()][..], &common].concat()).json();
    for section in ["rerouting", "latency", "tokens", "cost", "errors", "capacity", "daily"] {
        assert_eq!(from_store[section], from_files[section], "{section}");
    }
    assert_eq!(from_files["rerouting"]["requests"], 3000);
}

/// The store is read twice: its request ids first (a Bloom filter finds those that may repeat),
/// then its records, deduplicating only those. An id on three days weeks apart, among many read
/// once, is still counted once, in the first day's figures, by report and by query alike.
#[test]
fn a_request_stored_on_days_weeks_apart_is_counted_once_among_many() {
    let dir = tempdir();
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    for (n, day) in ["2026-11-02", "2026-11-16", "2026-11-30"].iter().enumerate() {
        let file = dir.path().join(format!("{n}.jsonl"));
        let mut lines = vec![record("again", &format!("{day}T10:00:00Z"), "us-west-2", 1000, 300)];
        lines.extend((0..500).map(|i| record(&format!("d{n}-{i}"), &format!("{day}T11:00:00Z"), "us-east-1", 1, 100)));
        write(&file, &lines);
        ok(&["ingest", file.to_str().unwrap(), "--store", s]);
    }
    let r = ok(&["report", "--store", s, "--format", "json"]).json();
    assert_eq!(r["records"]["lines"], 1503);
    assert_eq!(r["records"]["duplicates"], 2, "the two later copies");
    assert_eq!((r["rerouting"]["requests"].as_u64(), r["rerouting"]["rerouted"].as_u64()), (Some(1501), Some(1)));
    assert_eq!(r["tokens"]["by_model"][0]["input"], 1000 + 1500);
    let days = by_key(&r["daily"]["by_source_region"], &["day"]);
    assert_eq!(
        (days["2026-11-02"]["requests"].as_u64(), days["2026-11-30"]["requests"].as_u64()),
        (Some(501), Some(500))
    );

    let sql = dir.path().join("count.sql");
    std::fs::write(&sql, "SELECT count(*) AS n, sum(input_tokens) AS input FROM invocations").unwrap();
    let q = ok(&["query", sql.to_str().unwrap(), "--store", s, "--format", "json"]).json();
    assert_eq!(q, json!([{"n": 1501, "input": 2500}]));
}
