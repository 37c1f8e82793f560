//! One fixture per record shape; numbers below were worked out by hand from the fixtures.

mod common;
use common::*;
use serde_json::json;

fn fx(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// `mila report` on the shape fixtures with their prices and profiles, plus `extra` arguments.
fn report_with(extra: &[&str]) -> Run {
    let (shapes, prices, profiles) = (fx("shapes"), fx("shapes.prices.csv"), fx("shapes.profiles.toml"));
    let mut args = vec!["report", &shapes, "--format", "json", "--prices", &prices, "--profiles", &profiles];
    args.extend_from_slice(extra);
    ok(&args)
}

fn report() -> serde_json::Value {
    report_with(&["--policy", &fx("shapes.policy.toml")]).json()
}

#[test]
fn every_shape_reads_into_the_right_columns() {
    let sql = fixtures().join("all_columns.sql");
    let r = ok(&[
        "query",
        &sql.display().to_string(),
        &fx("shapes"),
        "--profiles",
        &fx("shapes.profiles.toml"),
        "--format",
        "json",
    ]);
    let rows = r.json();
    let rows = by_key(&rows, &["request_id"]);
    assert_eq!(rows.len(), 10);
    // The frame has exactly the contract's columns.
    let mut columns: Vec<&str> = rows["req-failed"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut want_columns = mila::frame::col::ALL.to_vec();
    columns.sort();
    want_columns.sort();
    assert_eq!(columns, want_columns);
    // (request, kind, model, route, inference region, in, out, cache read, cache write, latency, first byte, stop, error, body in s3)
    let want = [
        (
            "req-converse-local",
            "foundation-model",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "local",
            json!("us-east-1"),
            20,
            100,
            0,
            0,
            json!(700),
            json!(null),
            json!("end_turn"),
            json!(null),
            false,
        ),
        (
            "req-global-rerouted",
            "global-profile",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "rerouted",
            json!("us-east-2"),
            200,
            400,
            10000,
            0,
            json!(3000),
            json!(null),
            json!("end_turn"),
            json!(null),
            false,
        ),
        (
            "req-stream-old",
            "geo-profile",
            "amazon.nova-lite-v1:0",
            "unknown",
            json!(null),
            10,
            20,
            0,
            0,
            json!(300),
            json!(null),
            json!("end_turn"),
            json!(null),
            false,
        ),
        (
            "req-invoke-native",
            "foundation-model",
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "local",
            json!("us-west-2"),
            150,
            10,
            0,
            0,
            json!(null),
            json!(null),
            json!("end_turn"),
            json!(null),
            false,
        ),
        (
            "req-imwrs-arn",
            "geo-profile",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "rerouted",
            json!("us-east-1"),
            1000,
            500,
            0,
            0,
            json!(9000),
            json!(600),
            json!("max_tokens"),
            json!(null),
            false,
        ),
        (
            "req-app-sidecar",
            "application-profile",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "rerouted",
            json!("us-east-2"),
            4,
            1000,
            0,
            20000,
            json!(20000),
            json!(2500),
            json!(null),
            json!(null),
            true,
        ),
        (
            "req-metrics-cache",
            "application-profile",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "local",
            json!("eu-west-1"),
            50,
            60,
            3000,
            7,
            json!(1500),
            json!(400),
            json!(null),
            json!(null),
            false,
        ),
        (
            "req-guardrail",
            "foundation-model",
            "anthropic.claude-3-haiku-20240307-v1:0",
            "local",
            json!("eu-west-1"),
            0,
            0,
            0,
            0,
            json!(250),
            json!(null),
            json!("guardrail_intervened"),
            json!(null),
            false,
        ),
        (
            "req-failed",
            "geo-profile",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "unknown",
            json!(null),
            0,
            0,
            0,
            0,
            json!(null),
            json!(null),
            json!(null),
            json!("ModelTimeoutException"),
            false,
        ),
        (
            "req-embedding",
            "foundation-model",
            "amazon.titan-embed-text-v2:0",
            "local",
            json!("eu-west-1"),
            8,
            0,
            0,
            0,
            json!(null),
            json!(null),
            json!(null),
            json!(null),
            false,
        ),
    ];
    for (id, kind, model, route, ir, i, o, cr, cw, lat, fb, stop, err, s3) in want {
        let row = rows[id];
        let got = json!([
            row["model_id_kind"],
            row["model"],
            row["route"],
            row["inference_region"],
            row["input_tokens"],
            row["output_tokens"],
            row["cache_read_tokens"],
            row["cache_write_tokens"],
            row["latency_ms"],
            row["first_byte_ms"],
            row["stop_reason"],
            row["error_code"],
            row["body_in_s3"]
        ]);
        assert_eq!(got, json!([kind, model, route, ir, i, o, cr, cw, lat, fb, stop, err, s3]), "{id}");
    }
    assert_eq!(
        rows["req-converse-local"]["request_metadata"],
        json!("{\"application_name\":\"Helpdesk\",\"cost_center\":\"CC-1\"}")
    );
    assert_eq!(rows["req-global-rerouted"]["timestamp"], json!("2026-11-10T08:05:00.250Z"));
    assert_eq!(
        rows["req-converse-local"]["identity_arn"],
        json!("arn:aws:sts::111122223333:assumed-role/HelpdeskRole/i-1")
    );
    // Bodies never reach the frame.
    assert!(!r.stdout.contains("SECRET"), "a prompt or completion leaked into the frame");
}

#[test]
fn summary_matches_hand_computed_numbers() {
    let s = report();
    assert_eq!(s["schema"], "mila.summary/1");
    assert_eq!(
        s["records"],
        json!({"lines": 10, "parsed": 10, "rejected": 0, "duplicates": 0, "invocation_errors": 1, "skipped_objects": 0, "outside_window": 0})
    );

    let rr = &s["rerouting"];
    assert_eq!(
        (rr["requests"].as_u64(), rr["local"].as_u64(), rr["rerouted"].as_u64(), rr["unknown"].as_u64()),
        (Some(10), Some(5), Some(3), Some(2))
    );
    assert_close(&rr["rate"], 0.3, "rate");
    let by_src = by_key(&rr["by_source_region"], &["source_region"]);
    let counts = |r: &serde_json::Value| {
        [
            r["requests"].as_u64().unwrap(),
            r["local"].as_u64().unwrap(),
            r["rerouted"].as_u64().unwrap(),
            r["unknown"].as_u64().unwrap(),
        ]
    };
    assert_eq!(counts(by_src["eu-central-1"]), [1, 0, 0, 1]);
    assert_eq!(counts(by_src["eu-west-1"]), [3, 3, 0, 0]);
    assert_eq!(counts(by_src["us-east-1"]), [3, 1, 1, 1]);
    assert_eq!(counts(by_src["us-west-2"]), [3, 1, 2, 0]);
    assert_close(&by_src["us-west-2"]["rate"], 2.0 / 3.0, "us-west-2 rate");
    let flows = by_key(&rr["flows"], &["source_region", "inference_region"]);
    let want_flows = [
        ("eu-central-1|null", 1),
        ("eu-west-1|eu-west-1", 3),
        ("us-east-1|null", 1),
        ("us-east-1|us-east-1", 1),
        ("us-east-1|us-east-2", 1),
        ("us-west-2|us-east-1", 1),
        ("us-west-2|us-east-2", 1),
        ("us-west-2|us-west-2", 1),
    ];
    assert_eq!(flows.len(), want_flows.len(), "{flows:?}");
    for (k, n) in want_flows {
        assert_eq!(flows[k]["requests"], n, "flow {k}");
    }

    assert_eq!(s["latency"]["known"], 6);
    assert_eq!(s["latency"]["calls"], 8);
    let lat = by_key(&s["latency"]["by_inference_region"], &["inference_region"]);
    // us-west-2 has calls but no latency: its row says so, so the calls add up to the header's.
    assert_eq!(lat.len(), 4);
    assert_eq!(
        json!([
            lat["us-west-2"]["requests"],
            lat["us-west-2"]["calls"],
            lat["us-west-2"]["p50_ms"],
            lat["us-west-2"]["coverage"]
        ]),
        json!([0, 1, null, 0.0])
    );
    let calls: u64 = lat.values().map(|r| r["calls"].as_u64().unwrap()).sum();
    assert_eq!(calls, 8);
    let row = |r: &serde_json::Value| json!([r["requests"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["calls"]]);
    assert_eq!(row(lat["eu-west-1"]), json!([2, 250, 1500, 1500, 3]));
    assert_eq!(row(lat["us-east-1"]), json!([2, 700, 9000, 9000, 2]));
    assert_eq!(row(lat["us-east-2"]), json!([2, 3000, 20000, 20000, 2]));
    assert_close(&lat["eu-west-1"]["mean_ms"], 875.0, "mean");
    assert_close(&lat["eu-west-1"]["coverage"], 2.0 / 3.0, "coverage");

    let tok = by_key(&s["tokens"]["by_model"], &["model"]);
    let t = |m: &str| {
        let r = tok[m];
        [
            r["requests"].as_u64().unwrap(),
            r["input"].as_u64().unwrap(),
            r["output"].as_u64().unwrap(),
            r["cache_read"].as_u64().unwrap(),
            r["cache_write"].as_u64().unwrap(),
        ]
    };
    assert_eq!(tok.len(), 7);
    assert_eq!(t("anthropic.claude-3-haiku-20240307-v1:0"), [3, 70, 160, 3000, 7]);
    assert_eq!(t("anthropic.claude-sonnet-4-5-20250929-v1:0"), [2, 200, 400, 10000, 0]);
    assert_eq!(t("anthropic.claude-sonnet-4-20250514-v1:0"), [1, 4, 1000, 0, 20000]);
    assert_eq!(t("amazon.titan-embed-text-v2:0"), [1, 8, 0, 0, 0]);

    let cost = &s["cost"];
    assert_close(&cost["total"], 0.11141631, "total");
    assert_eq!(cost["unpriced_requests"], 0);
    let cm = by_key(&cost["by_model"], &["model"]);
    assert_close(
        &cm["anthropic.claude-sonnet-4-20250514-v1:0"]["usd"],
        0.090012,
        "app profile: cache write priced on its own",
    );
    assert_close(
        &cm["anthropic.claude-sonnet-4-5-20250929-v1:0"]["usd"],
        0.0096,
        "global tier; failed call costs nothing",
    );
    assert_close(&cm["anthropic.claude-3-haiku-20240307-v1:0"]["usd"], 0.00022 + 0.00047875, "haiku");
    let tags = by_key(&cost["by_tag"], &["key", "value"]);
    assert_eq!(tags.len(), 5, "{tags:?}");
    assert_close(&tags["env|prod"]["usd"], 0.090012, "env=prod");
    assert_close(&tags["env|(untagged)"]["usd"], 0.02140431, "env untagged");
    assert_close(&tags["team|search"]["usd"], 0.090012, "team=search");
    assert_close(&tags["team|support"]["usd"], 0.00047875, "team=support");
    assert_close(&tags["team|(untagged)"]["usd"], 0.02092556, "team untagged");
    assert_eq!(tags["team|(untagged)"]["requests"], 8);

    let res = &s["residency"];
    assert_eq!(
        (res["violations"].as_u64(), res["unverifiable"].as_u64(), res["checked"].as_u64()),
        (Some(2), Some(2), Some(10))
    );
    let rs = by_key(&res["by_source_region"], &["source_region"]);
    let v = |r: &serde_json::Value| {
        [r["checked"].as_u64().unwrap(), r["violations"].as_u64().unwrap(), r["unverifiable"].as_u64().unwrap()]
    };
    assert_eq!(v(rs["eu-central-1"]), [1, 0, 1]);
    assert_eq!(v(rs["eu-west-1"]), [3, 0, 0]);
    assert_eq!(v(rs["us-east-1"]), [3, 1, 1]);
    assert_eq!(v(rs["us-west-2"]), [3, 1, 0]);

    assert_eq!(s["errors"]["by_code"], json!([{"error_code": "ModelTimeoutException", "requests": 1}]));
}

#[test]
fn check_lists_violations_and_exits_1() {
    let r = mila(&[
        "check",
        "--policy",
        &fx("shapes.policy.toml"),
        &fx("shapes"),
        "--profiles",
        &fx("shapes.profiles.toml"),
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "request_id,timestamp,source_region,inference_region,model_id,identity_arn,caller_kind");
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with("req-global-rerouted,2026-11-10T08:05:00.250Z,us-west-2,us-east-2,global.anthropic"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("req-app-sidecar,2026-11-10T12:00:00Z,us-east-1,us-east-2,arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/fixtureprof1,"), "{}", lines[2]);
    assert!(r.stderr.contains("2 violations, 2 unverifiable"), "{}", r.stderr);

    let j = mila(&["check", "--policy", &fx("shapes.policy.toml"), &fx("shapes"), "--format", "json"]);
    assert_eq!(j.code, 1);
    assert_eq!(j.json().as_array().unwrap().len(), 2);

    // Only EU records: no violations, exit 0; with --fail-on-unverifiable the unknown one fails.
    let eu = mila(&[
        "check",
        "--policy",
        &fx("shapes.policy.toml"),
        &fx("shapes/failed_call.jsonl"),
        &fx("shapes/guardrail.jsonl"),
    ]);
    assert_eq!((eu.code, eu.stdout.as_str()), (0, ""), "{}", eu.stderr);
    let strict = mila(&[
        "check",
        "--policy",
        &fx("shapes.policy.toml"),
        &fx("shapes/failed_call.jsonl"),
        "--fail-on-unverifiable",
    ]);
    assert_eq!(strict.code, 1);
}

#[test]
fn reports_written_to_out_agree_with_stdout_and_leak_no_bodies() {
    let dir = tempdir();
    let out = dir.path().join("rep");
    let r = report_with(&["--out", &out.display().to_string()]);
    let written = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(written, r.stdout);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for section in [
        "## Rerouting by source region",
        "## Source x inference region",
        "## Latency by inference region",
        "## Tokens by model",
        "## Cost by model",
        "## Cost by tag",
        "## Residency",
        "## Invocation errors by code",
        "## Rejected lines",
    ] {
        assert!(md.contains(section), "report.md lacks {section}");
    }
    assert!(md.contains("| us-west-2 | 3 | 1 | 2 | 0 | 66.7% |"), "{md}");
    assert!(md.contains("| team | search | 1 | 4 | 1000 | 20000 | 0 | $0.0900 | 0 |"), "{md}");
    for text in [&md, &written] {
        assert!(!text.contains("SECRET"), "a body leaked into a report");
    }
}

/// The shipped queries run under polars SQL and give the hand-checked answers on the fixtures.
#[test]
fn shipped_queries_run() {
    let query = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").join(name);
        ok(&["query", &path.display().to_string(), &fx("shapes"), "--format", "json"]).json()
    };
    assert_eq!(
        query("error_codes_by_model.sql"),
        json!([{"model": "anthropic.claude-sonnet-4-5-20250929-v1:0", "error_code": "ModelTimeoutException", "requests": 1}])
    );
    let top = query("top_identities_by_tokens.sql");
    assert_eq!(top.as_array().unwrap().len(), 10);
    assert_eq!(top[0]["identity_arn"], "arn:aws:sts::111122223333:assumed-role/CodingAgent/u-1");
    assert_eq!(top[0]["total_tokens"], 1500);
    let hourly = query("hourly_requests_by_inference_region.sql");
    let hourly = by_key(&hourly, &["day", "hour", "inference_region"]);
    assert_eq!(hourly.len(), 10, "{hourly:?}");
    assert_eq!(
        (hourly["2026-11-10|8|us-east-2"]["requests"].as_u64(), hourly["2026-11-10|8|us-east-2"]["rerouted"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(hourly["2026-11-10|9|null"]["requests"], 1);
    let by_model = query("rerouting_by_model.sql");
    let by_model = by_key(&by_model, &["model", "model_id_kind"]);
    assert_eq!(by_model.len(), 6, "{by_model:?}"); // application profiles unresolved without --profiles
    assert_eq!(by_model["anthropic.claude-sonnet-4-5-20250929-v1:0|global-profile"]["rerouted"], 1);
    assert_eq!(by_model["anthropic.claude-sonnet-4-5-20250929-v1:0|geo-profile"]["unknown"], 1);
}

/// A query builds only the columns it names (src/local_sql.rs `columns`): its answer is the one
/// `SELECT *` gives, and an unknown column is reported with every column of `invocations`, as
/// when all were built.
#[test]
fn a_query_that_names_few_columns_answers_as_over_all_of_them() {
    let dir = tempdir();
    let write = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, sql).unwrap();
        path.display().to_string()
    };
    let few =
        write("few.sql", "SELECT model, sum(input_tokens) AS input FROM invocations GROUP BY model ORDER BY model");
    let all = write(
        "all.sql",
        "SELECT model, sum(input_tokens) AS input FROM (SELECT * FROM invocations) t GROUP BY model ORDER BY model",
    );
    let answer = |path: &str| ok(&["query", path, &fx("shapes"), "--format", "json"]).json();
    assert_eq!(answer(&few), answer(&all));
    assert!(answer(&few).as_array().is_some_and(|rows| rows.len() > 1), "{}", answer(&few));

    // Over a store a query reads only the day files' columns it needs (and those every row
    // needs: time, id, kind, and what the model and route are resolved from): the same answers.
    let store = dir.path().join("store");
    ok(&["ingest", &fx("shapes"), "--store", store.to_str().unwrap()]);
    for sql in [
        few.clone(),
        all.clone(),
        write("count.sql", "SELECT count(*) AS n FROM invocations"),
        write(
            "resolved.sql",
            "SELECT model, model_id_kind, route, count(*) AS n, sum(output_tokens) AS o FROM invocations \
             GROUP BY model, model_id_kind, route ORDER BY model, model_id_kind, route",
        ),
        write(
            "callers.sql",
            "SELECT identity_arn, request_metadata, count(*) AS n, sum(latency_ms) AS l FROM invocations \
             GROUP BY identity_arn, request_metadata ORDER BY identity_arn, request_metadata",
        ),
    ] {
        let from_store = ok(&["query", &sql, "--store", store.to_str().unwrap(), "--format", "json"]).json();
        assert_eq!(from_store, answer(&sql), "{sql}");
    }

    let unknown = write("unknown.sql", "SELECT nosuch FROM invocations");
    let r = mila(&["query", &unknown, &fx("shapes")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let listed = format!("valid columns: [{}]", COLUMNS.map(|c| format!("\"{c}\"")).join(", "));
    assert!(r.stderr.contains("unable to find column \"nosuch\"") && r.stderr.contains(&listed), "{}", r.stderr);
}

/// The columns of `invocations` (contract section 5), in order.
const COLUMNS: [&str; 26] = [
    "timestamp",
    "request_id",
    "account_id",
    "identity_arn",
    "source_region",
    "operation",
    "model_id",
    "model_id_kind",
    "model",
    "route",
    "inference_region",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "latency_ms",
    "first_byte_ms",
    "error_code",
    "stop_reason",
    "request_metadata",
    "service_tier",
    "body_in_s3",
    "recorded_by",
    "max_tokens",
    "bearer_token",
];
