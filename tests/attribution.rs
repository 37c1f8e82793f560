//! Cost and tokens by caller and by requestMetadata key (issue 5, part 3). Numbers by hand, at
//! 1 USD per million input tokens and 2 per million output tokens.

mod common;
use common::*;
use serde_json::{json, Value};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn record(id: &str, identity: Option<&str>, metadata: Option<Value>, tokens: (u64, u64), failed: bool) -> String {
    let mut r = json!({
        "schemaType": "ModelInvocationLog", "timestamp": "2026-11-10T08:00:00Z", "requestId": id,
        "region": "us-east-1", "operation": "Converse", "modelId": HAIKU,
        "input": {"inputTokenCount": tokens.0}, "output": {"outputTokenCount": tokens.1},
    });
    if let Some(arn) = identity {
        r["identity"] = json!({"arn": arn});
    }
    if let Some(m) = metadata {
        r["requestMetadata"] = m;
    }
    if failed {
        r["errorCode"] = json!("ValidationException");
    }
    r.to_string()
}

/// (requests, input tokens, output tokens, usd, unpriced) of a row.
type Figures = (u64, u64, u64, f64, u64);

fn figures(row: &Value) -> Figures {
    let n = |k: &str| row[k].as_u64().unwrap_or_else(|| panic!("{k} in {row}"));
    (n("requests"), n("input_tokens"), n("output_tokens"), row["usd"].as_f64().unwrap(), n("unpriced_requests"))
}

fn assert_rows(got: &Value, keys: &[&str], want: &[(&[&str], Figures)]) {
    let rows = got.as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "{got:#}");
    for (row, (key, (req, inp, out, usd, unp))) in rows.iter().zip(want) {
        let got_key: Vec<&str> = keys.iter().map(|k| row[*k].as_str().unwrap()).collect();
        assert_eq!(&got_key, key, "{row}");
        let (r, i, o, u, n) = figures(row);
        assert_eq!((r, i, o, n), (*req, *inp, *out, *unp), "{row}");
        assert!(approx(u, *usd), "{row}: usd {u}, want {usd}");
    }
}

/// The records as a log file, and the prices file of these tests, in a new directory.
fn written(lines: &[String]) -> (TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempdir();
    let logs = dir.path().join("a.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let prices = dir.path().join("prices.csv");
    std::fs::write(
        &prices,
        format!("model,region,tier,input,output,cache_read,cache_write\n{HAIKU},*,*,1.0,2.0,0.1,1.25\n"),
    )
    .unwrap();
    (dir, logs, prices)
}

#[test]
fn cost_by_caller_and_by_request_metadata() {
    let sso = |account: &str, suffix: &str, who: &str| {
        format!("arn:aws:sts::{account}:assumed-role/AWSReservedSSO_DataScience_{suffix}/{who}")
    };
    let agent = "arn:aws:sts::111111111111:assumed-role/AgentRole/worker-1";
    let lines = [
        // (1000 x 1 + 500 x 2) / 1e6 = 0.002
        record(
            "a",
            Some(&sso("111111111111", "0a1b2c3d4e5f6789", "alice")),
            Some(json!({"app": "search", "team": "x"})),
            (1000, 500),
            false,
        ),
        // 2000 / 1e6 = 0.002
        record(
            "b",
            Some(&sso("111111111111", "0a1b2c3d4e5f6789", "bob")),
            Some(json!({"app": "search"})),
            (2000, 0),
            false,
        ),
        // Another account, another random suffix, the same permission set: 1000 x 2 / 1e6 = 0.002
        record(
            "c",
            Some(&sso("222222222222", "fedcba9876543210", "alice")),
            Some(json!({"app": "batch"})),
            (0, 1000),
            false,
        ),
        // (100 + 200) / 1e6 = 0.0003
        record("d", Some(agent), None, (100, 100), false),
        // Failed: costs nothing and bills no tokens, but is a request.
        record("e", Some(agent), None, (5000, 0), true),
        // No identity: (10 + 20) / 1e6 = 0.00003
        record("f", None, Some(json!({"team": "y"})), (10, 10), false),
    ];
    let (dir, logs, prices) = written(&lines);
    let out = dir.path().join("out");
    let (l, p, o) = (logs.to_str().unwrap(), prices.to_str().unwrap(), out.to_str().unwrap());
    let args = ["report", l, "--prices", p, "--by-metadata", "app", "--by-metadata", "team", "--by-metadata", "app"];
    let s = ok(&[&args[..], &["--format", "json", "--out", o]].concat()).json();
    assert_eq!(s["records"]["rejected"], 0);
    let cost = &s["cost"];
    assert_rows(
        &cost["by_identity"],
        &["account", "principal", "session"],
        &[
            (&["", "(unknown)", ""], (1, 10, 10, 0.00003, 0)),
            (&["111111111111", "role/AWSReservedSSO_DataScience", "alice"], (1, 1000, 500, 0.002, 0)),
            (&["111111111111", "role/AWSReservedSSO_DataScience", "bob"], (1, 2000, 0, 0.002, 0)),
            (&["111111111111", "role/AgentRole", "worker-1"], (2, 100, 100, 0.0003, 0)),
            (&["222222222222", "role/AWSReservedSSO_DataScience", "alice"], (1, 0, 1000, 0.002, 0)),
        ],
    );
    // Keys given twice count once.
    assert_rows(
        &cost["by_request_metadata"],
        &["key", "value"],
        &[
            (&["app", "(none)"], (3, 110, 110, 0.00033, 0)),
            (&["app", "batch"], (1, 0, 1000, 0.002, 0)),
            (&["app", "search"], (2, 3000, 500, 0.004, 0)),
            (&["team", "(none)"], (4, 2100, 1100, 0.0043, 0)),
            (&["team", "x"], (1, 1000, 500, 0.002, 0)),
            (&["team", "y"], (1, 10, 10, 0.00003, 0)),
        ],
    );
    // Every view adds up to the total: 0.00633.
    assert_close(&cost["total"], 0.00633, "total");
    for view in ["by_identity", "by_request_metadata"] {
        let sum: f64 = cost[view].as_array().unwrap().iter().map(|r| r["usd"].as_f64().unwrap()).sum();
        let keys = if view == "by_identity" { 1.0 } else { 2.0 };
        assert!(approx(sum, 0.00633 * keys), "{view}: {sum}");
    }
    // The report folds sessions into their principal.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(
            "| 111111111111 | role/AWSReservedSSO\\_DataScience | role | 2 | 2 | 3000 | 500 | 0 | 0 | $0.0040 | 0 |"
        ),
        "{md}"
    );
    assert!(md.contains("| team | y | 1 | 10 | 10 | 0 | 0 | $0.0000 | 0 |"), "{md}");
    // An empty key is a bad argument.
    let bad = mila(&["report", l, "--by-metadata", ""]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--by-metadata"), "{}", bad.stderr);
}

/// Cost by source region and by how the model was named (issue 5, part 3), by hand at 1 / 2 USD
/// per million tokens for Haiku in every region and tier.
#[test]
fn cost_by_source_region_and_model_id_kind() {
    let at = |id: &str, region: &str, model_id: &str, tokens: (u64, u64), failed: bool| {
        let mut r: Value = serde_json::from_str(&record(id, None, None, tokens, failed)).unwrap();
        r["region"] = region.into();
        r["modelId"] = model_id.into();
        r.to_string()
    };
    let lines = [
        at("a", "us-east-1", HAIKU, (1000, 0), false),                      // 0.001
        at("b", "us-east-1", &format!("us.{HAIKU}"), (0, 1000), false),     // 0.002
        at("c", "eu-west-1", &format!("global.{HAIKU}"), (2000, 0), false), // 0.002
        // Not in any profiles file: unpriced, its tokens still shown.
        at(
            "d",
            "eu-west-1",
            "arn:aws:bedrock:eu-west-1:111111111111:application-inference-profile/n0pe",
            (500, 500),
            false,
        ),
        // Failed: a request, nothing billed, not unpriced.
        at("e", "eu-west-1", &format!("eu.{HAIKU}"), (5000, 0), true),
        // No price row: unpriced.
        at("f", "ap-northeast-1", "acme.unknown-v1:0", (100, 100), false),
    ];
    let dir = tempdir();
    let logs = dir.path().join("k.jsonl");
    std::fs::write(&logs, lines.join("\n")).unwrap();
    let prices = dir.path().join("prices.csv");
    std::fs::write(&prices, format!("model,region,tier,input,output,cache_read,cache_write\n{HAIKU},*,*,1.0,2.0,,\n"))
        .unwrap();
    let s = ok(&["report", logs.to_str().unwrap(), "--prices", prices.to_str().unwrap(), "--format", "json"]).json();
    let cost = &s["cost"];
    assert_close(&cost["total"], 0.005, "total");
    assert_eq!(cost["unpriced_requests"], 2);
    assert_rows(
        &cost["by_source_region"],
        &["source_region"],
        &[
            (&["ap-northeast-1"], (1, 100, 100, 0.0, 1)),
            (&["eu-west-1"], (3, 2500, 500, 0.002, 1)),
            (&["us-east-1"], (2, 1000, 1000, 0.003, 0)),
        ],
    );
    assert_rows(
        &cost["by_model_id_kind"],
        &["model_id_kind"],
        &[
            (&["application-profile"], (1, 500, 500, 0.0, 1)),
            (&["foundation-model"], (2, 1100, 100, 0.001, 1)),
            (&["geo-profile"], (2, 0, 1000, 0.002, 0)),
            (&["global-profile"], (1, 2000, 0, 0.002, 0)),
        ],
    );
    // Tokens by model now also in cost by model and by tag rows: billed tokens only.
    let haiku = by_key(&cost["by_model"], &["model"])[HAIKU];
    assert_eq!(
        (haiku["requests"].as_u64(), haiku["input_tokens"].as_u64(), haiku["output_tokens"].as_u64()),
        (Some(4), Some(3000), Some(1000))
    );
}

/// A Bedrock API key is an IAM user's credential; the console names the user `BedrockAPIKey-...`.
/// Its calls are named as an API key's in calls and cost by caller, and in `check`'s listing,
/// apart from the role and the ordinary user.
#[test]
fn api_key_callers_are_named_as_such() {
    let key = "arn:aws:iam::111111111111:user/BedrockAPIKey-x7k2";
    let user = "arn:aws:iam::111111111111:user/alice";
    let role = "arn:aws:sts::111111111111:assumed-role/AgentRole/worker-1";
    let lines = [
        record("k1", Some(key), None, (1000, 0), false),
        record("k2", Some(key), None, (1000, 0), false),
        record("u1", Some(user), None, (0, 500), false),
        record("r1", Some(role), None, (100, 100), false),
    ];
    let (dir, logs, prices) = written(&lines);
    let out = dir.path().join("out");
    let (l, p, o) = (logs.to_str().unwrap(), prices.to_str().unwrap(), out.to_str().unwrap());
    let s = ok(&["report", l, "--prices", p, "--format", "json", "--out", o]).json();
    let kinds = |v: &Value| -> Vec<(String, String, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["principal"].as_str().unwrap().into(),
                    r["kind"].as_str().unwrap().into(),
                    r["requests"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let want = vec![
        ("role/AgentRole".to_string(), "role".to_string(), 1),
        ("user/BedrockAPIKey-x7k2".to_string(), "api-key".to_string(), 2),
        ("user/alice".to_string(), "user".to_string(), 1),
    ];
    assert_eq!(kinds(&s["callers"]), want);
    assert_eq!(kinds(&s["cost"]["by_identity"]), want);
    // 2 x 1000 x 1 / 1e6.
    let key_cost = s["cost"]["by_identity"].as_array().unwrap().iter().find(|r| r["kind"] == "api-key").unwrap();
    assert!(approx(key_cost["usd"].as_f64().unwrap(), 0.002), "{key_cost}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| 111111111111 | user/BedrockAPIKey-x7k2 | api-key |"), "{md}");

    // check: every call from us-east-1 ran there, so a policy that allows only eu-* lists all.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[rule]]\nsource = \"us-*\"\nallow = [\"eu-*\"]\n").unwrap();
    let r = mila(&["check", l, "--policy", policy.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let listed: Vec<&str> = r.stdout.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(listed.iter().filter(|k| **k == "api-key").count(), 2, "{}", r.stdout);
    assert_eq!(listed.len(), 4, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("request_id,timestamp,source_region,inference_region,model_id,identity_arn,caller_kind\n"),
        "{}",
        r.stdout
    );
    // CloudTrail's flag: the role session's logged call r1 came with a bearer token (a short-term
    // API key, `additionalEventData.callWithBearerToken`), so that caller is an API key's too; a
    // flag of `false` or of another type marks nothing (alice's call u1).
    let event = |id: &str, arn: &str, flag: Value| {
        json!({"eventVersion": "1.11", "eventTime": "2026-11-10T08:00:00Z", "eventSource": "bedrock.amazonaws.com",
            "eventName": "Converse", "awsRegion": "us-east-1", "requestID": id,
            "userIdentity": {"type": "AssumedRole", "arn": arn}, "requestParameters": {"modelId": HAIKU},
            "additionalEventData": {"callWithBearerToken": flag}})
    };
    let trail = dir.path().join("trail.json");
    let events = json!({"Records": [event("r1", role, json!(true)), event("u1", user, json!("true"))]});
    std::fs::write(&trail, events.to_string()).unwrap();
    let t = trail.to_str().unwrap();
    let s = ok(&["report", l, t, "--prices", p, "--format", "json"]).json();
    let want = vec![
        ("role/AgentRole".to_string(), "api-key".to_string(), 1),
        ("user/BedrockAPIKey-x7k2".to_string(), "api-key".to_string(), 2),
        ("user/alice".to_string(), "user".to_string(), 1),
    ];
    assert_eq!(kinds(&s["callers"]), want);
    assert_eq!(kinds(&s["cost"]["by_identity"]), want);
    assert_eq!(s["sources"]["cloudtrail_only"], 0, "both events' calls were logged: each counted once");
    let r = mila(&["check", l, t, "--policy", policy.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let listed: Vec<&str> = r.stdout.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(listed.iter().filter(|k| **k == "api-key").count(), 3, "{}", r.stdout);
}
