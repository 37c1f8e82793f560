//! Capacity: peaks per minute per (source region, model), against quotas. Numbers by hand.

mod common;
use common::*;
use serde_json::json;

fn record(id: &str, ts: &str, region: &str, model: &str, ran_in: Option<&str>, input: u64, output: u64) -> String {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": id, "region": region,
        "operation": "Converse", "modelId": model,
        "input": {"inputTokenCount": input}, "output": {"outputTokenCount": output},
    });
    if let Some(ir) = ran_in {
        r["inferenceRegion"] = json!(ir);
    }
    r.to_string()
}

#[test]
fn peaks_per_minute_against_quotas() {
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let us_haiku = "us.anthropic.claude-3-haiku-20240307-v1:0";
    let lines = [
        // us-east-1 / haiku, minute 08:00: 2 requests, 150 + 400 tokens, one rerouted.
        record("r1", "2026-11-10T08:00:05Z", "us-east-1", haiku, None, 100, 50),
        record("r2", "2026-11-10T08:00:59.999Z", "us-east-1", haiku, Some("us-west-2"), 300, 100),
        // 08:01: 1 request, 20 tokens.
        record("r3", "2026-11-10T08:01:00Z", "us-east-1", haiku, None, 10, 10),
        // 08:03: 2 requests (one through the US profile: the same base model), 2000 tokens.
        record("r4", "2026-11-10T08:03:30Z", "us-east-1", haiku, None, 1000, 0),
        record("r5", "2026-11-10T08:03:10Z", "us-east-1", us_haiku, Some("us-east-2"), 500, 500),
        // eu-west-1 / haiku: no quota.
        record("r6", "2026-11-10T09:00:00Z", "eu-west-1", haiku, None, 1, 1),
    ];
    let dir = tempdir();
    std::fs::write(dir.path().join("c.jsonl"), lines.join("\n")).unwrap();
    let quotas = dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        format!("[[quota]]\nregion = \"us-east-1\"\nmodel = \"{haiku}\"\nrequests_per_minute = 3\ntokens_per_minute = 2000\n"),
    )
    .unwrap();
    let logs = dir.path().join("c.jsonl");
    let s = ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--format", "json"]).json();
    let c = &s["capacity"];
    assert_eq!(c["quotas"], quotas.display().to_string());
    assert_eq!(
        c["by_source_region_model"],
        json!([
            {
                "source_region": "eu-west-1", "model": haiku, "requests": 1, "rerouted": 0, "rerouting_rate": 0.0,
                "active_minutes": 1, "peak_requests_per_minute": 1, "peak_tokens_per_minute": 2,
                "peak_minute": "2026-11-10T09:00:00Z", "quota_requests_per_minute": null,
                "quota_tokens_per_minute": null, "minutes_above_80pct": null
            },
            {
                // Peak 2 requests first at 08:00; peak tokens 2000 at 08:03. Above 80%: requests
                // > 2.4 never; tokens > 1600 at 08:03 only.
                "source_region": "us-east-1", "model": haiku, "requests": 5, "rerouted": 2, "rerouting_rate": 0.4,
                "active_minutes": 3, "peak_requests_per_minute": 2, "peak_tokens_per_minute": 2000,
                "peak_minute": "2026-11-10T08:00:00Z", "quota_requests_per_minute": 3,
                "quota_tokens_per_minute": 2000, "minutes_above_80pct": 1
            }
        ])
    );
    // The same rows in report.md.
    let out = dir.path().join("out");
    ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(&format!("| us-east-1 | {haiku} | 5 | 40.0% | 2 | 2000 | 2026-11-10T08:00:00Z | 3 | 2000 | 1 |")),
        "{md}"
    );
    assert!(
        md.contains(&format!("| eu-west-1 | {haiku} | 1 | 0.0% | 1 | 2 | 2026-11-10T09:00:00Z | - | - | - |")),
        "{md}"
    );
    // Without quotas the rows are the same but for the quota columns.
    let plain = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(plain["capacity"]["quotas"], json!(null));
    assert_eq!(plain["capacity"]["by_source_region_model"][1]["minutes_above_80pct"], json!(null));
    assert_eq!(plain["capacity"]["by_source_region_model"][1]["peak_tokens_per_minute"], 2000);
}

#[test]
fn a_bad_quota_file_is_named() {
    let dir = tempdir();
    let quotas = dir.path().join("q.toml");
    std::fs::write(&quotas, "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\n").unwrap();
    let r = mila(&["report", dir.path().to_str().unwrap(), "--quotas", quotas.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("q.toml: [[quota]] 1 (us-east-1 / m): give requests_per_minute"), "{}", r.stderr);
}
