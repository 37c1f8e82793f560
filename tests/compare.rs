//! `--compare previous`: this week beside the previous one. Numbers by hand.

mod common;
use common::*;
use serde_json::json;

fn record(id: &str, ts: &str, ran_in: &str, input: u64, output: u64, latency: u64) -> String {
    json!({
        "schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": id, "region": "us-east-1",
        "operation": "Converse", "modelId": "us.anthropic.claude-3-haiku-20240307-v1:0", "inferenceRegion": ran_in,
        "input": {"inputTokenCount": input},
        "output": {"outputTokenCount": output, "outputBodyJson": {"metrics": {"latencyMs": latency}}},
    })
    .to_string()
}

#[test]
fn the_previous_week_beside_this_one() {
    let lines = [
        // 2026-W44: in neither window.
        record("w44", "2026-10-28T12:00:00Z", "us-east-1", 9999, 9999, 1),
        // 2026-W45: 2 requests, one rerouted (a violation); latency us-east-1 [100], us-west-2 [300].
        record("a1", "2026-11-03T10:00:00Z", "us-east-1", 100, 10, 100),
        record("a2", "2026-11-08T23:59:59Z", "us-west-2", 100, 10, 300),
        // 2026-W46: 3 requests, one rerouted; latency us-east-1 [200, 600], us-west-2 [400].
        record("b1", "2026-11-09T00:00:00Z", "us-east-1", 200, 20, 200),
        record("b2", "2026-11-10T10:00:00Z", "us-west-2", 200, 20, 400),
        record("b3", "2026-11-15T23:59:59Z", "us-east-1", 0, 0, 600),
    ];
    let dir = tempdir();
    let logs = dir.path().join("logs.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    // USD per million tokens: input 1, output 2.
    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        "model,region,tier,input,output,cache_read,cache_write\nanthropic.claude-3-haiku-20240307-v1:0,*,regional,1,2,0.1,1.25\n",
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[rule]]\nsource = \"us-*\"\nallow = [\"us-east-1\"]\n").unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["report", logs.to_str().unwrap(), "--week", "2026-W46", "--prices"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend([prices.to_str().unwrap(), "--policy", policy.to_str().unwrap()].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let s = run(&["--compare", "previous", "--format", "json"]).json();
    let c = &s["comparison"];
    let change = |cur: serde_json::Value, prev: serde_json::Value, ch: serde_json::Value, ratio: serde_json::Value| json!({"current": cur, "previous": prev, "change": ch, "change_ratio": ratio});
    assert_eq!(c["previous"], json!({"since": "2026-11-02T00:00:00Z", "until": "2026-11-09T00:00:00Z"}));
    assert_eq!(c["requests"], change(json!(3), json!(2), json!(1), json!(0.5)));
    assert_eq!(c["input_tokens"], change(json!(400), json!(200), json!(200), json!(1.0)));
    assert_eq!(c["output_tokens"], change(json!(40), json!(20), json!(20), json!(1.0)));
    assert_eq!(c["cache_read_tokens"], change(json!(0), json!(0), json!(0), json!(null)));
    assert_eq!(c["violations"], change(json!(1), json!(1), json!(0), json!(0.0)));
    // Cost: 400 x 1 + 40 x 2 = 480 per million this week, 240 the week before.
    assert_close(&c["cost_usd"]["current"], 0.00048, "cost now");
    assert_close(&c["cost_usd"]["previous"], 0.00024, "cost before");
    assert_close(&c["cost_usd"]["change"], 0.00024, "cost change");
    assert_close(&c["cost_usd"]["change_ratio"], 1.0, "cost ratio");
    // Rerouting: 1/3 now, 1/2 before.
    assert_close(&c["rerouting_rate"]["change"], 1.0 / 3.0 - 0.5, "rate change");
    assert_close(&c["rerouting_rate"]["change_ratio"], (1.0 / 3.0 - 0.5) / 0.5, "rate ratio");
    assert_eq!(
        c["latency"],
        json!([
            {"inference_region": "us-east-1",
             "p50_ms": change(json!(200), json!(100), json!(100), json!(1.0)),
             "p90_ms": change(json!(600), json!(100), json!(500), json!(5.0)),
             "p99_ms": change(json!(600), json!(100), json!(500), json!(5.0))},
            {"inference_region": "us-west-2",
             "p50_ms": change(json!(400), json!(300), json!(100), json!(1.0 / 3.0)),
             "p90_ms": change(json!(400), json!(300), json!(100), json!(1.0 / 3.0)),
             "p99_ms": change(json!(400), json!(300), json!(100), json!(1.0 / 3.0))}
        ])
    );
    // The current side is this week's own report.
    let plain = run(&["--format", "json"]).json();
    assert!(plain.get("comparison").is_none(), "no comparison unless asked");
    for section in ["records", "rerouting", "latency", "tokens", "cost", "residency"] {
        assert_eq!(s[section], plain[section], "{section}");
    }
    // And report.md shows the same figures.
    let out = dir.path().join("out");
    run(&["--compare", "previous", "--out", out.to_str().unwrap()]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for row in [
        "| Requests | 3 | 2 | +1 | +50.0% |",
        "| Input tokens | 400 | 200 | +200 | +100.0% |",
        "| Cost (USD) | $0.0005 | $0.0002 | +0.0002 | +100.0% |",
        "| Rerouting rate | 33.3% | 50.0% | -16.7 points | -33.3% |",
        "| Residency violations | 1 | 1 | 0 | 0.0% |",
        "| us-east-1 | 200 | 100 | 600 | 100 | 600 | 100 |",
        "| us-west-2 | 400 | 300 | 400 | 300 | 400 | 300 |",
    ] {
        assert!(md.contains(row), "{row} not in:\n{md}");
    }
}

#[test]
fn compare_needs_a_bounded_window() {
    let r = mila(&["report", ".", "--since", "2026-11-01", "--compare", "previous"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--compare previous needs a window with both ends"), "{}", r.stderr);
}
