//! Capacity: peaks per minute per (source region, model, quota kind), in quota tokens as Bedrock
//! counts them, against quotas. Numbers by hand.

mod common;
use common::*;
use serde_json::{json, Value};

fn record(id: &str, ts: &str, region: &str, model: &str, ran_in: Option<&str>, input: u64, output: u64) -> Value {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": id, "region": region,
        "operation": "Converse", "modelId": model,
        "input": {"inputTokenCount": input}, "output": {"outputTokenCount": output},
    });
    if let Some(ir) = ran_in {
        r["inferenceRegion"] = json!(ir);
    }
    r
}

fn lines(records: &[Value]) -> String {
    records.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
}

/// The capacity row of a source region, model and kind.
fn row<'a>(s: &'a Value, source: &str, model: &str, kind: &str) -> &'a Value {
    s["capacity"]["by_source_region_model_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_region"] == source && r["model"] == model && r["quota_kind"] == kind)
        .unwrap_or_else(|| panic!("no row {source} {model} {kind}: {}", s["capacity"]))
}

#[test]
fn peaks_per_minute_against_quotas() {
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let us_haiku = "us.anthropic.claude-3-haiku-20240307-v1:0";
    let records = [
        // us-east-1 / haiku in-region (rate 1), minute 08:00: 2 requests, 150 + 400 tokens, one rerouted.
        record("r1", "2026-11-10T08:00:05Z", "us-east-1", haiku, None, 100, 50),
        record("r2", "2026-11-10T08:00:59.999Z", "us-east-1", haiku, Some("us-west-2"), 300, 100),
        // 08:01: 1 request, 20 tokens.
        record("r3", "2026-11-10T08:01:00Z", "us-east-1", haiku, None, 10, 10),
        // 08:03: 1 request, 1000 tokens; the call through the US profile is a geographic row.
        record("r4", "2026-11-10T08:03:30Z", "us-east-1", haiku, None, 1000, 0),
        record("r5", "2026-11-10T08:03:10Z", "us-east-1", us_haiku, Some("us-east-2"), 500, 500),
        // eu-west-1 / haiku: no quota.
        record("r6", "2026-11-10T09:00:00Z", "eu-west-1", haiku, None, 1, 1),
    ];
    let dir = tempdir();
    std::fs::write(dir.path().join("c.jsonl"), lines(&records)).unwrap();
    // A quotas file from before kinds: its quota is the in-region one.
    let quotas = dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        format!("[[quota]]\nregion = \"us-east-1\"\nmodel = \"{haiku}\"\nrequests_per_minute = 3\ntokens_per_minute = 1200\n"),
    )
    .unwrap();
    let logs = dir.path().join("c.jsonl");
    let s = ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--format", "json"]).json();
    let c = &s["capacity"];
    assert_eq!(c["quotas"], quotas.display().to_string());
    assert_eq!(c["burndown"], "bundled burndown table of 2026-12-01");
    let common = |peak_minute: &str, peak_tokens_minute: &str| {
        json!({"burndown_rate": 1.0, "peak_minute": peak_minute, "peak_quota_tokens_minute": peak_tokens_minute,
               "throttled": 0, "throttled_in_peak_minute": 0, "peak_throttled_per_minute": 0})
    };
    let with = |mut a: Value, b: Value| {
        a.as_object_mut().unwrap().extend(b.as_object().unwrap().clone());
        a
    };
    assert_eq!(
        c["by_source_region_model_kind"],
        json!([
            with(
                json!({
                    "source_region": "eu-west-1", "model": haiku, "quota_kind": "in-region", "requests": 1, "rerouted": 0,
                    "rerouting_rate": 0.0, "active_minutes": 1, "peak_requests_per_minute": 1,
                    "peak_quota_tokens_per_minute": 2, "quota_requests_per_minute": null,
                    "quota_tokens_per_minute": null, "minutes_above_80pct": null,
                    // No body logged: each call reserves what it settled to, and is counted.
                    "peak_reserved_tokens_per_minute": 2, "peak_reserved_minute": "2026-11-10T09:00:00Z",
                    "requests_without_max_tokens": 1, "minutes_reserved_over_quota": null
                }),
                common("2026-11-10T09:00:00Z", "2026-11-10T09:00:00Z")
            ),
            with(
                json!({
                    // Peak 2 requests first at 08:00; peak quota tokens 1000 at 08:03. Above 80%:
                    // requests > 2.4 never; tokens > 960 at 08:03 only.
                    "source_region": "us-east-1", "model": haiku, "quota_kind": "in-region", "requests": 4, "rerouted": 1,
                    "rerouting_rate": 0.25, "active_minutes": 3, "peak_requests_per_minute": 2,
                    "peak_quota_tokens_per_minute": 1000, "quota_requests_per_minute": 3,
                    "quota_tokens_per_minute": 1200, "minutes_above_80pct": 1,
                    "peak_reserved_tokens_per_minute": 1000, "peak_reserved_minute": "2026-11-10T08:03:00Z",
                    "requests_without_max_tokens": 4, "minutes_reserved_over_quota": 0
                }),
                common("2026-11-10T08:00:00Z", "2026-11-10T08:03:00Z")
            ),
            with(
                json!({
                    // The in-region quota does not apply to the geographic call.
                    "source_region": "us-east-1", "model": haiku, "quota_kind": "geographic", "requests": 1, "rerouted": 1,
                    "rerouting_rate": 1.0, "active_minutes": 1, "peak_requests_per_minute": 1,
                    "peak_quota_tokens_per_minute": 1000, "quota_requests_per_minute": null,
                    "quota_tokens_per_minute": null, "minutes_above_80pct": null,
                    "peak_reserved_tokens_per_minute": 1000, "peak_reserved_minute": "2026-11-10T08:03:00Z",
                    "requests_without_max_tokens": 1, "minutes_reserved_over_quota": null
                }),
                common("2026-11-10T08:03:00Z", "2026-11-10T08:03:00Z")
            ),
        ])
    );
    // The same rows in report.md.
    let out = dir.path().join("out");
    ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(&format!(
            "| us-east-1 | {haiku} | in-region | 4 | 25.0% | 2 | 1000 | 1x | 2026-11-10T08:00:00Z | 0 | 0 | 0 | 3 | 1200 | 1 |"
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| eu-west-1 | {haiku} | in-region | 1 | 0.0% | 1 | 2 | 1x | 2026-11-10T09:00:00Z | 0 | 0 | 0 | - | - | - |"
        )),
        "{md}"
    );
    assert!(out.join("capacity-by-quota-kind.svg").is_file() && out.join("capacity-by-quota-kind.png").is_file());
    // Without quotas the rows are the same but for the quota columns.
    let plain = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(plain["capacity"]["quotas"], json!(null));
    let r = row(&plain, "us-east-1", haiku, "in-region");
    assert_eq!((&r["minutes_above_80pct"], &r["peak_quota_tokens_per_minute"]), (&json!(null), &json!(1000)));
}

#[test]
fn quota_tokens_burn_down_per_kind_with_throttling() {
    let sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0";
    let nova = "amazon.nova-lite-v1:0";
    let mut geo =
        record("g1", "2026-11-10T10:00:01Z", "eu-west-1", &format!("eu.{sonnet}"), Some("eu-west-3"), 1_000, 300);
    geo["input"]["cacheWriteInputTokenCount"] = json!(2_000);
    geo["input"]["cacheReadInputTokenCount"] = json!(50_000);
    let mut throttled = record("t1", "2026-11-10T10:00:40Z", "eu-west-1", &format!("eu.{sonnet}"), None, 0, 0);
    throttled["errorCode"] = json!("ThrottlingException");
    throttled.as_object_mut().unwrap().remove("output");
    let records = [
        // One Sonnet 4.5 geographic call: 1,000 + 2,000 + 300 x 5 = 4,500 quota tokens (its
        // 50,000 cache reads do not count), and a throttled call in the same minute.
        geo,
        throttled,
        // In-region, `eu.` and `global.` calls of the same model in the same minute: three rows.
        record("i1", "2026-11-10T10:00:10Z", "eu-west-1", sonnet, None, 10, 2),
        record("x1", "2026-11-10T10:00:20Z", "eu-west-1", &format!("global.{sonnet}"), Some("us-east-1"), 20, 4),
        // A Nova call counts input + output.
        record("n1", "2026-11-10T10:00:30Z", "eu-west-1", nova, None, 100, 50),
    ];
    let dir = tempdir();
    let logs = dir.path().join("c.jsonl");
    std::fs::write(&logs, lines(&records)).unwrap();
    let quotas = dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        format!(
            "[[quota]]\nregion = \"eu-west-1\"\nmodel = \"{sonnet}\"\nkind = \"geographic\"\ntokens_per_minute = 5000\n\
             [[quota]]\nregion = \"eu-west-1\"\nmodel = \"{sonnet}\"\nkind = \"global\"\ntokens_per_minute = 100000\n\
             [[quota]]\nregion = \"eu-west-1\"\nmodel = \"{sonnet}\"\ntokens_per_minute = 10\n"
        ),
    )
    .unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap(), "--format", "json"]).json();
    let g = row(&s, "eu-west-1", sonnet, "geographic");
    assert_eq!(
        [&g["requests"], &g["peak_quota_tokens_per_minute"], &g["burndown_rate"], &g["throttled"]],
        [&json!(2), &json!(4_500), &json!(5.0), &json!(1)]
    );
    assert_eq!(
        [&g["throttled_in_peak_minute"], &g["peak_throttled_per_minute"], &g["quota_tokens_per_minute"]],
        [&json!(1), &json!(1), &json!(5000)]
    );
    // 4,500 > 80% of 5,000.
    assert_eq!(g["minutes_above_80pct"], 1);
    // In-region: 10 + 2 x 5 = 20 > 80% of 10; global: 20 + 4 x 5 = 40, far below its quota.
    let i = row(&s, "eu-west-1", sonnet, "in-region");
    assert_eq!([&i["peak_quota_tokens_per_minute"], &i["minutes_above_80pct"]], [&json!(20), &json!(1)]);
    let x = row(&s, "eu-west-1", sonnet, "global");
    assert_eq!([&x["peak_quota_tokens_per_minute"], &x["minutes_above_80pct"]], [&json!(40), &json!(0)]);
    let n = row(&s, "eu-west-1", nova, "in-region");
    assert_eq!([&n["peak_quota_tokens_per_minute"], &n["burndown_rate"]], [&json!(150), &json!(1.0)]);
    assert_eq!(s["capacity"]["by_source_region_model_kind"].as_array().unwrap().len(), 4);

    // --burndown overrides the bundled rates.
    let burndown = dir.path().join("burndown.csv");
    std::fs::write(&burndown, format!("model,rate\n*,2\n{sonnet},3\n")).unwrap();
    let s =
        ok(&["report", logs.to_str().unwrap(), "--burndown", burndown.to_str().unwrap(), "--format", "json"]).json();
    assert_eq!(s["capacity"]["burndown"], burndown.display().to_string());
    assert_eq!(row(&s, "eu-west-1", sonnet, "geographic")["peak_quota_tokens_per_minute"], 3_900);
    assert_eq!(row(&s, "eu-west-1", nova, "in-region")["peak_quota_tokens_per_minute"], 200);
    // mila prices shows both tables with their dates; a bad burndown file is named.
    let p = ok(&["prices"]).stdout;
    assert!(
        p.contains("# bundled burndown table of 2026-12-01") && p.contains("# anthropic.claude-sonnet-4-*,5\n"),
        "{p}"
    );
    std::fs::write(&burndown, "model,rate\nx,fast\n").unwrap();
    let r = mila(&["report", logs.to_str().unwrap(), "--burndown", burndown.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("burndown.csv: line 2: `rate` must be a number"), "{}", r.stderr);
}

/// Issue 26: what calls reserve when they start, beside what they settle to. Quota 10,000
/// tokens a minute, Haiku (burndown 1), in-region, by hand:
/// - 08:00: two Converse calls of 1,000 input and 200 output, each allowing 4,096 output tokens:
///   settled 2,400, reserved 2 x (1,000 + 4,096) = 10,192, past the quota (throttling on the
///   reservation, not the usage).
/// - 08:01: one InvokeModel call of 3,000 input + 1,000 cache read, 500 output, `max_tokens` 2,000:
///   settled 3,500, reserved 6,000; one call naming none (300 in, 100 out: reserved 400, a floor);
///   one with a `maxTokens` of 10^15 and one with "4096" as a string (100 in, 10 out each: none
///   read, so 110 each); a throttled call (reserves nothing, is not counted).
/// - 08:02: one call settled past the quota (9,000 in + 2,000 out = 11,000, maxTokens 2,000,
///   reserved 11,000): usage met the quota there, so that minute is not counted.
/// - 09:00: a `ChatCompletions` call (an operation mila does not know), naming no limit.
#[test]
fn reservations_per_minute_beside_settled_tokens() {
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let converse = |id: &str, ts: &str, input: u64, output: u64, body: Value| {
        let mut r = record(id, ts, "us-east-1", haiku, None, input, output);
        r["input"]["inputBodyJson"] = body;
        r
    };
    let limited = |n: u64| json!({"messages": [{"role": "user", "content": [{"text": "\"maxTokens\": 1"}]}], "inferenceConfig": {"maxTokens": n}});
    let mut invoke = converse(
        "b1",
        "2026-11-10T08:01:10Z",
        3_000,
        500,
        json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 2_000, "messages": []}),
    );
    invoke["operation"] = json!("InvokeModel");
    invoke["input"]["cacheReadInputTokenCount"] = json!(1_000);
    let mut throttled = converse("b5", "2026-11-10T08:01:50Z", 0, 0, limited(50_000));
    throttled["errorCode"] = json!("ThrottlingException");
    let records = [
        converse("a1", "2026-11-10T08:00:01Z", 1_000, 200, limited(4_096)),
        converse("a2", "2026-11-10T08:00:30Z", 1_000, 200, limited(4_096)),
        invoke,
        converse("b2", "2026-11-10T08:01:20Z", 300, 100, json!({"messages": []})),
        converse("b3", "2026-11-10T08:01:30Z", 100, 10, limited(1_000_000_000_000_000)),
        converse("b4", "2026-11-10T08:01:40Z", 100, 10, json!({"inferenceConfig": {"maxTokens": "4096"}})),
        throttled,
        converse("c1", "2026-11-10T08:02:00Z", 9_000, 2_000, limited(2_000)),
        // An operation mila does not know, an hour later: kept and counted (reserved 15, no limit named).
        {
            let mut r = record("d1", "2026-11-10T09:00:00Z", "us-east-1", haiku, None, 10, 5);
            r["operation"] = json!("ChatCompletions");
            r
        },
    ];
    let dir = tempdir();
    let logs = dir.path().join("c.jsonl");
    std::fs::write(&logs, lines(&records)).unwrap();
    let quotas = dir.path().join("quotas.toml");
    std::fs::write(
        &quotas,
        format!("[[quota]]\nregion = \"us-east-1\"\nmodel = \"{haiku}\"\ntokens_per_minute = 10000\n"),
    )
    .unwrap();
    let out = tempdir();
    let s = ok(&[
        "report",
        logs.to_str().unwrap(),
        "--quotas",
        quotas.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--format",
        "json",
    ])
    .json();
    let r = row(&s, "us-east-1", haiku, "in-region");
    // 08:01 reserves 6,000 + 400 + 110 + 110 = 6,620; 08:02 reserves 11,000, the peak.
    assert_eq!(r["peak_reserved_tokens_per_minute"], 11_000, "{r}");
    assert_eq!(r["peak_reserved_minute"], "2026-11-10T08:02:00Z");
    assert_eq!(r["peak_quota_tokens_per_minute"], 11_000);
    assert_eq!(r["requests_without_max_tokens"], 4, "b2, b3, b4 and d1; not the throttled call");
    assert_eq!(r["minutes_reserved_over_quota"], 1, "08:00 only");
    assert_eq!(r["throttled"], 1);
    // The frame keeps the value read, none where none was.
    let sql = dir.path().join("q.sql");
    std::fs::write(&sql, "SELECT request_id, max_tokens FROM invocations ORDER BY request_id").unwrap();
    let q = ok(&["query", sql.to_str().unwrap(), logs.to_str().unwrap(), "--format", "json"]).json();
    let got: Vec<(String, Option<u64>)> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["request_id"].as_str().unwrap().to_string(), r["max_tokens"].as_u64()))
        .collect();
    let want = [
        ("a1", Some(4_096)),
        ("a2", Some(4_096)),
        ("b1", Some(2_000)),
        ("b2", None),
        ("b3", None),
        ("b4", None),
        ("b5", Some(50_000)),
        ("c1", Some(2_000)),
        ("d1", None),
    ];
    assert_eq!(got, want.map(|(id, m)| (id.to_string(), m)));
    // The report names the minute and the calls that named no most tokens.
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        md.contains("1 minute reserved past the quota while settling within it. 4 calls named no most output tokens"),
        "{md}"
    );
    let ops = &s["tokens"]["by_operation"];
    assert_eq!(
        ops[0],
        json!({"operation": "ChatCompletions", "known": false, "requests": 1, "input": 10, "output": 5, "cache_read": 0, "cache_write": 0})
    );
    assert_eq!(
        (&ops[1]["operation"], &ops[1]["requests"], &ops[1]["known"]),
        (&json!("Converse"), &json!(7), &json!(true))
    );
    // The terminal says both.
    let terminal = ok(&["report", logs.to_str().unwrap(), "--quotas", quotas.to_str().unwrap()]).stdout;
    assert!(terminal.contains("operation 1 not known to mila, counted: ChatCompletions (1)\n"), "{terminal}");
    assert!(
        terminal.contains("reserved  1 minutes reserved past a quota while their settled tokens stayed within it (maxTokens); 4 calls named none\n"),
        "{terminal}"
    );
    let rows = s["capacity"]["by_source_region_model_kind"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    // Without a quota, no minute can be judged: null, not 0.
    let s = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    assert!(row(&s, "us-east-1", haiku, "in-region")["minutes_reserved_over_quota"].is_null());
}

#[test]
fn a_bad_quota_file_is_named() {
    let dir = tempdir();
    let quotas = dir.path().join("q.toml");
    std::fs::write(&quotas, "[[quota]]\nregion = \"us-east-1\"\nmodel = \"m\"\n").unwrap();
    let r = mila(&["report", dir.path().to_str().unwrap(), "--quotas", quotas.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("q.toml: [[quota]] 1 (us-east-1 / m / in-region): give requests_per_minute"),
        "{}",
        r.stderr
    );
}
