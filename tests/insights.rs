//! The Logs Insights engine (`--engine insights`) on the real wire protocol. Its query runner:
//! moto for what it serves (StartQuery and GetQueryResults of `fields`/`sort`/`limit` queries over
//! real events), and a loopback server answering in the API's shape for what it does not
//! (statuses other than Complete, statistics, result pages, StopQuery, the account's limit on
//! concurrent queries). Shapes from the CloudWatch Logs API reference: StartQuery
//! (`logGroupNames`, `logGroupIdentifiers`, `startTime`, `endTime`, `queryString`, `limit` ->
//! `queryId`), GetQueryResults (`queryId`, `nextToken` -> `results` of `{field, value}`,
//! `statistics` {`recordsMatched`, `recordsScanned`, `bytesScanned`}, `status` of Scheduled |
//! Running | Complete | Failed | Cancelled | Timeout | Unknown, `nextToken`), StopQuery
//! (`queryId` -> `success`); errors name their type in `__type` (awsJson1_1). The engine: reports
//! and checks against the local engine's over the same events, with a loopback Logs Insights that
//! runs mila's queries through `common/insights_eval.rs` (the QL reference's commands, functions and
//! field discovery), at a row limit that splits every query again and again.

mod common;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::replay::{Replay, Request, Response};
use common::{aws, mila, tempdir, TempDir};
use mila::engine::insights::client::{self, InsightsError, Rows, Running, Settings};
use mila::engine::insights::ql::Query;
use mila::engine::insights::split::{Bounds, Outcome, Span};
use mila::engine::insights::{ask, AskCause};
use serde_json::{json, Value};

// 2026-11-09T00:00:00Z.
const MONDAY: i64 = 1_794_182_400;
const GROUP: &str = "/aws/bedrock/modelinvocations";

fn settings(limit: usize, timeout: Duration) -> Settings {
    Settings { aws: mila::source::aws::AwsSettings::default(), log_groups: vec![GROUP.to_string()], limit, timeout }
}

fn op(r: &Request) -> &str {
    r.operation.trim_start_matches("Logs_20140328.")
}

fn body(r: &Request) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

fn ok(v: Value) -> Response {
    (200, v.to_string())
}

fn error(kind: &str, message: &str) -> Response {
    (400, json!({"__type": kind, "message": message}).to_string())
}

fn row(fields: &[(&str, &str)]) -> Value {
    Value::Array(fields.iter().map(|(f, v)| json!({"field": f, "value": v})).collect())
}

fn run_one(server: &Replay, s: &Settings, span: Span) -> Result<Outcome<Rows>, InsightsError> {
    let logs = aws::logs_at(&server.url);
    aws::block_on(client::query(
        &logs,
        s,
        "stats count(*) as requests by datefloor(@timestamp, 1d) as day",
        span,
        &Running::default(),
    ))
}

#[test]
fn a_query_is_polled_until_complete_and_read_page_by_page() {
    let polls = Arc::new(Mutex::new(0));
    let server = Replay::start(move |r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        "GetQueryResults" if body(r)["nextToken"] == "page-2" => ok(json!({
            "status": "Complete",
            "results": [row(&[("day", "2026-11-10 00:00:00.000"), ("requests", "4")])],
        })),
        "GetQueryResults" => {
            let mut n = polls.lock().unwrap();
            *n += 1;
            if *n < 3 {
                ok(json!({"status": if *n == 1 { "Scheduled" } else { "Running" }, "results": []}))
            } else {
                ok(json!({
                    "status": "Complete",
                    "results": [row(&[("day", "2026-11-09 00:00:00.000"), ("requests", "3"), ("@ptr", "CmAKJgoi")])],
                    "statistics": {"recordsMatched": 7.0, "recordsScanned": 10.0, "bytesScanned": 2048.0},
                    "nextToken": "page-2",
                }))
            }
        }
        _ => error("InvalidParameterException", "unexpected operation"),
    });
    let span = Span { start: MONDAY, end: MONDAY + 2 * 86_400 };
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), span).unwrap();
    let text = |pairs: &[(&str, &str)]| pairs.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect::<Vec<_>>();
    assert_eq!(
        got,
        Outcome::Rows(Rows {
            rows: vec![
                text(&[("day", "2026-11-09 00:00:00.000"), ("requests", "3")]),
                text(&[("day", "2026-11-10 00:00:00.000"), ("requests", "4")]),
            ],
            bytes_scanned: 2048,
            records_matched: 7,
        })
    );
    let requests = server.requests();
    let ops: Vec<&str> = requests.iter().map(op).collect();
    assert_eq!(ops, ["StartQuery", "GetQueryResults", "GetQueryResults", "GetQueryResults", "GetQueryResults"]);
    assert_eq!(requests[0].service, "logs");
    let start = body(&requests[0]);
    assert_eq!(start["logGroupNames"], json!([GROUP]));
    assert_eq!(start["startTime"], json!(MONDAY));
    // Both ends are included by StartQuery; the query keeps `@timestamp < end` itself.
    assert_eq!(start["endTime"], json!(MONDAY + 2 * 86_400));
    assert_eq!(start["limit"], json!(100));
    assert_eq!(start["queryString"], json!("stats count(*) as requests by datefloor(@timestamp, 1d) as day"));
}

#[test]
fn arns_go_as_log_group_identifiers() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": []})),
    });
    let mut s = settings(100, Duration::from_secs(30));
    s.log_groups = vec![GROUP.into(), "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/bedrock/eu".into()];
    let got = run_one(&server, &s, Span { start: MONDAY, end: MONDAY + 60 }).unwrap();
    assert_eq!(got, Outcome::Rows(Rows::default()));
    let start = body(&server.requests()[0]);
    assert_eq!(start["logGroupIdentifiers"], json!(s.log_groups));
    assert!(start.get("logGroupNames").is_none(), "{start}");
}

#[test]
fn a_full_result_says_so_instead_of_passing_for_the_answer() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": [row(&[("n", "1")]), row(&[("n", "2")])]})),
    });
    let got = run_one(&server, &settings(2, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::Full);
}

#[test]
fn a_query_that_never_finishes_is_stopped_at_the_timeout() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-slow"})),
        "GetQueryResults" => ok(json!({"status": "Running", "results": []})),
        "StopQuery" => ok(json!({"success": true})),
        _ => error("InvalidParameterException", "unexpected operation"),
    });
    let got = run_one(&server, &settings(100, Duration::from_millis(400)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::TimedOut);
    let requests = server.requests();
    let stop = requests.iter().find(|r| op(r) == "StopQuery").expect("StopQuery sent");
    assert_eq!(body(stop)["queryId"], "q-slow");
    assert_eq!(op(requests.last().unwrap()), "StopQuery");
}

#[test]
fn service_statuses_end_a_query_as_they_say() {
    for (status, want) in [
        ("Cancelled", Ok(Outcome::Cancelled)),
        ("Timeout", Ok(Outcome::TimedOut)),
        (
            "Failed",
            Err("Logs Insights query q-1 over 2026-11-09T00:00:00Z .. 2026-11-09T00:01:00Z failed (status Failed)"
                .to_string()),
        ),
    ] {
        let server = Replay::start(move |r| match op(r) {
            "StartQuery" => ok(json!({"queryId": "q-1"})),
            "GetQueryResults" => ok(json!({"status": status, "results": []})),
            // A query that has ended cannot be stopped.
            _ => error("InvalidParameterException", "query is not running"),
        });
        let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
        assert_eq!(got.map_err(|e| e.to_string()), want, "{status}");
    }
}

#[test]
fn the_accounts_limit_on_running_queries_is_waited_out() {
    let refused = Arc::new(Mutex::new(0));
    let server = Replay::start(move |r| match op(r) {
        "StartQuery" => {
            let mut n = refused.lock().unwrap();
            *n += 1;
            if *n <= 2 {
                error("LimitExceededException", "You have reached the maximum number of concurrent queries")
            } else {
                ok(json!({"queryId": "q-1"}))
            }
        }
        _ => ok(json!({"status": "Complete", "results": [row(&[("requests", "5")])]})),
    });
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert!(matches!(got.unwrap(), Outcome::Rows(r) if r.rows.len() == 1));
    assert_eq!(server.requests().iter().filter(|r| op(r) == "StartQuery").count(), 3);
}

#[test]
fn a_result_page_that_repeats_is_an_error_not_a_loop() {
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => ok(json!({"status": "Complete", "results": [row(&[("n", "1")])], "nextToken": "again"})),
    });
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(
        got.unwrap_err().to_string(),
        "GetQueryResults: page 2 handed back a page token already used; the listing would never end"
    );
}

#[test]
fn pages_past_a_full_result_are_not_read() {
    // Every page holds a row and hands out a new token, for ever: once the rows reach the limit
    // the result is full and no further page is asked for.
    let server = Replay::start(|r| match op(r) {
        "StartQuery" => ok(json!({"queryId": "q-1"})),
        _ => {
            let n = body(r)["nextToken"].as_str().map_or(0, |t| t.trim_start_matches("page-").parse::<u64>().unwrap());
            ok(
                json!({"status": "Complete", "results": [row(&[("n", &n.to_string())])], "nextToken": format!("page-{}", n + 1)}),
            )
        }
    });
    let got = run_one(&server, &settings(3, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    assert_eq!(got.unwrap(), Outcome::Full);
    let reads = server.requests().iter().filter(|r| op(r) == "GetQueryResults").count();
    assert_eq!(reads, 3, "the first page and two more, then the limit of 3 rows is reached");
}

#[test]
fn access_denied_names_the_permission_and_the_log_group() {
    let server = Replay::start(|_| error("AccessDeniedException", "User is not authorized to perform logs:StartQuery"));
    let got = run_one(&server, &settings(100, Duration::from_secs(30)), Span { start: MONDAY, end: MONDAY + 60 });
    let message = got.unwrap_err().to_string();
    assert!(message.starts_with(&format!("log group {GROUP}: AccessDeniedException")), "{message}");
    assert!(
        message.ends_with(&format!("; the credentials in use lack logs:StartQuery on log group {GROUP}")),
        "{message}"
    );
}

/// A log group with one event a second: a query's result has a row per minute of its range,
/// as `stats count(*) by bin(1m)` would.
fn minutes() -> Query {
    Query { name: "minutes", body: "\n| stats count(*) as requests by bin(1m) as minute".into() }
}

fn per_minute_server(stuck_after: Option<i64>) -> Replay {
    let windows: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
    let polled: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    Replay::start(move |r| {
        let b = body(r);
        match op(r) {
            "StartQuery" => {
                let (start, end) = (b["startTime"].as_i64().unwrap(), b["endTime"].as_i64().unwrap());
                // Named by its window (seconds from Monday): queries start in any order.
                let id = format!("q-{}-{}", start - MONDAY, end - MONDAY);
                windows.lock().unwrap().insert(id.clone(), (start, end));
                ok(json!({"queryId": id}))
            }
            "GetQueryResults" => {
                let (start, end) = windows.lock().unwrap()[b["queryId"].as_str().unwrap()];
                // From `stuck_after` on, a query never finishes; before it, one of four minutes
                // or less fails: see the test.
                if let Some(at) = stuck_after {
                    if start >= at {
                        return ok(json!({"status": "Running", "results": []}));
                    }
                    // Not at once: the other query has started well before this one fails.
                    let mut polls = polled.lock().unwrap();
                    let n = polls.entry(b["queryId"].as_str().unwrap().to_string()).or_insert(0);
                    *n += 1;
                    if end - start <= 240 && *n < 3 {
                        return ok(json!({"status": "Running", "results": []}));
                    }
                    if end - start <= 240 {
                        return ok(json!({"status": "Failed", "results": []}));
                    }
                }
                let rows: Vec<Value> =
                    (start..end).step_by(60).map(|m| row(&[("minute", &m.to_string()), ("requests", "60")])).collect();
                ok(
                    json!({"status": "Complete", "results": rows, "statistics": {"bytesScanned": 100.0 * (end - start) as f64}}),
                )
            }
            "StopQuery" => ok(json!({"success": true})),
            _ => error("InvalidParameterException", "unexpected operation"),
        }
    })
}

#[test]
fn a_busy_window_is_split_over_the_wire_and_every_minute_comes_back_once() {
    // Eight minutes, a row each, against a limit of 3 rows: 8 -> 4 + 4 -> 2 + 2 + 2 + 2.
    let server = per_minute_server(None);
    let logs = aws::logs_at(&server.url);
    let window = Span { start: MONDAY, end: MONDAY + 480 };
    let got = aws::block_on(ask(
        &logs,
        &settings(3, Duration::from_secs(30)),
        &minutes(),
        vec![window],
        Bounds { concurrency: 2, max_queries: 100 },
    ))
    .unwrap();
    // The full results of the whole window and its halves scanned too: billed, so counted.
    assert_eq!(got.discarded, 100 * (480 + 240 + 240));
    let got = got.split;
    assert_eq!((got.queries, got.splits, got.parts.len()), (7, 3, 4));
    let minutes: Vec<i64> =
        got.parts.iter().flat_map(|(_, r)| r.rows.iter().map(|row| row[0].1.parse::<i64>().unwrap())).collect();
    assert_eq!(minutes, (0..8).map(|m| MONDAY + 60 * m).collect::<Vec<_>>());
    assert_eq!(got.parts.iter().map(|(_, r)| r.bytes_scanned).sum::<u64>(), 4 * 100 * 120);
}

#[test]
fn when_a_question_fails_the_queries_still_running_are_stopped() {
    // The first half of the split fails, the second never finishes: the question ends with
    // the failure, and the running query is stopped.
    let server = per_minute_server(Some(MONDAY + 240));
    let logs = aws::logs_at(&server.url);
    let window = Span { start: MONDAY, end: MONDAY + 480 };
    let err = aws::block_on(ask(
        &logs,
        &settings(3, Duration::from_secs(30)),
        &minutes(),
        vec![window],
        Bounds { concurrency: 2, max_queries: 100 },
    ))
    .unwrap_err();
    assert!(matches!(err.cause, AskCause::Split(_)), "{err}");
    assert_eq!(err.stopped, ["q-240-480"]);
    assert_eq!(
        err.to_string(),
        "Logs Insights query q-0-240 over 2026-11-09T00:00:00Z .. 2026-11-09T00:04:00Z failed (status Failed); stopped 1 running query (q-240-480)"
    );
    let stops: Vec<Value> = server.requests().iter().filter(|r| op(r) == "StopQuery").map(body).collect();
    assert_eq!(stops, [json!({"queryId": "q-240-480"})]);
}

#[test]
fn moto_runs_a_fields_query_over_real_events() {
    // moto's Logs Insights runs `fields`, `sort` and `limit` only: enough for the protocol over
    // events put in with PutLogEvents.
    let group = "/mila/insights/fields";
    // Within the last hour: CloudWatch Logs (and moto) refuse events older than 14 days.
    let hour_ago =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 3600) / 60 * 60;
    let records: Vec<(i64, String)> =
        (0..5).map(|i| ((hour_ago + 60 * i) * 1000 + 500, format!("{{\"requestId\":\"r-{i}\"}}"))).collect();
    aws::put_events(group, &records);
    let logs = aws::logs();
    let mut s = settings(100, Duration::from_secs(30));
    s.log_groups = vec![group.to_string()];
    let span = Span { start: hour_ago, end: hour_ago + 3600 };
    let got =
        aws::block_on(client::query(&logs, &s, "fields @message | sort @timestamp asc", span, &Running::default()));
    let Outcome::Rows(rows) = got.unwrap() else { panic!("not complete") };
    let messages: Vec<&str> =
        rows.rows.iter().map(|r| r.iter().find(|(f, _)| f == "@message").map(|(_, v)| v.as_str()).unwrap()).collect();
    assert_eq!(messages, records.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>());
    // Five events against a limit of five: full, to be split.
    s.limit = 5;
    let got = aws::block_on(client::query(&logs, &s, "fields @message", span, &Running::default()));
    assert_eq!(got.unwrap(), Outcome::Full);
}

// ---------------------------------------------------------------------------------------------
// `report --engine insights` and `check --engine insights` against the local engine, over the same
// events: a loopback Logs Insights that runs mila's queries with the evaluator of
// `common/insights_eval.rs`.

#[path = "common/insights_eval.rs"]
#[allow(dead_code)]
mod insights_eval;

use insights_eval::Event;

/// A Logs Insights over `events`: StartQuery runs the query at once over the events of its
/// range (both ends included, whole seconds), keeping at most `limit` rows, with bytesScanned the
/// events' bytes; GetQueryResults answers Complete, 1,000 rows a page.
fn insights_over(events: Vec<Event>, groups: Vec<String>) -> Replay {
    type Done = (Vec<Vec<(String, String)>>, u64);
    let done: Arc<Mutex<BTreeMap<String, Done>>> = Arc::default();
    let events = Arc::new(events);
    Replay::start(move |r| {
        let b = body(r);
        match op(r) {
            "StartQuery" => {
                let named: Vec<String> = b["logGroupNames"]
                    .as_array()
                    .or(b["logGroupIdentifiers"].as_array())
                    .map(|a| a.iter().map(|g| g.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default();
                if named != groups {
                    return error("ResourceNotFoundException", "no such log group");
                }
                let (start, end) =
                    (b["startTime"].as_i64().unwrap() * 1000, b["endTime"].as_i64().unwrap() * 1000 + 999);
                let inside: Vec<&Event> = events.iter().filter(|e| e.ts_ms >= start && e.ts_ms <= end).collect();
                let mut rows = insights_eval::run(b["queryString"].as_str().unwrap(), &inside);
                rows.truncate(b["limit"].as_u64().unwrap_or(10_000) as usize);
                // No result may carry an event's text (its prompt and completion) back to mila.
                if rows.iter().flatten().any(|(f, _)| f == "m_json" || f.starts_with('@') && f != "@timestamp") {
                    return error("InvalidParameterException", "the result would carry the events' text");
                }
                let bytes = inside.iter().map(|e| e.message.len() as u64).sum();
                let mut done = done.lock().unwrap();
                let id = format!("q{}", done.len());
                done.insert(id.clone(), (rows, bytes));
                ok(json!({"queryId": id}))
            }
            "GetQueryResults" => {
                let done = done.lock().unwrap();
                let (rows, bytes) = &done[b["queryId"].as_str().unwrap()];
                let from: usize = b["nextToken"].as_str().map_or(0, |t| t.parse().unwrap());
                let page: Vec<Value> = rows
                    .iter()
                    .skip(from)
                    .take(1000)
                    .map(|r| Value::Array(r.iter().map(|(f, v)| json!({"field": f, "value": v})).collect()))
                    .collect();
                let mut out = json!({"status": "Complete", "results": page, "statistics": {"bytesScanned": *bytes as f64, "recordsMatched": 0.0}});
                if from + 1000 < rows.len() {
                    out["nextToken"] = json!((from + 1000).to_string());
                }
                ok(out)
            }
            "StopQuery" => ok(json!({"success": true})),
            _ => error("InvalidParameterException", "unexpected operation"),
        }
    })
}

const PERCENTILES_BY_REGION: [&str; 4] = ["p50_ms", "p90_ms", "p99_ms", "first_byte_p50_ms"];
const PERCENTILES_BY_ROUTE: [&str; 4] = ["local_p50_ms", "local_p90_ms", "rerouted_p50_ms", "rerouted_p90_ms"];

const SINCE: &str = "2026-11-09T00:00:00Z";
const UNTIL: &str = "2026-11-16T00:00:00Z";

/// A Converse record with its own fields.
fn converse(ts: &str, id: &str, extra: Value) -> Value {
    let mut v = json!({
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": ts, "accountId": "123456789012",
        "region": "us-east-1", "requestId": id, "operation": "Converse",
        "modelId": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": []}, "inputTokenCount": 100},
        "output": {"outputContentType": "application/json", "outputBodyJson": {"metrics": {"latencyMs": 700}, "stopReason": "end_turn"}, "outputTokenCount": 20},
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/App/one"},
        "inferenceRegion": "us-west-2",
        "requestMetadata": {"application_name": "Edge"}
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        for (k, x) in e {
            o.insert(k, x);
        }
    }
    v
}

/// A record's text with its keys in the order Bedrock writes them (serde_json's `Value` sorts
/// them): the bodies before the counts, the caller, the metadata and the inference region.
fn in_bedrock_order(v: &Value) -> String {
    let order = [
        "schemaType",
        "schemaVersion",
        "timestamp",
        "accountId",
        "region",
        "requestId",
        "operation",
        "modelId",
        "input",
        "output",
        "requestMetadata",
        "identity",
        "inferenceRegion",
    ];
    let part = |k: &str, x: &Value| -> String {
        let inner = match (k, x) {
            ("input", Value::Object(o)) | ("output", Value::Object(o)) => {
                // Content type, body, then the counts.
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort_by_key(|k| (!k.contains("ContentType"), !k.contains("Body"), k.to_string()));
                let items: Vec<String> = keys.iter().map(|k| format!("{}:{}", json!(k), o[*k])).collect();
                format!("{{{}}}", items.join(","))
            }
            _ => x.to_string(),
        };
        format!("{}:{inner}", json!(k))
    };
    let items: Vec<String> = order.iter().filter_map(|k| v.get(*k).map(|x| part(k, x))).collect();
    assert_eq!(items.len(), v.as_object().unwrap().len(), "every key has its place");
    format!("{{{}}}", items.join(","))
}

/// The equality corpus: the sample's week, with what only Insights reads differently: a
/// conversation of 300 turns (past the 200 fields Insights discovers, with its inference region,
/// caller, metadata and counts after it), service tiers, a request delivered three times, events
/// that are not JSON and JSON from another source.
fn corpus() -> (TempDir, Vec<(i64, String)>) {
    let dir = tempdir();
    let out = dir.path().join("sample");
    let run = mila(&["sample", "--out", out.to_str().unwrap(), "--records", "1500", "--start", "2026-11-09"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut events = aws::records(&out);
    let turns: Vec<Value> =
        (0..300).map(|i| json!({"role": "user", "content": [{"text": format!("turn {i}")}]})).collect();
    let mut long = converse("2026-11-12T10:00:00Z", "long-1", json!({}));
    long["input"]["inputBodyJson"] = json!({"messages": turns});
    long["inferenceRegion"] = json!("us-east-2");
    long["input"]["inputTokenCount"] = json!(90_000);
    // Issue 27: with its cache reads, past 200,000 input tokens: priced at the long-context rows.
    long["input"]["cacheReadInputTokenCount"] = json!(110_001);
    let priority = converse(
        "2026-11-12T11:00:00.250Z",
        "tier-1",
        json!({"output": {"outputBodyJson": {"metrics": {"latencyMs": 300}, "serviceTier": {"type": "priority"}}, "outputTokenCount": 5}}),
    );
    let optimized = converse(
        "2026-11-12T11:00:30Z",
        "tier-2",
        json!({"output": {"outputBodyJson": {"metrics": {"latencyMs": 200}, "performanceConfig": {"latency": "optimized"}}, "outputTokenCount": 6}}),
    );
    let twice = converse("2026-11-13T09:30:00Z", "again-1", json!({}));
    // Issue 26: an operation mila does not know, counted from its OpenAI usage (no counts
    // logged), with its most output tokens; and an absurd maxTokens, which counts as none.
    let openai = converse(
        "2026-11-12T11:01:00Z",
        "openai-1",
        json!({"operation": "ChatCompletions", "modelId": "openai.gpt-oss-120b-1:0", "inferenceRegion": "us-east-1",
               "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": [], "max_completion_tokens": 300}},
               "output": {"outputContentType": "application/json", "outputBodyJson": {"id": "chatcmpl-1", "choices": [],
                   "usage": {"prompt_tokens": 120, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 100}}}}}),
    );
    let absurd = converse(
        "2026-11-12T11:02:00Z",
        "max-absurd-1",
        json!({"input": {"inputContentType": "application/json",
               "inputBodyJson": {"messages": [], "inferenceConfig": {"maxTokens": 1_000_000_000_000_000u64}}, "inputTokenCount": 100}}),
    );
    // Issue 27: Converse's cache-write split in `usage.cacheDetails`.
    let details = converse(
        "2026-11-12T11:03:00Z",
        "details-1",
        json!({"input": {"inputContentType": "application/json", "inputBodyJson": {"messages": []}, "inputTokenCount": 100, "cacheWriteInputTokenCount": 2000},
               "output": {"outputContentType": "application/json", "outputBodyJson": {"metrics": {"latencyMs": 700}, "stopReason": "end_turn",
                   "usage": {"cacheDetails": [{"inputTokens": 500, "ttl": "1h"}, {"inputTokens": 1500, "ttl": "5m"}]}}, "outputTokenCount": 20}}),
    );
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis();
    for v in [&long, &priority, &optimized, &twice, &twice, &twice, &openai, &absurd, &details] {
        events.push((at(v["timestamp"].as_str().unwrap()), in_bedrock_order(v)));
    }
    events.push((at("2026-11-12T12:00:00Z"), "START RequestId: 1f0e Version: $LATEST".to_string()));
    events.push((
        at("2026-11-12T12:00:01Z"),
        json!({"level": "info", "msg": "another source", "requestId": "x"}).to_string(),
    ));
    events.sort_by_key(|e| e.0);
    let lines: String = events.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("events.jsonl"), lines).unwrap();
    (dir, events)
}

/// The equality corpus, and a loopback Logs Insights serving it as the events of `GROUP`.
fn served_corpus() -> (TempDir, Vec<(i64, String)>, Replay) {
    let (dir, events) = corpus();
    let server = insights_over(
        events.iter().map(|(t, m)| Event { ts_ms: *t, message: m.clone() }).collect(),
        vec![GROUP.to_string()],
    );
    (dir, events, server)
}

/// summary.json without what differs by engine and is compared on its own: the engine section,
/// the percentiles (approximate on Logs Insights), and the reasons lines were not read (Logs
/// Insights cannot say why).
fn comparable(run: &common::Run) -> Value {
    let mut v = run.json();
    let o = v.as_object_mut().unwrap();
    o.remove("engine");
    if let Some(latency) = o.get_mut("latency").and_then(Value::as_object_mut) {
        latency.remove("percentiles");
        for row in latency["by_inference_region"].as_array_mut().unwrap() {
            for k in PERCENTILES_BY_REGION {
                row.as_object_mut().unwrap().remove(k);
            }
        }
        for row in latency["local_vs_rerouted"].as_array_mut().unwrap() {
            for k in PERCENTILES_BY_ROUTE {
                row.as_object_mut().unwrap().remove(k);
            }
        }
    }
    let input = o.get_mut("input").unwrap().as_object_mut().unwrap();
    input.remove("rejects");
    input.remove("units_read");
    input.remove("skipped_examples");
    o.get_mut("records").unwrap().as_object_mut().unwrap().remove("skipped_objects");
    v
}

#[test]
fn insights_report_equals_the_local_report() {
    let (dir, events, server) = served_corpus();
    let group = GROUP;
    let common =
        ["--since", SINCE, "--until", UNTIL, "--by-metadata", "application_name", "--format", "json", "--quiet"];
    let file = dir.path().join("events.jsonl").display().to_string();
    let mut local_args = vec!["report", file.as_str()];
    local_args.extend(common);
    let local = aws::mila_at(&server.url, &local_args);
    assert_eq!(local.code, 0, "{}", local.stderr);
    let source = format!("cloudwatch:{group}");
    // A limit of 40 rows: the week's minutes are split again and again, down to windows of a few hours.
    let mut insights_args = vec!["report", "--engine", "insights", &source, "--insights-limit", "40", "--out"];
    let out_dir = tempdir();
    let out = out_dir.path().display().to_string();
    insights_args.push(&out);
    insights_args.extend(common);
    let insights = aws::mila_at(&server.url, &insights_args);
    assert_eq!(insights.code, 0, "{}", insights.stderr);

    let mut diff = Vec::new();
    common::differences(&comparable(&insights), &comparable(&local), "", &mut diff);
    // Dollars added up in another order may differ in the last bits, never more.
    diff.retain(|d| {
        let (a, b) = d.rsplit_once(": ").map(|(_, v)| v).unwrap_or("").split_once(" vs ").unwrap_or(("", ""));
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) => (a - b).abs() > 1e-9 * a.abs().max(b.abs()),
            _ => true,
        }
    });
    assert!(diff.is_empty(), "summary.json differs:\n{}", diff.iter().take(40).cloned().collect::<Vec<_>>().join("\n"));

    // By hand: the sample's 1,506 lines (1,500 records, 6 of them delivered twice) and the 9
    // added (one three times) were read, 8 extra copies taken out; the 2 events that are no record
    // were not read.
    let i = insights.json();
    assert_eq!(i["records"]["lines"], 1517, "{}", i["records"]);
    assert_eq!((i["records"]["rejected"].as_u64(), i["records"]["duplicates"].as_u64()), (Some(2), Some(8)));
    assert_eq!(i["latency"]["percentiles"], "approximate");
    // The long conversation's inference region is past the fields Insights discovers: only the
    // expression over @message found it, and the local engine agrees on us-east-2's calls.
    let (_, long) = events.iter().find(|(_, m)| m.contains("long-1")).unwrap();
    assert!(!insights_eval::discover(long).contains_key("inferenceRegion"));
    assert!(insights_eval::discover(long).contains_key("requestId"));
    // Every query over the week split down to windows of at most 40 rows.
    let e = &i["engine"];
    assert_eq!(e["name"], "insights");
    assert_eq!(e["log_groups"], json!([group]));
    let (queries, windows, split) =
        (e["queries"].as_u64().unwrap(), e["windows"].as_u64().unwrap(), e["windows_split"].as_u64().unwrap());
    assert!(split > 100, "{e}");
    // Each split makes one query more than it keeps: queries = kept windows + split windows.
    assert_eq!(queries, windows + split, "{e}");
    // Billed: every query's bytes, the split ones' included.
    assert!(e["data_scanned_bytes"].as_u64().unwrap() > 8 * events.iter().map(|(_, m)| m.len() as u64).sum::<u64>());
    assert!(insights.stderr.contains("mila: Logs Insights ran"), "{}", insights.stderr);
    let md = std::fs::read_to_string(out_dir.path().join("report.md")).unwrap();
    assert!(md.contains(&format!("Computed by: Logs Insights over {GROUP} (")), "{md}");
    assert!(md.contains("Percentiles are approximate (Logs Insights' pct()"), "{md}");

    // Percentiles, at the default limit (no latency query is split): each against the latencies
    // the local engine reads for its row.
    let mut default_args = vec!["report", "--engine", "insights", &source];
    default_args.extend(common);
    let run = aws::mila_at(&server.url, &default_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let exact = latencies(&server.url, &file);
    let (mut same, mut all, mut worst) = (0, 0, 0.0f64);
    let mut check = |key: String, q: f64, got: &Value, want: &Value| {
        let (Some(got), Some(want)) = (got.as_i64(), want.as_i64()) else {
            assert_eq!(got.is_null(), want.is_null(), "{key} {q}: {got} vs {want}");
            return;
        };
        all += 1;
        same += usize::from(got == want);
        let data = exact.get(&key).unwrap_or_else(|| panic!("no latencies for {key}"));
        let n = data.len() as f64;
        let below = data.iter().filter(|&&v| v < got).count() as f64 / n;
        let at = data.iter().filter(|&&v| v <= got).count() as f64 / n;
        let err = (below - q).max(q - at).max(0.0);
        worst = worst.max(err);
        assert!(err <= RANK_TOLERANCE, "{key} p{q}: {got} (local {want}) is {err:.3} off in rank");
    };
    let (a, b) = (run.json(), local.json());
    for (x, y) in a["latency"]["by_inference_region"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["latency"]["by_inference_region"].as_array().unwrap())
    {
        let region = y["inference_region"].as_str().unwrap();
        for (k, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)] {
            check(format!("region {region}"), q, &x[k], &y[k]);
        }
        check(format!("first byte {region}"), 0.5, &x["first_byte_p50_ms"], &y["first_byte_p50_ms"]);
    }
    for (x, y) in a["latency"]["local_vs_rerouted"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["latency"]["local_vs_rerouted"].as_array().unwrap())
    {
        let (source, model) = (y["source_region"].as_str().unwrap(), y["model"].as_str().unwrap());
        for route in ["local", "rerouted"] {
            for (k, q) in [("p50_ms", 0.5), ("p90_ms", 0.9)] {
                let k = format!("{route}_{k}");
                check(format!("route {source} {model} {route}"), q, &x[&k], &y[&k]);
            }
        }
    }
    // On this corpus 157 of 218 are the local engine's own, the worst 0.167 off in rank.
    assert!(same * 10 >= all * 6 && worst > 0.0, "{same} of {all}, the worst {worst:.3} off");
}

/// The most a percentile of Logs Insights may be off, in rank, from the local engine's own: a
/// row of one group is Logs Insights' `pct()` of it; a row of several is read off the mixture of
/// their curves, each drawn through 9 points (min, p10, p25, p50, p75, p90, p95, p99, max).
const RANK_TOLERANCE: f64 = 0.25;

/// Every latency of successful calls read by the local engine, per inference region, per
/// (source region, model, route) and per inference region's first byte: what the percentiles are
/// checked against.
fn latencies(endpoint: &str, file: &str) -> BTreeMap<String, Vec<i64>> {
    let dir = tempdir();
    let sql = dir.path().join("l.sql");
    std::fs::write(
        &sql,
        "SELECT inference_region, source_region, model, route, latency_ms, first_byte_ms FROM invocations \
         WHERE error_code IS NULL AND inference_region IS NOT NULL",
    )
    .unwrap();
    let sql = sql.display().to_string();
    let run = aws::mila_at(
        endpoint,
        &["query", &sql, file, "--since", SINCE, "--until", UNTIL, "--format", "json", "--quiet"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        if let Some(ms) = r["latency_ms"].as_i64() {
            out.entry(format!("region {}", s("inference_region"))).or_default().push(ms);
            if s("route") != "unknown" {
                out.entry(format!("route {} {} {}", s("source_region"), s("model"), s("route"))).or_default().push(ms);
            }
        }
        if let Some(ms) = r["first_byte_ms"].as_i64() {
            out.entry(format!("first byte {}", s("inference_region"))).or_default().push(ms);
        }
    }
    out
}

#[test]
fn insights_check_lists_the_local_violations() {
    let (dir, _, server) = served_corpus();
    let group = GROUP;
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/policy.toml");
    let policy = policy.display().to_string();
    let args = ["--policy", &policy, "--since", SINCE, "--until", UNTIL, "--format", "csv", "--quiet"];
    let file = dir.path().join("events.jsonl").display().to_string();
    let mut local_args = vec!["check", file.as_str()];
    local_args.extend(args);
    let local = aws::mila_at(&server.url, &local_args);
    assert_eq!(local.code, 1, "the sample corpus breaks its policy: {}", local.stderr);
    let source = format!("cloudwatch:{group}");
    let mut insights_args = vec!["check", "--engine", "insights", &source, "--insights-limit", "25"];
    insights_args.extend(args);
    let insights = aws::mila_at(&server.url, &insights_args);
    assert_eq!(insights.code, 1, "{}", insights.stderr);
    assert_eq!(insights.stdout, local.stdout, "the same violating requests, in the same order");
    let summary =
        |r: &common::Run| r.stderr.lines().find(|l| l.contains("violations,")).unwrap_or_default().to_string();
    assert_eq!(summary(&insights), summary(&local));
    assert!(
        local.stdout.lines().count() > 25,
        "more violations than one result holds: {}",
        local.stdout.lines().count()
    );
}

/// `report --engine insights cloudwatch:g` over the test week, and `extra`.
fn week_report<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["report", "--engine", "insights", "cloudwatch:g", "--since", SINCE, "--until", UNTIL];
    args.extend(extra);
    args
}

#[test]
fn dry_run_prints_every_query_with_its_window_and_log_groups_and_starts_none() {
    let server = insights_over(Vec::new(), vec!["g".to_string()]);
    let run = aws::mila_at(&server.url, &week_report(&["--dry-run", "--by-metadata", "team"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.requests().is_empty(), "nothing starts");
    assert!(
        run.stderr.contains("mila: --dry-run: 8 Logs Insights queries over log group g (more where a window is split;"),
        "{}",
        run.stderr
    );
    let names: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("-- ")).collect();
    assert_eq!(
        names,
        ["events", "usage", "callers", "metadata", "operations", "minutes", "latency_region", "duplicates"]
    );
    assert_eq!(run.stdout.matches("# window 2026-11-09T00:00:00Z .. 2026-11-16T00:00:00Z ; log groups: g\nfilter @timestamp >= 1794182400000 and @timestamp < 1794787200000\n").count(), 8, "{}", run.stdout);
}

#[test]
fn splitting_without_end_stops_at_ten_thousand_queries_with_a_clear_error() {
    // Every window longer than a minute fills the limit: a week would take 20,159 queries (10,080
    // minutes); the question stops at the default bound of 10,000.
    let windows: Arc<Mutex<BTreeMap<String, (i64, i64)>>> = Arc::default();
    let server = Replay::start(move |r| {
        let b = body(r);
        match op(r) {
            "StartQuery" => {
                let (start, end) = (b["startTime"].as_i64().unwrap(), b["endTime"].as_i64().unwrap());
                let mut w = windows.lock().unwrap();
                let id = format!("q{}", w.len());
                w.insert(id.clone(), (start, end));
                ok(json!({"queryId": id}))
            }
            "GetQueryResults" => {
                let (start, end) = windows.lock().unwrap()[b["queryId"].as_str().unwrap()];
                let rows: Vec<Value> = if end - start > 60 {
                    (0..2).map(|i| row(&[("lines", &i.to_string())])).collect()
                } else {
                    Vec::new()
                };
                ok(json!({"status": "Complete", "results": rows, "statistics": {"bytesScanned": 10.0}}))
            }
            _ => error("InvalidParameterException", "unexpected operation"),
        }
    });
    let extra = ["--insights-limit", "2", "--insights-concurrency", "100", "--format", "json", "--quiet"];
    let run = aws::mila_at(&server.url, &week_report(&extra));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Logs Insights query `events`: the question needed more than 10000 queries (windows split "),
        "{}",
        run.stderr
    );
    // Never more than the bound; the last (up to 100, the concurrency) may not have been sent when
    // the question stopped.
    let starts = server.requests().iter().filter(|r| op(r) == "StartQuery").count();
    assert!((9_900..=10_000).contains(&starts), "{starts}");
}

#[test]
fn ctrl_c_stops_every_query_still_running() {
    // Queries never finish: the report's first query runs over the whole week, the others wait
    // for it; Ctrl-C stops it and ends the run.
    let server = Replay::start(move |r| {
        let b = body(r);
        match op(r) {
            "StartQuery" => ok(json!({"queryId": format!("q-{}", b["startTime"])})),
            "GetQueryResults" => ok(json!({"status": "Running", "results": []})),
            "StopQuery" => ok(json!({"success": true})),
            _ => error("InvalidParameterException", "unexpected operation"),
        }
    });
    let child = aws::spawn_mila(&server.url, &week_report(&["--quiet"]));
    let started = || server.requests().iter().filter(|r| op(r) == "GetQueryResults").count();
    for _ in 0..100 {
        if started() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(started() > 0, "the first query started and is polled");
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stops: Vec<Value> = server.requests().iter().filter(|r| op(r) == "StopQuery").map(body).collect();
    assert_eq!(stops, [json!({"queryId": "q-1794182400"})]);
}

// ---------------------------------------------------------------------------------------------
// Benchmark (issue 25's targets), not a test: `scripts/bench-insights` runs it. How many Logs Insights
// queries and splits a weekly report takes at 1M and 100M records a week, what they scan and cost,
// and how long mila itself takes over results of that size. Row counts are simulated (see `Traffic`).

/// A week's traffic as the simulation draws it: the rate of each minute (a day-night swing of
/// +-60% and weekends at half), and how many distinct keys each query's grain has, with Zipf
/// shares (exponent 1.1): the rows a query gives over a window are the keys it expects to see.
struct Traffic {
    per_week: f64,
    bytes_per_record: f64,
    /// Prefix sums of the records up to each minute of the week.
    cumulative: Vec<f64>,
}

const WEEK_MINUTES: usize = 10_080;

impl Traffic {
    fn new(per_week: f64, bytes_per_record: f64) -> Traffic {
        let weight = |m: usize| {
            let day = m / 1440;
            let hour = (m % 1440) as f64 / 60.0;
            let swing = 1.0 + 0.6 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin();
            swing * if day >= 5 { 0.5 } else { 1.0 }
        };
        let total: f64 = (0..WEEK_MINUTES).map(weight).sum();
        let mut cumulative = vec![0.0];
        for m in 0..WEEK_MINUTES {
            cumulative.push(cumulative[m] + per_week * weight(m) / total);
        }
        Traffic { per_week, bytes_per_record, cumulative }
    }
    fn records(&self, from_minute: usize, to_minute: usize) -> f64 {
        self.cumulative[to_minute.min(WEEK_MINUTES)] - self.cumulative[from_minute.min(WEEK_MINUTES)]
    }
}

/// Zipf shares of `k` keys.
fn zipf(k: usize) -> Vec<f64> {
    let w: Vec<f64> = (1..=k).map(|i| 1.0 / (i as f64).powf(1.1)).collect();
    let t: f64 = w.iter().sum();
    w.into_iter().map(|x| x / t).collect()
}

/// Keys expected among `n` records drawn with these shares.
fn distinct(shares: &[f64], n: f64) -> f64 {
    shares.iter().map(|s| 1.0 - (-n * s).exp()).sum()
}

/// The rows of one of the report's queries over minutes `[a, b)`.
enum Grain {
    One,
    PerDay(Vec<f64>),
    PerMinute(Vec<f64>),
    Window(Vec<f64>),
    Fraction(f64),
}

fn rows(grain: &Grain, t: &Traffic, a: usize, b: usize) -> f64 {
    match grain {
        Grain::One => 1.0,
        Grain::Window(shares) => distinct(shares, t.records(a, b)),
        Grain::Fraction(f) => f * t.records(a, b),
        Grain::PerDay(shares) => {
            let mut sum = 0.0;
            let mut d = a / 1440;
            while d * 1440 < b {
                sum += distinct(shares, t.records(a.max(d * 1440), b.min((d + 1) * 1440)));
                d += 1;
            }
            sum
        }
        // Every minute on its own, from a table of the rows of a minute of n records.
        Grain::PerMinute(shares) => (a..b).map(|m| distinct(shares, t.records(m, m + 1))).sum(),
    }
}

#[test]
#[ignore = "a benchmark: scripts/bench-insights runs it"]
#[allow(clippy::print_stdout)] // its table is its output
fn bench_insights_queries_per_weekly_report() {
    use mila::engine::insights::split::{split_all, MAX_ROWS};
    let usage = zipf(120);
    let minute_keys = zipf(60);
    let grains: Vec<(&str, Grain)> = vec![
        ("events", Grain::One),
        ("usage", Grain::PerDay(usage.clone())),
        ("callers", Grain::Window(zipf(1_200))),
        ("metadata", Grain::Window(zipf(1_000))),
        ("minutes", Grain::PerMinute(minute_keys.clone())),
        ("latency_region", Grain::Window(zipf(15))),
        ("duplicates", Grain::Fraction(0.0005)),
        ("latency_local", Grain::Window(zipf(60))),
        ("latency_rerouted", Grain::Window(zipf(40))),
    ];
    println!("| records a week | query | queries | windows split | GB scanned | USD |");
    println!("|---:|---|---:|---:|---:|---:|");
    for per_week in [1e6, 1e8] {
        // 3 KB a record: CloudWatch bills the events' uncompressed bytes.
        let t = Traffic::new(per_week, 3_000.0);
        let (mut all_queries, mut all_splits, mut all_bytes) = (0, 0, 0.0);
        for (name, grain) in &grains {
            let scanned = Arc::new(Mutex::new(0.0f64));
            let t = &t;
            let run = |span: Span| {
                let (a, b) = ((span.start / 60) as usize, (span.end / 60) as usize);
                let bytes = t.records(a, b) * t.bytes_per_record;
                *scanned.lock().unwrap() += bytes;
                let full = rows(grain, t, a, b) >= MAX_ROWS as f64;
                std::future::ready(Ok::<_, String>(if full { Outcome::Full } else { Outcome::Rows(()) }))
            };
            // The minutes are planned from the usage (`results::minute_windows`): a day's groups
            // and requests bound its rows a minute.
            let windows = if *name == "minutes" {
                let usage: Vec<mila::engine::insights::results::Row> = (0..7)
                    .flat_map(|d| {
                        let n = t.records(d * 1440, (d + 1) * 1440);
                        let groups = distinct(&minute_keys, n).round() as usize;
                        let at = chrono::DateTime::from_timestamp(d as i64 * 86_400, 0)
                            .unwrap()
                            .format("%Y-%m-%d %H:%M:%S.000")
                            .to_string();
                        (0..groups.max(1)).map(move |g| {
                            [
                                ("day", at.clone()),
                                ("m_region", format!("r{g}")),
                                ("requests", format!("{}", (n / groups.max(1) as f64).round())),
                            ]
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect()
                        })
                    })
                    .collect();
                mila::engine::insights::results::minute_windows(
                    &usage,
                    Span { start: 0, end: WEEK_MINUTES as i64 * 60 },
                    MAX_ROWS,
                )
                .unwrap()
            } else {
                vec![Span { start: 0, end: WEEK_MINUTES as i64 * 60 }]
            };
            let got = aws::block_on(split_all(windows, Bounds { concurrency: 10, max_queries: 100_000 }, run));
            let bytes = *scanned.lock().unwrap();
            match got {
                Ok(s) => {
                    println!(
                        "| {per_week:.0e} | {name} | {} | {} | {:.1} | {:.3} |",
                        s.queries,
                        s.splits,
                        bytes / 1e9,
                        bytes / 1e9 * 0.005
                    );
                    all_queries += s.queries;
                    all_splits += s.splits;
                    all_bytes += bytes;
                }
                Err(e) => println!("| {per_week:.0e} | {name} | error: {e} | | {:.1} | |", bytes / 1e9),
            }
        }
        println!(
            "| {:.0e} | **a report** | **{all_queries}** | **{all_splits}** | **{:.1}** | **{:.2}** |",
            t.per_week,
            all_bytes / 1e9,
            all_bytes / 1e9 * 0.005
        );
    }
    // mila's own part: the rows of the report's largest results (per-minute rows of 60 keys for
    // the week, the latency pairs) added up into the tables, timed.
    let profiles = mila::given::profiles::Profiles::default();
    for per_week in [1e6, 1e8] {
        let t = Traffic::new(per_week, 3_000.0);
        let regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"];
        let models = [
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "amazon.nova-lite-v1:0",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        ];
        let key = |i: usize| (regions[i % 5], models[i % 3], regions[(i / 3) % 5]);
        let mut minutes = Vec::new();
        let shares = zipf(60);
        for m in 0..WEEK_MINUTES {
            let n = distinct(&shares, t.records(m, m + 1)).round() as usize;
            for i in 0..n.min(60) {
                let (r, id, ir) = key(i);
                let at = chrono::DateTime::from_timestamp(m as i64 * 60, 0)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S.000")
                    .to_string();
                minutes.push(
                    [
                        ("minute", at),
                        ("m_region", r.into()),
                        ("m_model", id.into()),
                        ("m_inference", ir.into()),
                        ("requests", "3".into()),
                        ("tokens_once", "900".into()),
                        ("output_tokens", "300".into()),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                );
            }
        }
        let mut by_name = BTreeMap::new();
        let n_minutes = minutes.len();
        by_name.insert("minutes", minutes);
        by_name.insert("usage", Vec::new());
        by_name.insert("callers", Vec::new());
        let groups = ["g".to_string()];
        let answers = mila::engine::insights::results::Answers {
            by_name,
            profiles: &profiles,
            log_groups: &groups,
            metadata_keys: &[],
        };
        let started = std::time::Instant::now();
        let tables = answers.tables().unwrap();
        println!(
            "mila over {per_week:.0e} records a week: {n_minutes} minute rows into {} tables in {:.2} s",
            tables.len(),
            started.elapsed().as_secs_f64()
        );
    }
}
