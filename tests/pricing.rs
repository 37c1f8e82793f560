//! Issue 5, item 4: how each form of model id, each token kind and each price row is billed.
//! One record per run, so each case's cost is the whole `cost.total`; figures by hand from the
//! price table below (USD per million tokens).

mod common;
use common::*;
use serde_json::{json, Value};

const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
/// Global tier 3 / 15 / 0.3 / 3.75; regional 10% more; Tokyo's own regional row, cache cells
/// empty (so 0.1x and 1.25x its input price: 0.4 and 5).
const PRICES: &str = "model,region,tier,input,output,cache_read,cache_write
anthropic.claude-sonnet-4-5-20250929-v1:0,*,global,3,15,0.3,3.75
anthropic.claude-sonnet-4-5-20250929-v1:0,*,regional,3.3,16.5,0.33,4.125
anthropic.claude-sonnet-4-5-20250929-v1:0,ap-northeast-1,regional,4,20,,
";
const PROFILE: &str = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/s0nnet45app1";
const M: u64 = 1_000_000;

/// A Converse record with `input`/`output` token counts and optional extra fields.
fn record(region: &str, model_id: &str, input: Value, output_tokens: u64) -> Value {
    json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-10T08:00:00Z",
        "requestId": "r-1", "accountId": "123456789012", "region": region, "operation": "Converse",
        "modelId": model_id, "input": input, "output": {"outputTokenCount": output_tokens},
    })
}

/// Runs a report on one record: (cost.total, unpriced requests, the model it was read as).
fn bill(record: &Value, prices: Option<&str>) -> (f64, u64, String) {
    let dir = tempdir();
    let logs = dir.path().join("r.jsonl");
    std::fs::write(&logs, record.to_string()).unwrap();
    let profiles = dir.path().join("profiles.toml");
    std::fs::write(
        &profiles,
        format!("[[profile]]\narn = \"{PROFILE}\"\nmodel = \"{SONNET}\"\nregions = [\"us-east-1\", \"us-east-2\", \"us-west-2\"]\n"),
    )
    .unwrap();
    let price_file = dir.path().join("prices.csv");
    let mut args = vec!["report", logs.to_str().unwrap(), "--since", "2026-11-01", "--until", "2026-12-01"];
    args.extend(["--profiles", profiles.to_str().unwrap(), "--format", "json"]);
    if let Some(p) = prices {
        std::fs::write(&price_file, p).unwrap();
        args.extend(["--prices", price_file.to_str().unwrap()]);
    }
    let s = ok(&args).json();
    assert_eq!(s["records"]["parsed"], 1, "{s}");
    let models = s["tokens"]["by_model"].as_array().unwrap();
    (
        s["cost"]["total"].as_f64().unwrap(),
        s["cost"]["unpriced_requests"].as_u64().unwrap(),
        models[0]["model"].as_str().unwrap().into(),
    )
}

fn input(tokens: u64) -> Value {
    json!({ "inputTokenCount": tokens })
}

#[test]
fn every_id_form_prices_as_its_base_model_in_its_tier() {
    let arn = |region: &str, resource: &str| format!("arn:aws:bedrock:{region}:123456789012:{resource}");
    let cases: Vec<(&str, String, f64)> = vec![
        // (source region, model id, USD for 1M input tokens)
        ("us-east-1", SONNET.into(), 3.3),
        ("us-east-1", format!("us.{SONNET}"), 3.3),
        ("eu-west-1", format!("eu.{SONNET}"), 3.3),
        ("ap-southeast-2", format!("apac.{SONNET}"), 3.3),
        ("ap-southeast-2", format!("au.{SONNET}"), 3.3),
        ("ca-central-1", format!("ca.{SONNET}"), 3.3),
        ("ap-south-1", format!("in.{SONNET}"), 3.3),
        ("us-gov-west-1", format!("us-gov.{SONNET}"), 3.3),
        ("us-east-1", format!("global.{SONNET}"), 3.0),
        // Tokyo's own regional row; a global profile from Tokyo still takes the global row.
        ("ap-northeast-1", format!("jp.{SONNET}"), 4.0),
        ("ap-northeast-1", format!("global.{SONNET}"), 3.0),
        ("ap-northeast-1", SONNET.into(), 4.0),
        // ARN forms, GovCloud partition included.
        ("us-east-1", arn("us-east-1", &format!("inference-profile/us.{SONNET}")), 3.3),
        ("eu-west-1", arn("eu-west-1", &format!("inference-profile/global.{SONNET}")), 3.0),
        ("ap-northeast-1", arn("ap-northeast-1", &format!("inference-profile/jp.{SONNET}")), 4.0),
        ("us-east-1", format!("arn:aws:bedrock:us-east-1::foundation-model/{SONNET}"), 3.3),
        (
            "us-gov-west-1",
            format!("arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.{SONNET}"),
            3.3,
        ),
        // An application profile: its resolved model, regional tier.
        ("us-east-1", PROFILE.into(), 3.3),
    ];
    for (region, model_id, want) in cases {
        let (usd, unpriced, model) = bill(&record(region, &model_id, input(M), 0), Some(PRICES));
        assert_eq!((model.as_str(), unpriced), (SONNET, 0), "{model_id} from {region}");
        assert!(approx(usd, want), "{model_id} from {region}: {usd}, want {want}");
    }
}

#[test]
fn unresolved_or_unknown_ids_are_unpriced_not_free() {
    let unresolved = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/n0tinf1le000";
    for model_id in [unresolved, "acme.unknown-model-v1:0", "us.acme.unknown-model-v1:0"] {
        let (usd, unpriced, _) = bill(&record("us-east-1", model_id, input(M), 500), Some(PRICES));
        assert_eq!((usd, unpriced), (0.0, 1), "{model_id}");
    }
    // A model the table has, in a tier it has no row for: unpriced, not another tier's price.
    let only_global = "model,region,tier,input,output,cache_read,cache_write\nanthropic.claude-sonnet-4-5-20250929-v1:0,*,global,3,15,,\n";
    let (usd, unpriced, _) = bill(&record("us-east-1", &format!("us.{SONNET}"), input(M), 0), Some(only_global));
    assert_eq!((usd, unpriced), (0.0, 1));
}

#[test]
fn token_kinds_are_priced_separately() {
    let cases: Vec<(&str, &str, Value, u64, f64)> = vec![
        // Output tokens: 16.5 per million, regional.
        ("output", "us-east-1", input(0), M, 16.5),
        // Cache tokens are not part of inputTokenCount: each kind at its own price,
        // 3.3 + 0.33 + 4.125.
        (
            "cache in input",
            "us-east-1",
            json!({"inputTokenCount": M, "cacheReadInputTokenCount": M, "cacheWriteInputTokenCount": M}),
            0,
            7.755,
        ),
        // 1000 input tokens and a million cache reads: 0.0033 + 0.33, not 1,001,000 x 3.3.
        (
            "small input, big cache",
            "us-east-1",
            json!({"inputTokenCount": 1000, "cacheReadInputTokenCount": M}),
            0,
            0.3333,
        ),
        // Tokyo's empty cache cells: 0.1x and 1.25x of 4: 4 + 0.4 + 5.
        (
            "default cache prices",
            "ap-northeast-1",
            json!({"inputTokenCount": M, "cacheReadInputTokenCount": M, "cacheWriteInputTokenCount": M}),
            0,
            9.4,
        ),
    ];
    for (what, region, inp, out, want) in cases {
        let (usd, unpriced, _) = bill(&record(region, &format!("us.{SONNET}"), inp, out), Some(PRICES));
        assert_eq!(unpriced, 0, "{what}");
        assert!(approx(usd, want), "{what}: {usd}, want {want}");
    }
}

#[test]
fn cache_tokens_found_only_in_stream_metrics_are_billed() {
    let mut r = record("us-east-1", PROFILE, input(M), 2000);
    r["operation"] = "InvokeModelWithResponseStream".into();
    r["output"] = json!({
        "outputTokenCount": 2000,
        "outputBodyJson": [
            {"type": "message_start", "message": {"role": "assistant"}},
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": M, "outputTokenCount": 2000, "invocationLatency": 900, "firstByteLatency": 100,
                "cacheReadInputTokenCount": 2 * M, "cacheWriteInputTokenCount": M}}
        ]
    });
    // 3.3 + 2000 x 16.5 / 1e6 + 2 x 0.33 + 4.125 = 3.3 + 0.033 + 0.66 + 4.125
    let (usd, unpriced, _) = bill(&r, Some(PRICES));
    assert_eq!(unpriced, 0);
    assert!(approx(usd, 8.118), "{usd}");
}

#[test]
fn failed_calls_cost_nothing() {
    let mut r =
        record("us-east-1", &format!("us.{SONNET}"), json!({"inputTokenCount": M, "cacheWriteInputTokenCount": M}), M);
    r["errorCode"] = "ThrottlingException".into();
    assert_eq!(bill(&r, Some(PRICES)).0, 0.0);
    // And they are not "unpriced" either: nothing was billed.
    assert_eq!(bill(&r, Some(PRICES)).1, 0);
}

/// The bundled table (no --prices): Claude 4.5 models have a global and a 10% dearer regional
/// tier; older ones one price for both.
#[test]
fn bundled_table_tiers() {
    let cases = [
        (format!("global.{SONNET}"), 3.0),
        (format!("us.{SONNET}"), 3.3),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0".into(), 1.0),
        ("eu.anthropic.claude-haiku-4-5-20251001-v1:0".into(), 1.1),
        ("global.anthropic.claude-opus-4-5-20251101-v1:0".into(), 5.0),
        ("anthropic.claude-opus-4-5-20251101-v1:0".into(), 5.5),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0".into(), 3.0),
        ("apac.amazon.nova-pro-v1:0".into(), 0.8),
        ("us.meta.llama3-3-70b-instruct-v1:0".into(), 0.72),
        ("us.deepseek.r1-v1:0".into(), 1.35),
    ];
    // 100,000 input tokens, a tenth of the price per million: a million would be a long-context
    // call, priced at Sonnet 4 and 4.5's long rows (`bundled_long_context_rows`).
    for (model_id, want) in cases {
        let (usd, unpriced, _) = bill(&record("us-east-1", &model_id, input(M / 10), 0), None);
        assert_eq!(unpriced, 0, "{model_id}");
        assert!(approx(usd * 10.0, want), "{model_id}: {usd}, want {want} / 10");
    }
    let out = ok(&["prices"]).stdout;
    assert!(out.starts_with("# bundled price table of 2026-12-01; USD per million tokens\n"), "{out}");
    // What `mila prices` prints is itself a prices file (the burndown table is in comments).
    let dir = tempdir();
    let saved = dir.path().join("saved.csv");
    std::fs::write(&saved, &out).unwrap();
    assert_eq!(
        ok(&["prices", "--prices", saved.to_str().unwrap()]).stdout.lines().skip(1).collect::<Vec<_>>(),
        out.lines().skip(1).collect::<Vec<_>>()
    );
    for family in [
        "anthropic.claude-3-",
        "anthropic.claude-sonnet-4",
        "amazon.nova-",
        "amazon.titan-embed",
        "meta.llama",
        "mistral.",
        "cohere.",
        "deepseek.",
    ] {
        assert!(out.lines().any(|l| l.starts_with(family)), "{family} missing from the bundled table");
    }
}

/// Issue 27: the bundled long-context rows. Bedrock bills a Claude Sonnet 4 or 4.5 call whose
/// input, counting cache reads and writes, is more than 200,000 tokens at the long-context rates
/// for all its tokens: Sonnet 4.5 regional input 6.6, output 24.75, cache read 0.66 (global 6,
/// 22.5, 0.6); Sonnet 4 input 6, output 22.5. Other models bill every size alike.
#[test]
fn bundled_long_context_rows() {
    let call = |model_id: &str, input: u64, cache_read: u64, output: u64| {
        let mut r = record(
            "us-east-1",
            model_id,
            json!({"inputTokenCount": input, "cacheReadInputTokenCount": cache_read}),
            output,
        );
        r["requestId"] = json!("long");
        r
    };
    let cases = [
        // 200,000 exactly: standard. 3.3 x 0.19 + 0.33 x 0.01 + 16.5 x 0.001.
        (call(&format!("us.{SONNET}"), 190_000, 10_000, 1_000), 0.627 + 0.0033 + 0.0165),
        // One more: long. 6.6 x 0.19 + 0.66 x 0.010001 + 24.75 x 0.001.
        (call(&format!("us.{SONNET}"), 190_000, 10_001, 1_000), 1.254 + 0.00660066 + 0.02475),
        (call(&format!("global.{SONNET}"), 300_000, 0, 2_000), 1.8 + 0.045),
        (call("us.anthropic.claude-sonnet-4-20250514-v1:0", 250_000, 0, 1_000), 1.5 + 0.0225),
        // Haiku 4.5 has no long row: 1.1 x 0.3 + 5.5 x 0.001.
        (call("us.anthropic.claude-haiku-4-5-20251001-v1:0", 300_000, 0, 1_000), 0.33 + 0.0055),
    ];
    for (r, want) in cases {
        let (usd, unpriced, _) = bill(&r, None);
        assert_eq!(unpriced, 0, "{r}");
        assert!((usd - want).abs() < 1e-12, "{}: {usd}, want {want}", r["modelId"]);
    }
}

/// Issue 15: one-hour cache writes are priced at their own rate. The regional row has no
/// `cache_write_1h` column, so a one-hour write costs twice the input price: 6.6.
#[test]
fn one_hour_cache_writes_are_priced_apart() {
    let split =
        |five: Value, hour: Value| json!({"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour});
    // InvokeModel with Anthropic's native body: usage.cache_creation splits the 2,000 writes.
    let native = |logged: Option<u64>, cache_creation: Value| {
        let mut r = record("us-east-1", &format!("us.{SONNET}"), input(1_000), 300);
        r["operation"] = json!("InvokeModel");
        if let Some(n) = logged {
            r["input"]["cacheWriteInputTokenCount"] = json!(n);
        }
        r["output"]["outputBodyJson"] = json!({"type": "message", "content": [{"type": "text", "text": "\"cache_creation\": {\"ephemeral_1h_input_tokens\": 9}"}],
            "usage": {"input_tokens": 1_000, "output_tokens": 300, "cache_creation_input_tokens": 2_000, "cache_creation": cache_creation}});
        r
    };
    // 1,000 x 3.3 + 300 x 16.5 + 1,000 x 4.125 (five minutes) + 1,000 x 6.6 (one hour).
    let both = (1_000.0 * 3.3 + 300.0 * 16.5 + 1_000.0 * 4.125 + 1_000.0 * 6.6) / M as f64;
    let all_five_minutes = (1_000.0 * 3.3 + 300.0 * 16.5 + 2_000.0 * 4.125) / M as f64;
    let cases = [
        ("the log's count, split by the body", native(Some(2_000), split(json!(1_000), json!(1_000))), both),
        ("no count in the log: the split added up", native(None, split(json!(1_000), json!(1_000))), both),
        ("no split: every write is a five-minute one", native(Some(2_000), json!(null)), all_five_minutes),
        ("a split in text is not read", native(Some(2_000), split(json!("1000"), json!("1000"))), all_five_minutes),
        // A count past u64 is not a number mila reads: the split is absent.
        (
            "a split past u64",
            native(Some(2_000), json!({"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 1e30})),
            all_five_minutes,
        ),
        // One-hour writes are never more than the writes the log counts.
        (
            "a split above the count",
            native(Some(1_000), split(json!(0), json!(5_000))),
            (1_000.0 * 3.3 + 300.0 * 16.5 + 1_000.0 * 6.6) / M as f64,
        ),
    ];
    for (what, r, want) in cases {
        let (usd, unpriced, _) = bill(&r, None);
        assert!((usd - want).abs() < 1e-12, "{what}: {usd} != {want}");
        assert_eq!(unpriced, 0, "{what}");
    }

    // A stream: the final usage (message_delta) wins over message_start's.
    let mut stream = record("us-east-1", &format!("us.{SONNET}"), input(1_000), 300);
    stream["operation"] = json!("InvokeModelWithResponseStream");
    stream["input"]["cacheWriteInputTokenCount"] = json!(2_000);
    stream["output"]["outputBodyJson"] = json!([
        {"type": "message_start", "message": {"role": "assistant", "content": [], "usage": {"input_tokens": 1_000, "cache_creation": split(json!(2_000), json!(0))}}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 300, "cache_creation": split(json!(1_000), json!(1_000))}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 1_000, "outputTokenCount": 300, "invocationLatency": 900, "firstByteLatency": 100}},
    ]);
    let (usd, _, _) = bill(&stream, None);
    assert!((usd - both).abs() < 1e-12, "stream: {usd} != {both}");

    // A price table with the column: its own one-hour price; summary.json and the cost tables
    // show both kinds of writes.
    let prices = "model,region,tier,input,output,cache_read,cache_write,cache_write_1h\n\
                  anthropic.claude-sonnet-4-5-20250929-v1:0,*,*,3,15,0.3,3.75,6\n";
    let (usd, _, _) = bill(&native(Some(2_000), split(json!(1_000), json!(1_000))), Some(prices));
    let want = (1_000.0 * 3.0 + 300.0 * 15.0 + 1_000.0 * 3.75 + 1_000.0 * 6.0) / M as f64;
    assert!((usd - want).abs() < 1e-12, "{usd} != {want}");
    let dir = tempdir();
    let logs = dir.path().join("r.jsonl");
    std::fs::write(&logs, native(Some(2_000), split(json!(1_500), json!(500))).to_string()).unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    let t = &s["tokens"]["by_model"][0];
    assert_eq!((&t["cache_write"], &t["cache_write_1h"]), (&json!(2_000), &json!(500)));
    let c = &s["cost"]["by_model"][0];
    assert_eq!((&c["cache_write_5m_tokens"], &c["cache_write_1h_tokens"]), (&json!(1_500), &json!(500)));
    let out = dir.path().join("out");
    ok(&["report", logs.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&format!("| {SONNET} | 1 | 1000 | 300 | 0 | 1500 | 500 |")), "{md}");
}

/// Issue 27: Converse reports the split in `usage.cacheDetails` (Bedrock API Reference,
/// `TokenUsage.cacheDetails`: `CacheDetail` {`inputTokens`, `ttl`}, sorted 1h first). Bundled
/// Sonnet 4.5 prices (per million): input 3.3, output 16.5, five-minute writes 4.125, one-hour 6.6.
#[test]
fn converse_cache_details_price_one_hour_writes_apart() {
    let converse = |logged: Option<u64>, details: Value| {
        let mut r = record("us-east-1", &format!("us.{SONNET}"), input(1_000), 300);
        if let Some(n) = logged {
            r["input"]["cacheWriteInputTokenCount"] = json!(n);
        }
        r["output"]["outputBodyJson"] = json!({"output": {"message": {"role": "assistant", "content": [{"text": "{\"inputTokens\": 9, \"ttl\": \"1h\"}"}]}},
            "stopReason": "end_turn", "metrics": {"latencyMs": 900},
            "usage": {"inputTokens": 1_000, "outputTokens": 300, "totalTokens": 3_300, "cacheWriteInputTokens": 2_000, "cacheDetails": details}});
        r
    };
    let entry = |ttl: &str, n: Value| json!({"inputTokens": n, "ttl": ttl});
    let base = 1_000.0 * 3.3 + 300.0 * 16.5;
    // 1,500 five-minute writes and 500 one-hour ones: 1,500 x 4.125 + 500 x 6.6.
    let split = (base + 1_500.0 * 4.125 + 500.0 * 6.6) / M as f64;
    let all_five_minutes = (base + 2_000.0 * 4.125) / M as f64;
    let cases = [
        (
            "the log's count, split by cacheDetails",
            converse(Some(2_000), json!([entry("1h", json!(500)), entry("5m", json!(1_500))])),
            split,
        ),
        (
            "no count in the log: the entries added up",
            converse(None, json!([entry("1h", json!(500)), entry("5m", json!(1_500))])),
            split,
        ),
        ("nothing written: an empty list", converse(Some(2_000), json!([])), all_five_minutes),
        ("a count in text is no count", converse(Some(2_000), json!([entry("1h", json!("500"))])), all_five_minutes),
        ("a lifetime mila does not know", converse(Some(2_000), json!([entry("24h", json!(500))])), all_five_minutes),
        ("not a list", converse(Some(2_000), json!({"ttl": "1h", "inputTokens": 500})), all_five_minutes),
        // Never more one-hour writes than the log counts.
        (
            "more one-hour writes than written",
            converse(Some(1_000), json!([entry("1h", json!(5_000))])),
            (base + 1_000.0 * 6.6) / M as f64,
        ),
    ];
    for (what, r, want) in cases {
        let (usd, unpriced, _) = bill(&r, None);
        assert!((usd - want).abs() < 1e-12, "{what}: {usd} != {want}");
        assert_eq!(unpriced, 0, "{what}");
    }
}

/// `mila prices --check SOURCE`: the model ids a report would count unpriced, before the report.
#[test]
fn prices_check_lists_what_the_table_cannot_price() {
    let dir = tempdir();
    let logs = dir.path().join("logs.jsonl");
    let at = |id: &str, region: &str, model_id: &str| {
        let mut r = record(region, model_id, input(10), 1);
        r["requestId"] = json!(id);
        r
    };
    let mut failed = at("f1", "us-east-1", "anthropic.claude-fable-5");
    failed["errorCode"] = json!("ValidationException");
    let lines = [
        at("a", "us-east-1", &format!("us.{SONNET}")),
        at("b", "us-east-1", "anthropic.claude-fable-5"),
        at("c", "eu-west-1", "eu.anthropic.claude-fable-5"),
        at("d", "eu-west-1", "eu.anthropic.claude-fable-5"),
        at("e", "us-east-1", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt1"),
        // A failed call costs nothing, so it needs no price.
        failed,
        at("g", "us-east-1", "anthropic.claude-opus-4-7"),
    ];
    std::fs::write(&logs, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    let r = mila(&["prices", "--check", logs.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.contains("fable") || l.contains("provisioned")).collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    assert!(r.stdout.contains("model_id") && r.stdout.contains("unpriced_requests"), "{}", r.stdout);
    let fable_eu = rows.iter().find(|l| l.contains("eu.anthropic.claude-fable-5")).unwrap();
    assert!(fable_eu.contains("eu-west-1") && fable_eu.trim_end().ends_with(" 2"), "{fable_eu}");
    assert!(
        r.stderr.contains("mila: bundled price table of 2026-12-01 cannot price 3 model ids (4 successful calls)"),
        "{}",
        r.stderr
    );
    // Opus 4.7 and Sonnet 4.5 are in the bundled table; with them alone the check passes.
    std::fs::write(&logs, [lines[0].to_string(), lines[6].to_string()].join("\n")).unwrap();
    let r = mila(&["prices", "--check", logs.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("prices every model id of the 2 records read"), "{}", r.stderr);
    // A window is honoured, and a price file given is the one checked.
    let prices = dir.path().join("p.csv");
    std::fs::write(&prices, "model,region,tier,input,output,cache_read,cache_write\nx,*,*,1,1,,\n").unwrap();
    let r = mila(&[
        "prices",
        "--prices",
        prices.to_str().unwrap(),
        "--check",
        logs.to_str().unwrap(),
        "--since",
        "2027-01-01",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = mila(&["prices", "--prices", prices.to_str().unwrap(), "--check", logs.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&format!("{} cannot price 2 model ids", prices.display())), "{}", r.stderr);
}

/// Issue 15: a response that names its service tier is priced at that tier's row; a tier
/// without a row is unpriced, never priced as standard.
#[test]
fn service_tiers_and_latency_optimized_calls_are_priced_by_their_rows() {
    let call = |model_id: &str, body: Value| {
        let mut r = record("us-east-1", model_id, input(M), M);
        r["output"]["outputBodyJson"] = body;
        r
    };
    let nova = "us.amazon.nova-pro-v1:0";
    let cases = [
        // Converse names the tier as an object; standard 0.8 + 3.2.
        ("standard", call(nova, json!({"stopReason": "end_turn", "serviceTier": {"type": "default"}})), 0.8 + 3.2, 0),
        ("priority", call(nova, json!({"stopReason": "end_turn", "serviceTier": {"type": "priority"}})), 1.4 + 5.6, 0),
        // An OpenAI-style body names it as a string.
        ("flex", call(nova, json!({"choices": [], "service_tier": "flex"})), 0.4 + 1.6, 0),
        (
            "latency-optimized",
            call("us.anthropic.claude-3-5-haiku-20241022-v1:0", json!({"performanceConfig": {"latency": "optimized"}})),
            1.0 + 5.0,
            0,
        ),
        (
            "latency-optimized Nova",
            call(nova, json!({"performanceConfig": {"latency": "optimized"}, "serviceTier": {"type": "default"}})),
            1.0 + 4.0,
            0,
        ),
        // No priority row for Sonnet 4.5: unpriced, not the standard price.
        ("priority Sonnet", call(&format!("us.{SONNET}"), json!({"serviceTier": {"type": "priority"}})), 0.0, 1),
        // A tier name mila does not know, and one that is not text.
        ("unknown name", call(nova, json!({"serviceTier": {"type": "turbo"}})), 0.0, 1),
        ("not text", call(nova, json!({"serviceTier": {"type": 7}})), 0.8 + 3.2, 0),
        // Anthropic's usage names it too.
        (
            "anthropic usage",
            call(
                "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                json!({"usage": {"input_tokens": 1, "service_tier": "standard"}}),
            ),
            0.8 + 4.0,
            0,
        ),
    ];
    for (what, r, want, unpriced) in cases {
        let (usd, n, _) = bill(&r, None);
        assert!(approx(usd, want), "{what}: {usd}, want {want}");
        assert_eq!(n, unpriced, "{what}");
    }
    // summary.json and the report show cost per service tier.
    let dir = tempdir();
    let logs = dir.path().join("r.jsonl");
    let mut lines = Vec::new();
    for (i, tier) in ["priority", "priority", "flex", "default"].iter().enumerate() {
        let mut r = call(nova, json!({"serviceTier": {"type": tier}}));
        r["requestId"] = json!(format!("t{i}"));
        lines.push(r.to_string());
    }
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--format", "json"]).json();
    let tiers: Vec<(String, u64, f64)> = s["cost"]["by_service_tier"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service_tier"].as_str().unwrap().to_string(),
                r["requests"].as_u64().unwrap(),
                r["usd"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tiers.iter().map(|t| (t.0.as_str(), t.1)).collect::<Vec<_>>(),
        [("flex", 1), ("priority", 2), ("standard", 1)]
    );
    assert!(approx(tiers[1].2, 2.0 * (1.4 + 5.6)), "{tiers:?}");
}
