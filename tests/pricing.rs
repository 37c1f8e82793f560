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
    for (model_id, want) in cases {
        let (usd, unpriced, _) = bill(&record("us-east-1", &model_id, input(M), 0), None);
        assert_eq!(unpriced, 0, "{model_id}");
        assert!(approx(usd, want), "{model_id}: {usd}, want {want}");
    }
    let out = ok(&["prices"]).stdout;
    assert!(out.starts_with("# bundled price table of 2026-11-01; USD per million tokens\n"), "{out}");
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
