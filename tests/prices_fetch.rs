//! `mila prices fetch` against the Price List Query API's wire protocol on loopback. moto does not
//! serve the Price List, so a replay server answers GetProducts (awsJson1_1,
//! `AWSPriceListService.GetProducts`) with the products under tests/fixtures/pricelist/ (see its
//! README); the binary, its SDK client, signing and pagination are the real ones.
//!
//! Request and response fields as the API Reference gives them (pricing-2017-10-15, GetProducts):
//! request `ServiceCode`, `Filters` [{`Type`: `TERM_MATCH`, `Field`, `Value`}], `FormatVersion`
//! (`aws_v1`), `MaxResults` (1 to 100), `NextToken`; response `FormatVersion`, `NextToken`,
//! `PriceList` (an array of strings, each one product's JSON).

mod common;
use common::replay::{Replay, Request, Response};
use common::*;
use serde_json::{json, Value};

const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/// Two products a page, as JSON strings, filtered by the request's regionCode.
fn price_list(r: &Request) -> Response {
    if r.operation != "AWSPriceListService.GetProducts" {
        return (400, r#"{"__type":"InvalidParameterException","Message":"unexpected operation"}"#.into());
    }
    let body: Value = serde_json::from_str(&r.body).unwrap();
    let code = body["ServiceCode"].as_str().unwrap_or("");
    let filters = body["Filters"].as_array().cloned().unwrap_or_default();
    let region = filters.iter().find(|f| f["Field"] == "regionCode" && f["Type"] == "TERM_MATCH");
    let (Some(region), "aws_v1", 1..=100) = (
        region.and_then(|f| f["Value"].as_str()),
        body["FormatVersion"].as_str().unwrap_or(""),
        body["MaxResults"].as_u64().unwrap_or(0),
    ) else {
        return (400, r#"{"__type":"InvalidParameterException","Message":"filters, format or page size"}"#.into());
    };
    let Ok(text) = std::fs::read_to_string(fixtures().join("pricelist").join(format!("{region}.{code}.json"))) else {
        return (
            400,
            r#"{"__type":"AccessDeniedException","Message":"User is not authorized to perform: pricing:GetProducts"}"#
                .into(),
        );
    };
    let products: Vec<Value> = serde_json::from_str(&text).unwrap();
    let page: usize = match body["NextToken"].as_str() {
        None => 0,
        Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return (400, r#"{"__type":"InvalidNextTokenException","Message":"token"}"#.into()),
        },
    };
    let list: Vec<String> = products.iter().skip(page * 2).take(2).map(|p| p.to_string()).collect();
    let mut out = json!({"FormatVersion": "aws_v1", "PriceList": list});
    if products.len() > (page + 1) * 2 {
        out["NextToken"] = json!(format!("page-{}", page + 1));
    }
    (200, out.to_string())
}

#[test]
fn fetch_maps_every_token_price_and_lists_the_rest() {
    let server = Replay::start(price_list);
    let dir = tempdir();
    let out = dir.path().join("prices.csv");
    let run = aws::mila_at(
        &server.url,
        &["prices", "fetch", "--region", "us-east-1", "--region", "eu-west-1", "--out", out.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Pages of two: us-east-1 has 31 + 9 products (16 + 5 pages), eu-west-1 4 + 0 (2 + 1). The
    // API is asked in us-east-1 whatever region's prices are wanted.
    let requests = server.requests();
    assert_eq!(requests.len(), 16 + 5 + 2 + 1);
    assert!(requests.iter().all(|r| r.region == "us-east-1" && r.service == "pricing"), "{requests:?}");
    assert!(
        run.stderr.contains(&format!(
            "mila: wrote 12 price rows to {} (38 token prices read from 44 products); 9 rows have no cache price in the list; 6 left out; 2 products are not token prices",
            out.display()
        )),
        "{}",
        run.stderr
    );
    for line in [
        "left out: us-east-1: USE1-MP:USE1_InputTokenCount-Units: model name \"Claude Fable 9\\n[[x]]\\u{202e}\" is not in mila's names table",
        "left out: us-east-1: USE1-MP:USE1_InputTokenCount-Units (Claude Opus 4.1): 2 on-demand prices, not one",
        "left out: us-east-1: usage type USE1-MP:USE1_InputTokenCount_Weekend-Units is not one mila reads",
        "left out: us-east-1: USE1-NovaLite-input-tokens (Nova Lite): price \"0.5000000000\" per \"Hours\" is not one mila reads",
        "left out: two prices: anthropic.claude-haiku-4-5-20251001-v1:0 in us-east-1: Input priced at both 1.1 and 1.2 (USE1-MP:USE1_input_tokens_standard-Units)",
        "left out: incomplete: us-east-1: anthropic.claude-3-haiku-20240307-v1:0 regional standard: no output price",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.stderr);
    }
    // Names from AWS stay inside the file's comments and off the terminal raw.
    assert!(!run.stderr.contains('\u{202e}'));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains('\u{202e}') && !text.contains("\n[[x]]"), "{text}");
    assert!(text.starts_with("# Bedrock token prices, USD per million tokens, from `mila prices fetch` (AWS Price List Query API, service codes AmazonBedrock and AmazonBedrockFoundationModels) for us-east-1, eu-west-1, on "), "{text}");
    assert!(text.contains("(newest publicationDate 2026-11-25T18:00:00Z)"), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        rows,
        [
            "model,region,tier,input,output,cache_read,cache_write,cache_write_1h,service_tier,context",
            "amazon.nova-pro-v1:0,us-east-1,global,0.7,2.8,,,,standard,",
            "amazon.nova-pro-v1:0,us-east-1,regional,0.4,1.6,,,,batch,",
            "amazon.nova-pro-v1:0,us-east-1,regional,0.8,3.2,0.2,,,standard,",
            "anthropic.claude-opus-4-7,us-east-1,global,5,25,0.5,6.25,10,standard,",
            "anthropic.claude-opus-4-7,us-east-1,regional,5.5,27.5,,,,standard,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,eu-west-1,global,3,15,,,,standard,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,eu-west-1,regional,3.3,16.5,,,,standard,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,us-east-1,global,3,15,0.3,3.75,6,standard,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,us-east-1,global,6,22.5,,,,standard,long",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,us-east-1,regional,1.65,8.25,,,,batch,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,us-east-1,regional,3.3,16.5,0.33,4.125,6.6,standard,",
            "anthropic.claude-sonnet-4-5-20250929-v1:0,us-east-1,regional,6.6,24.75,,,,standard,long",
        ]
    );

    // The file prices a report; each figure worked by hand from the rows above (USD per million).
    let logs = dir.path().join("logs.jsonl");
    let record = |id: &str, region: &str, model_id: &str, input: Value, output: Value| {
        json!({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-10T08:00:00Z",
               "requestId": id, "accountId": "123456789012", "region": region, "operation": "Converse",
               "modelId": model_id, "input": input, "output": output})
        .to_string()
    };
    let lines = [
        // Long context: 150,000 input and 60,000 cache reads are more than 200,000, so the
        // regional long-context row: 150,000 x 6.6 + 60,000 x 0.66 (the empty cache cell: a tenth
        // of input) + 1,000 x 24.75 = 1,054,350.
        record(
            "long",
            "us-east-1",
            &format!("us.{SONNET}"),
            json!({"inputTokenCount": 150_000, "cacheReadInputTokenCount": 60_000}),
            json!({"outputTokenCount": 1_000}),
        ),
        // Exactly 200,000: the standard regional row: 199,000 x 3.3 + 1,000 x 0.33 + 10 x 16.5 = 657,195.
        record(
            "edge",
            "us-east-1",
            &format!("us.{SONNET}"),
            json!({"inputTokenCount": 199_000, "cacheReadInputTokenCount": 1_000}),
            json!({"outputTokenCount": 10}),
        ),
        // Global, one-hour writes through Converse's cacheDetails: 1,000 x 3 + 500 x 15 + 2,000 x 6 = 22,500.
        record(
            "global",
            "us-east-1",
            &format!("global.{SONNET}"),
            json!({"inputTokenCount": 1_000, "cacheWriteInputTokenCount": 2_000}),
            json!({"outputTokenCount": 500, "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 100},
                "usage": {"inputTokens": 1_000, "outputTokens": 500, "cacheWriteInputTokens": 2_000, "cacheDetails": [{"inputTokens": 2_000, "ttl": "1h"}]}}}),
        ),
        // In region, at the regional premium: 1,000 x 3.3 + 100 x 16.5 = 4,950 (global would be 4,500).
        record("in-region", "us-east-1", SONNET, json!({"inputTokenCount": 1_000}), json!({"outputTokenCount": 100})),
        // eu-west-1's own rows: 10,000 x 3.3 + 1,000 x 16.5 = 49,500.
        record(
            "eu",
            "eu-west-1",
            &format!("eu.{SONNET}"),
            json!({"inputTokenCount": 10_000}),
            json!({"outputTokenCount": 1_000}),
        ),
        // Nova Pro per 1K tokens: 10,000 x 0.8 + 2,000 x 3.2 + 5,000 x 0.2 = 15,400.
        record(
            "nova",
            "us-east-1",
            "us.amazon.nova-pro-v1:0",
            json!({"inputTokenCount": 10_000, "cacheReadInputTokenCount": 5_000}),
            json!({"outputTokenCount": 2_000}),
        ),
        // Haiku 4.5's prices were left out (two prices): unpriced, not guessed.
        record(
            "haiku",
            "us-east-1",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            json!({"inputTokenCount": 10}),
            json!({"outputTokenCount": 1}),
        ),
    ];
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--prices", out.to_str().unwrap(), "--format", "json"]).json();
    let want = (1_054_350.0 + 657_195.0 + 22_500.0 + 4_950.0 + 49_500.0 + 15_400.0) / 1e6;
    assert_close(&s["cost"]["total"], want, "total cost");
    assert_eq!(s["cost"]["unpriced_requests"], 1);
    let by_kind = |kind: &str| {
        s["cost"]["by_model_id_kind"].as_array().unwrap().iter().find(|r| r["model_id_kind"] == kind).cloned()
    };
    assert_close(&by_kind("global-profile").unwrap()["usd"], 0.0225, "global");
    assert_close(&by_kind("foundation-model").unwrap()["usd"], 0.00495, "in region");

    // `prices --against`: the bundled table beside the fetched one, 12 rows of 5 prices. It agrees
    // on Sonnet 4.5 (its batch rows too: half) and Opus 4.7, empty cache cells read as the bundled
    // multiples; it differs on 8 of Nova Pro's: its global calls priced as its regional ones (5),
    // its cache writes at 0 where an empty cell reads 1.25 x input (standard and batch), and its
    // batch cache reads at half the standard 0.2 where an empty cell reads a tenth of 0.4.
    let run = mila(&["prices", "--against", out.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("prices 8 of the 60 prices of {} otherwise or not at all", out.display())),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.matches("differs").count(), 8, "{}", run.stdout);
    assert!(!run.stdout.contains("unpriced") && !run.stdout.contains("anthropic."), "{}", run.stdout);
    // A table compared with itself agrees.
    let run = mila(&["prices", "--prices", out.to_str().unwrap(), "--against", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("agrees with"), "{}", run.stderr);
}

#[test]
fn fetch_names_the_permission_and_never_overwrites_another_file() {
    let server = Replay::start(price_list);
    let dir = tempdir();
    let out = dir.path().join("prices.csv");
    // No products for ap-south-1: the replay answers AccessDenied, as IAM would.
    let run = aws::mila_at(&server.url, &["prices", "fetch", "--region", "ap-south-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("pricing:GetProducts"), "{}", run.stderr);
    assert!(!out.exists());
    let other = dir.path().join("notes.csv");
    std::fs::write(&other, "a,b\n1,2\n").unwrap();
    let run =
        aws::mila_at(&server.url, &["prices", "fetch", "--region", "us-east-1", "--out", other.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a prices file; not overwriting it"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "a,b\n1,2\n");
    // A page token handed back for ever: refused, nothing written.
    let looping = Replay::start(|_: &Request| (200, r#"{"NextToken":"again","PriceList":[]}"#.to_string()));
    let run = aws::mila_at(&looping.url, &["prices", "fetch", "--region", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("page 2 handed back a page token already used"), "{}", run.stderr);
    assert!(!out.exists());
    // Hostile products: not JSON, a price past any real one, a price list of the wrong type.
    let hostile = Replay::start(|r: &Request| {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        if body["ServiceCode"] == "AmazonBedrock" {
            return (200, r#"{"PriceList":[]}"#.to_string());
        }
        let product = |ut: &str, usd: &str| {
            json!({"product": {"attributes": {"servicename": "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "usagetype": ut, "regionCode": "us-east-1"}},
                   "terms": {"OnDemand": {"T": {"priceDimensions": {"D": {"unit": "Units", "pricePerUnit": {"USD": usd}}}}}}})
            .to_string()
        };
        let list = vec![
            "{not json".to_string(),
            product("USE1-MP:USE1_InputTokenCount-Units", "1e308"),
            product("USE1-MP:USE1_OutputTokenCount-Units", "99999999999999999999999"),
            product("USE1-MP:USE1_InputTokenCount_Global-Units", "3"),
            product("USE1-MP:USE1_OutputTokenCount_Global-Units", "15"),
            // A region that would break out of its cell.
            product("USE1-MP:USE1_CacheReadInputTokenCount-Units", "1")
                .replace("\"us-east-1\"", "\"us-east-1,\\n[x]\""),
        ];
        (200, json!({"PriceList": list}).to_string())
    });
    let run = aws::mila_at(&hostile.url, &["prices", "fetch", "--region", "us-east-1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote 1 price row"), "{}", run.stderr);
    assert!(run.stderr.contains("left out: us-east-1: a product that is not JSON"), "{}", run.stderr);
    assert!(run.stderr.contains("price \"1e308\" per \"Units\" is not one mila reads"), "{}", run.stderr);
    assert!(
        run.stderr.contains("price \"99999999999999999999999\" per \"Units\" is not one mila reads"),
        "{}",
        run.stderr
    );
    let region = "USE1-MP:USE1_CacheReadInputTokenCount-Units: regionCode \"us-east-1,\\n[x]\" is not a region name";
    assert!(run.stderr.contains(region), "{}", run.stderr);
    let wrong = Replay::start(|_: &Request| (200, r#"{"PriceList":"none"}"#.to_string()));
    let other_out = dir.path().join("other.csv");
    let run =
        aws::mila_at(&wrong.url, &["prices", "fetch", "--region", "us-east-1", "--out", other_out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!other_out.exists());
}
